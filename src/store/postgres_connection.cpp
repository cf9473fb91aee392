#include "store/postgres_connection.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace sofaas {

namespace {

std::string trimmed(const char* message) {
    std::string text = message ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    return text;
}

// Which kind of failure a SQLSTATE is (PostgreSQL's appendix A classes).
PostgresError::Kind kind_of(const std::string& sqlstate) {
    if (sqlstate.rfind("08", 0) == 0 || sqlstate.rfind("57P", 0) == 0) return PostgresError::Kind::connection;
    if (sqlstate.rfind("23", 0) == 0) return PostgresError::Kind::conflict;
    if (sqlstate == "40001" || sqlstate == "40P01") return PostgresError::Kind::retry;
    return PostgresError::Kind::statement;
}

// The URL's host, port and database as libpq understood them: never its password.
std::string describe(pg_conn* connection) {
    std::string host = PQhost(connection) ? PQhost(connection) : "";
    std::string port = PQport(connection) ? PQport(connection) : "";
    std::string database = PQdb(connection) ? PQdb(connection) : "";
    return "postgresql " + host + ":" + port + "/" + database;
}

// The URL with its password (in the user part, or a password= parameter) blanked out:
// libpq quotes a URL it cannot parse whole.
std::string without_password(const std::string& url) {
    std::string text = url;
    const size_t scheme_end = text.find("://");
    if (scheme_end != std::string::npos) {
        const size_t authority = scheme_end + 3;
        const size_t authority_end = std::min(text.find_first_of("/?#", authority), text.size());
        const size_t at = text.rfind('@', authority_end);
        if (at != std::string::npos && at >= authority) {
            const size_t colon = text.find(':', authority);
            if (colon != std::string::npos && colon < at) text.replace(colon + 1, at - colon - 1, "***");
        }
    }
    for (size_t found = text.find("password="); found != std::string::npos; found = text.find("password=", found + 1)) {
        const size_t value = found + 9;
        const size_t value_end = std::min(text.find_first_of("&# ", value), text.size());
        text.replace(value, value_end - value, "***");
    }
    return text;
}

// `message` with every quotation of `url` replaced by its form without the password.
std::string scrubbed(std::string message, const std::string& url) {
    const std::string safe = without_password(url);
    for (size_t found = message.find(url); found != std::string::npos; found = message.find(url, found + safe.size())) {
        message.replace(found, url.size(), safe);
    }
    return message;
}

}  // namespace

bool is_postgres_url(std::string_view text) {
    return text.rfind("postgresql://", 0) == 0 || text.rfind("postgres://", 0) == 0;
}

PostgresRows::PostgresRows(pg_result* result) : result_(result) {}
PostgresRows::~PostgresRows() { PQclear(result_); }
PostgresRows::PostgresRows(PostgresRows&& other) noexcept : result_(other.result_) { other.result_ = nullptr; }

size_t PostgresRows::size() const { return static_cast<size_t>(PQntuples(result_)); }

uint64_t PostgresRows::affected() const {
    const char* count = PQcmdTuples(result_);
    return count && *count ? std::strtoull(count, nullptr, 10) : 0;
}

bool PostgresRows::is_null(size_t row, int column) const {
    return PQgetisnull(result_, static_cast<int>(row), column) != 0;
}

int64_t PostgresRows::integer(size_t row, int column) const {
    if (is_null(row, column)) return 0;
    return std::strtoll(PQgetvalue(result_, static_cast<int>(row), column), nullptr, 10);
}

std::string PostgresRows::text(size_t row, int column) const {
    return std::string(PQgetvalue(result_, static_cast<int>(row), column),
                       static_cast<size_t>(PQgetlength(result_, static_cast<int>(row), column)));
}

std::string PostgresRows::bytes(size_t row, int column) const {
    if (is_null(row, column)) return {};
    size_t length = 0;
    unsigned char* decoded = PQunescapeBytea(
        reinterpret_cast<const unsigned char*>(PQgetvalue(result_, static_cast<int>(row), column)), &length);
    if (!decoded) throw PostgresError(PostgresError::Kind::statement, "", "a BYTEA value could not be decoded");
    std::string value(reinterpret_cast<const char*>(decoded), length);
    PQfreemem(decoded);
    return value;
}

std::optional<std::string> PostgresRows::optional_text(size_t row, int column) const {
    if (is_null(row, column)) return std::nullopt;
    return text(row, column);
}

std::optional<std::string> PostgresRows::optional_bytes(size_t row, int column) const {
    if (is_null(row, column)) return std::nullopt;
    return bytes(row, column);
}

PostgresConnection::PostgresConnection(std::string url) : url_(std::move(url)) {
    if (!is_postgres_url(url_)) {
        throw PostgresError(PostgresError::Kind::connection, "", "not a postgresql:// URL");
    }
    // libpq parses the URL before connecting: a malformed one fails with no server named.
    char* parse_error = nullptr;
    PQconninfoOption* options = PQconninfoParse(url_.c_str(), &parse_error);
    if (!options) {
        std::string why = scrubbed(trimmed(parse_error), url_);
        PQfreemem(parse_error);
        throw PostgresError(PostgresError::Kind::connection, "", "invalid PostgreSQL URL: " + why);
    }
    PQconninfoFree(options);
    try {
        ensure_connected();
    } catch (...) {
        // libpq returns a connection object even when it could not connect; no destructor
        // runs for an object whose constructor threw.
        if (connection_) PQfinish(connection_);
        throw;
    }
}

PostgresConnection::~PostgresConnection() {
    if (connection_) PQfinish(connection_);
}

void PostgresConnection::ensure_connected() {
    if (connection_ && PQstatus(connection_) == CONNECTION_OK) return;
    if (connection_) {
        PQreset(connection_);
    } else {
        // A server that stops answering (a network partition, a half-open connection) fails
        // a call within about half a minute instead of hanging it. Defaults: the URL's own
        // settings, expanded after them, win.
        const char* keywords[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                                  "tcp_user_timeout", "dbname", nullptr};
        const char* values[] = {"10", "10", "5", "3", "30000", url_.c_str(), nullptr};
        connection_ = PQconnectdbParams(keywords, values, 1);
    }
    if (!connection_) throw PostgresError(PostgresError::Kind::connection, "", "out of memory connecting to PostgreSQL");
    server_ = describe(connection_);
    if (PQstatus(connection_) != CONNECTION_OK) {
        throw PostgresError(PostgresError::Kind::connection, "",
                            "cannot connect to " + server_ + ": " + scrubbed(trimmed(PQerrorMessage(connection_)), url_));
    }
}

std::string PostgresConnection::setting(std::string_view keyword) const {
    if (!connection_) return "";
    PQconninfoOption* options = PQconninfo(connection_);
    if (!options) return "";
    std::string value;
    for (PQconninfoOption* option = options; option->keyword; ++option) {
        if (keyword == option->keyword && option->val) value = option->val;
    }
    PQconninfoFree(options);
    return value;
}

std::vector<std::string> PostgresConnection::wait_for_notifications(std::chrono::milliseconds timeout,
                                                                     int interrupt_fd) {
    ensure_connected();
    const auto broken = [&] {
        return PostgresError(PostgresError::Kind::connection, "",
                             "lost the connection to " + server_ + ": " + trimmed(PQerrorMessage(connection_)));
    };
    const auto take = [&] {
        std::vector<std::string> payloads;
        while (PGnotify* notification = PQnotifies(connection_)) {
            payloads.emplace_back(notification->extra ? notification->extra : "");
            PQfreemem(notification);
        }
        return payloads;
    };
    if (PQconsumeInput(connection_) == 0) throw broken();
    if (auto payloads = take(); !payloads.empty()) return payloads;

    pollfd fds[2] = {{PQsocket(connection_), POLLIN, 0}, {interrupt_fd, POLLIN, 0}};
    const int ready = ::poll(fds, interrupt_fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
    if (ready <= 0 || !(fds[0].revents & (POLLIN | POLLERR | POLLHUP))) return {};
    if (PQconsumeInput(connection_) == 0 || PQstatus(connection_) != CONNECTION_OK) throw broken();
    return take();
}

PostgresRows PostgresConnection::checked(pg_result* result) {
    const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return PostgresRows(result);
    std::string sqlstate;
    std::string message;
    if (result) {
        const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
        sqlstate = state ? state : "";
        message = trimmed(PQresultErrorMessage(result));
        PQclear(result);
    }
    if (message.empty()) message = trimmed(PQerrorMessage(connection_));
    // A connection that broke midway has no SQLSTATE; libpq marks it bad.
    if (PQstatus(connection_) != CONNECTION_OK) {
        throw PostgresError(PostgresError::Kind::connection, sqlstate,
                            "lost the connection to " + server_ + ": " + message);
    }
    throw PostgresError(kind_of(sqlstate), sqlstate, message);
}

PostgresRows PostgresConnection::run(std::string_view sql, std::initializer_list<PostgresValue> parameters) {
    return run(sql, std::vector<PostgresValue>(parameters));
}

PostgresRows PostgresConnection::run(std::string_view sql, const std::vector<PostgresValue>& parameters) {
    ensure_connected();
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    values.reserve(parameters.size());
    for (const PostgresValue& parameter : parameters) {
        values.push_back(parameter.is_null() ? nullptr : parameter.bytes().data());
        lengths.push_back(static_cast<int>(parameter.bytes().size()));
        formats.push_back(parameter.is_binary() ? 1 : 0);
    }
    // Text parameters are read up to their NUL; string_views need not end with one.
    std::vector<std::string> terminated;
    terminated.reserve(parameters.size());
    for (size_t i = 0; i < parameters.size(); ++i) {
        if (values[i] && formats[i] == 0) {
            terminated.emplace_back(parameters.begin()[i].bytes());
            values[i] = terminated.back().c_str();
        }
    }
    const std::string statement(sql);
    return checked(PQexecParams(connection_, statement.c_str(), static_cast<int>(values.size()), nullptr,
                                values.data(), lengths.data(), formats.data(), 0));
}

void PostgresConnection::run_script(std::string_view sql) {
    ensure_connected();
    const std::string script(sql);
    checked(PQexec(connection_, script.c_str()));
}

void PostgresConnection::begin() { run("BEGIN"); }
void PostgresConnection::commit() { run("COMMIT"); }

void PostgresConnection::rollback() {
    // A dropped connection took its transaction with it.
    if (!connection_ || PQstatus(connection_) != CONNECTION_OK) return;
    if (PQtransactionStatus(connection_) == PQTRANS_IDLE) return;
    run("ROLLBACK");
}

bool PostgresConnection::in_transaction() const {
    if (!connection_ || PQstatus(connection_) != CONNECTION_OK) return false;
    const PGTransactionStatusType status = PQtransactionStatus(connection_);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
}

}  // namespace sofaas
