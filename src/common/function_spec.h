// What a deployed function version is: its settings (spec.json) and where its library lives.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sofaas {

// A custom HTTP route declared at deploy: "GET /items/{id}". Method "ANY" matches all.
struct Route {
    std::string method;
    std::string path;
    bool operator==(const Route&) const = default;
};

// Who may call a function's HTTP endpoints: anyone, a caller with an API key that may
// invoke it (or the admin token), or a caller with an access token of a user pool (jwt:
// FunctionSpec::jwt_pool, and jwt_scope when set); the credential never reaches the
// function.
enum class AuthMode { none, key, jwt };

// Lambda's: 512 MB by default, up to 10 GB.
inline constexpr uint32_t default_ephemeral_storage_mb = 512;
inline constexpr uint32_t max_ephemeral_storage_mb = 10240;

// Lambda's: 0..2 retries, events from 60 s to 6 h old.
inline constexpr uint32_t default_async_retries = 2;
inline constexpr uint32_t max_async_retries = 2;
inline constexpr uint32_t min_event_age_s = 60;
inline constexpr uint32_t default_max_event_age_s = 6 * 3600;

struct FunctionSpec {
    std::string name;
    uint32_t version = 0;
    std::string handler = "sofaas_handler";
    uint32_t memory_mb = 128;
    uint32_t timeout_s = 3;
    // The environment's /tmp (with /var/tmp and /dev/shm), as Lambda's EphemeralStorage.
    uint32_t ephemeral_storage_mb = default_ephemeral_storage_mb;
    std::vector<std::pair<std::string, std::string>> env;
    std::vector<Route> routes;
    uint32_t min_warm = 0;
    uint32_t max_concurrency = 100;
    AuthMode auth = AuthMode::none;
    std::string jwt_pool;   // auth jwt: the user pool whose access tokens are accepted
    std::string jwt_scope;  // auth jwt: a scope the token must carry; "" for none
    // Anonymous callers of its HTTP endpoints see its failures as the control API shows them
    // (errorType, errorMessage, the X-Sofaas-* headers) instead of API Gateway's generic ones.
    bool expose_errors = false;
    // Queued events (asynchronous invocations, schedule firings), as Lambda's event invoke
    // config: a function failure is run again up to async_retries times; an event older than
    // max_event_age_s is not run any more. Then a destination function, if named, gets
    // Lambda's invocation record as an event of its own; else the event is a dead letter.
    uint32_t async_retries = default_async_retries;
    uint32_t max_event_age_s = default_max_event_age_s;
    std::string on_success;  // a function name, or "" for none
    std::string on_failure;
    std::string sha256;        // of function.so
    uint64_t size_bytes = 0;   // of function.so
    std::string created_at;    // RFC 3339
};

// A published, immutable version: the spec plus the path of its function.so.
struct FunctionVersion {
    FunctionSpec spec;
    std::filesystem::path library;
};
using FunctionVersionPtr = std::shared_ptr<const FunctionVersion>;

// Function names: [A-Za-z0-9_-]{1,64}. Anything else could escape the data directory.
bool is_valid_function_name(std::string_view name);

std::string_view to_string(AuthMode mode);

// spec.json (de)serialisation. from_json throws std::runtime_error naming the bad field.
std::string spec_to_json(const FunctionSpec& spec);
FunctionSpec spec_from_json(std::string_view json);

}  // namespace sofaas
