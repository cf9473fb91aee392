// API keys: credentials an operator hands out instead of the admin token. A key has a
// name, a public access key id and a secret (shown once, when it is created), and a scope:
// `admin` (the whole control API), `invoke` (calling functions: those it names, or every
// function when it names none) or `metrics` (reading GET /metrics, nothing else: what a
// Prometheus server is given). The pair (id, secret) is what AWS calls an access key, so
// the same key can sign requests with AWS Signature Version 4.
//
// Keys live in one file under DATA, mode 0600, replaced atomically on every change.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace sofaas {

enum class KeyScope { admin, invoke, metrics };
std::string_view to_string(KeyScope scope);
std::optional<KeyScope> parse_key_scope(std::string_view text);

// What may be shown of a key after its creation: everything but the secret.
struct ApiKey {
    std::string name;
    std::string access_key_id;
    KeyScope scope = KeyScope::invoke;
    std::vector<std::string> functions;  // invoke scope: empty = every function; others: empty
    WallTime created;

    bool may_invoke(std::string_view function) const;
};

struct CreatedKey {
    ApiKey key;
    std::string secret_access_key;  // the only time it is given out
};

// A key operation refused, with why. The gateway maps the kind to a status code.
class KeyError : public std::runtime_error {
public:
    enum class Kind {
        invalid,
        exists,
        not_found,
        unavailable,  // a cluster's shared key set cannot be reached now: nothing changed
    };
    KeyError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

// Compares a secret someone sent with the one expected in time that depends only on the
// expected one's length, so timing does not tell how much of a guess was right.
bool secrets_equal(std::string_view given, std::string_view expected);

// A key set shared by the nodes of a cluster: a key created or deleted on one node is
// recorded here first, and every node, that one included, applies the change to its own
// KeyStore (apply_created, apply_removed) before the call that made it returns.
class KeyJournal {
public:
    virtual ~KeyJournal() = default;
    // Throw KeyError: exists (the name is taken in the cluster), not_found, unavailable.
    virtual void record_created(const CreatedKey& key) = 0;
    virtual void record_removed(const std::string& name) = 0;
};

// A key with its secret as JSON text, for a journal. key_from_text throws std::exception
// when the text is not one.
std::string key_to_text(const CreatedKey& key);
CreatedKey key_from_text(std::string_view text);

// Thread-safe: io threads verify while the control API creates and deletes.
class KeyStore {
public:
    // Loads `file` if it exists. Throws std::runtime_error when it exists but is unreadable.
    explicit KeyStore(std::filesystem::path file);
    ~KeyStore();
    KeyStore(const KeyStore&) = delete;
    KeyStore& operator=(const KeyStore&) = delete;

    // Throws KeyError: invalid (bad name, an admin key limited to functions, a bad function
    // name), exists (the name is taken).
    CreatedKey create(const std::string& name, KeyScope scope, std::vector<std::string> functions);
    // Throws KeyError (not_found).
    void remove(const std::string& name);
    std::vector<ApiKey> list() const;  // by name

    // The key with this id whose secret this is.
    std::optional<ApiKey> verify(std::string_view access_key_id, std::string_view secret) const;
    // The secret of a key id, for signatures computed with it (SigV4).
    std::optional<CreatedKey> find(std::string_view access_key_id) const;

    // A node of a cluster: create() and remove() go through `journal` (not owned; it
    // outlives this use). Set before serving.
    void use_journal(KeyJournal* journal);
    // Applying a journal's change here; a change already in force is a no-op. Throw
    // std::runtime_error when the key file cannot be written.
    void apply_created(const CreatedKey& key);
    void apply_removed(std::string_view name);

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas
