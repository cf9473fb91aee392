// One connection to a PostgreSQL server, the shared store of a cluster of sofaasd nodes.
// Values only ever travel as parameters of a statement ($1, $2, ...), never inside its
// text. A connection the server dropped (it restarted, a network fault) fails the call
// that found out, and is made again on the next call.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

struct pg_conn;
struct pg_result;

namespace sofaas {

class PostgresError : public std::runtime_error {
public:
    enum class Kind {
        connection,  // no connection (bad URL, unreachable, refused, dropped): the call did not happen
        conflict,    // a constraint held (unique, foreign key, check)
        retry,       // a serialization failure or a deadlock: the transaction may be run again
        statement,   // the statement itself failed (syntax, types, an aborted transaction)
    };
    PostgresError(Kind kind, std::string sqlstate, const std::string& message)
        : std::runtime_error(message), kind_(kind), sqlstate_(std::move(sqlstate)) {}
    Kind kind() const { return kind_; }
    const std::string& sqlstate() const { return sqlstate_; }  // empty for connection errors

private:
    Kind kind_;
    std::string sqlstate_;
};

// Bound as BYTEA: bytes that need not be text in the database's encoding.
struct Bytes {
    std::string_view bytes;
};

// One parameter: NULL, a 64-bit integer, text or bytes.
class PostgresValue {
public:
    PostgresValue(std::nullopt_t) {}
    PostgresValue(std::string_view text) : text_(text), null_(false) {}
    PostgresValue(const std::string& text) : text_(text), null_(false) {}
    PostgresValue(const char* text) : text_(text), null_(false) {}
    PostgresValue(Bytes bytes) : text_(bytes.bytes), null_(false), binary_(true) {}
    PostgresValue(bool flag) : owned_(flag ? "1" : "0"), null_(false) { text_ = owned_; }
    template <typename Integer, typename = std::enable_if_t<std::is_integral_v<Integer>>>
    PostgresValue(Integer number) : owned_(std::to_string(number)), null_(false) {
        text_ = owned_;
    }
    template <typename Value>
    PostgresValue(const std::optional<Value>& value) : PostgresValue(std::nullopt) {
        if (value) *this = PostgresValue(*value);
    }
    PostgresValue(const PostgresValue& other) { *this = other; }
    PostgresValue& operator=(const PostgresValue& other) {
        owned_ = other.owned_;
        text_ = other.text_.data() == other.owned_.data() ? std::string_view(owned_) : other.text_;
        null_ = other.null_;
        binary_ = other.binary_;
        return *this;
    }

    bool is_null() const { return null_; }
    bool is_binary() const { return binary_; }
    std::string_view bytes() const { return text_; }

private:
    std::string owned_;  // a number's digits
    std::string_view text_;
    bool null_ = true;
    bool binary_ = false;
};

// A statement's rows, read by row and column. Text columns come as they are stored;
// BYTEA columns through bytes().
class PostgresRows {
public:
    explicit PostgresRows(pg_result* result);
    ~PostgresRows();
    PostgresRows(PostgresRows&& other) noexcept;
    PostgresRows& operator=(PostgresRows&&) = delete;
    PostgresRows(const PostgresRows&) = delete;

    size_t size() const;  // rows returned
    bool empty() const { return size() == 0; }
    uint64_t affected() const;  // rows an INSERT, UPDATE or DELETE changed

    bool is_null(size_t row, int column) const;
    int64_t integer(size_t row, int column) const;
    std::string text(size_t row, int column) const;
    std::string bytes(size_t row, int column) const;  // a BYTEA column, decoded
    std::optional<std::string> optional_text(size_t row, int column) const;
    std::optional<std::string> optional_bytes(size_t row, int column) const;

private:
    pg_result* result_;
};

class PostgresConnection {
public:
    // Connects to `url` (postgresql://USER@HOST:PORT/DATABASE?..., as libpq reads it).
    // Throws PostgresError(connection) naming the server's answer, never the password.
    explicit PostgresConnection(std::string url);
    ~PostgresConnection();
    PostgresConnection(const PostgresConnection&) = delete;
    PostgresConnection& operator=(const PostgresConnection&) = delete;

    // Runs one statement with its parameters. Throws PostgresError; a connection found
    // dropped is made again on the next call (outside a transaction the call may then
    // simply be repeated).
    PostgresRows run(std::string_view sql, std::initializer_list<PostgresValue> parameters = {});
    PostgresRows run(std::string_view sql, const std::vector<PostgresValue>& parameters);
    // Several statements without parameters (a schema migration).
    void run_script(std::string_view sql);

    void begin();
    void commit();
    void rollback();  // nothing to do when the transaction is already gone with its connection
    bool in_transaction() const;

    // Runs `work` in a transaction, committed when it returns and rolled back when it
    // throws.
    template <typename Work>
    auto transaction(Work work) -> decltype(work()) {
        begin();
        try {
            if constexpr (std::is_void_v<decltype(work())>) {
                work();
                commit();
            } else {
                auto result = work();
                commit();
                return result;
            }
        } catch (...) {
            rollback();
            throw;
        }
    }

    // After LISTEN: waits up to `timeout` for a notification on a channel this connection
    // listens on, or until `interrupt_fd` (when not -1) is readable. Returns the payloads
    // that came, empty on a timeout or an interruption. Throws PostgresError(connection)
    // when the connection broke: the LISTEN ended with it.
    std::vector<std::string> wait_for_notifications(std::chrono::milliseconds timeout, int interrupt_fd = -1);

    // The value of a libpq connection setting in force ("connect_timeout", ...); empty when
    // unset. A connection made by sofaas fails a call to a server that stopped answering
    // within about half a minute (connect_timeout 10 s, TCP keepalives, tcp_user_timeout
    // 30 s) unless its URL says otherwise.
    std::string setting(std::string_view keyword) const;

    // Where it connects, without the password: for log lines and errors.
    const std::string& server() const { return server_; }

private:
    void ensure_connected();
    PostgresRows checked(pg_result* result);

    std::string url_;
    std::string server_;
    pg_conn* connection_ = nullptr;
};

// "postgresql://" or "postgres://": a URL names a PostgreSQL store.
bool is_postgres_url(std::string_view text);

}  // namespace sofaas
