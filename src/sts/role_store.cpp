#include "sts/role_store.h"

#include <algorithm>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>

#include "common/file_io.h"
#include "common/function_spec.h"

namespace sofaas {
namespace {

using nlohmann::json;

constexpr size_t max_grants_per_role = 100;
constexpr size_t max_trusted_pools_per_role = 20;
constexpr size_t max_issuer_length = 2048;

// A user pool's name follows the rule of function names; an external provider is named by
// its issuer URL, printable ASCII without blanks.
bool is_trusted_pool_text(std::string_view text) {
    if (is_valid_function_name(text)) return true;
    if (!text.starts_with("https://") && !text.starts_with("http://")) return false;
    return text.size() <= max_issuer_length &&
           std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

json role_to_json(const Role& role) {
    json grants = json::array();
    for (const auto& grant : role.grants) grants.push_back(grant.text());
    return {{"name", role.name},
            {"invoke", grants},
            {"max_session_s", role.max_session.count()},
            {"trusted_pools", role.trusted_pools},
            {"created", format_rfc3339(role.created)}};
}

Role role_from_json(const json& object) {
    Role role;
    role.name = object.at("name").get<std::string>();
    for (const auto& text : object.at("invoke")) {
        std::string why;
        auto grant = parse_invoke_grant(text.get<std::string>(), &why);
        if (!grant) throw std::runtime_error("role " + role.name + ": " + why);
        role.grants.push_back(std::move(*grant));
    }
    role.max_session = std::chrono::seconds(object.at("max_session_s").get<int64_t>());
    role.trusted_pools = object.at("trusted_pools").get<std::vector<std::string>>();
    role.created = parse_time_spec(object.at("created").get<std::string>(), WallTime{}).value_or(WallTime{});
    return role;
}

void check_role(Role& role) {
    const auto invalid = [](const std::string& message) { throw RoleError(RoleError::Kind::invalid, message); };
    // Role names follow the rule of function names: they appear in ARNs, paths and logs.
    if (!is_valid_function_name(role.name)) invalid("Role names are 1-64 characters of A-Z a-z 0-9 _ -");
    if (role.grants.empty()) invalid("A role grants invoking at least one function (--invoke FUNCTION[:QUALIFIER])");
    if (role.grants.size() > max_grants_per_role) {
        invalid("A role grants at most " + std::to_string(max_grants_per_role) + " functions");
    }
    if (role.max_session < min_session_duration || role.max_session > max_session_duration) {
        invalid("The maximum session is 900 to 43200 seconds (15 minutes to 12 hours), not " +
                std::to_string(role.max_session.count()));
    }
    if (role.trusted_pools.empty()) {
        invalid("A role trusts the ID tokens of at least one user pool or provider (--trust-pool POOL)");
    }
    if (role.trusted_pools.size() > max_trusted_pools_per_role) {
        invalid("A role trusts at most " + std::to_string(max_trusted_pools_per_role) + " pools");
    }
    for (const auto& pool : role.trusted_pools) {
        if (!is_trusted_pool_text(pool)) {
            invalid("Not a user pool name or an issuer URL: '" + pool.substr(0, 80) + "'");
        }
    }
    std::sort(role.grants.begin(), role.grants.end(),
              [](const InvokeGrant& a, const InvokeGrant& b) { return a.text() < b.text(); });
    role.grants.erase(std::unique(role.grants.begin(), role.grants.end()), role.grants.end());
    std::sort(role.trusted_pools.begin(), role.trusted_pools.end());
    role.trusted_pools.erase(std::unique(role.trusted_pools.begin(), role.trusted_pools.end()),
                             role.trusted_pools.end());
}

}  // namespace

struct RoleStore::State {
    std::filesystem::path file;
    mutable std::mutex mutex;
    std::map<std::string, Role, std::less<>> by_name;

    // Called with the mutex held; the file is replaced whole.
    void save() const {
        json roles = json::array();
        for (const auto& [name, role] : by_name) roles.push_back(role_to_json(role));
        replace_file_atomically(file, json{{"roles", roles}}.dump(2) + "\n", 0600);
    }
};

RoleStore::RoleStore(std::filesystem::path file) : state_(std::make_unique<State>()) {
    state_->file = std::move(file);
    std::error_code missing;
    if (!std::filesystem::exists(state_->file, missing)) return;
    const json contents = json::parse(read_whole_file(state_->file), nullptr, false);
    if (!contents.is_object() || !contents.contains("roles") || !contents["roles"].is_array())
        throw std::runtime_error(state_->file.string() + " is not a role file");
    try {
        for (const auto& object : contents["roles"]) {
            Role role = role_from_json(object);
            state_->by_name.emplace(role.name, std::move(role));
        }
    } catch (const std::exception& error) {
        throw std::runtime_error(state_->file.string() + ": " + error.what());
    }
}

RoleStore::~RoleStore() = default;

Role RoleStore::create(Role role) {
    check_role(role);
    role.created = wall_now();
    std::lock_guard lock(state_->mutex);
    if (state_->by_name.count(role.name)) {
        throw RoleError(RoleError::Kind::exists, "A role named '" + role.name + "' exists");
    }
    state_->by_name.emplace(role.name, role);
    try {
        state_->save();
    } catch (...) {
        state_->by_name.erase(role.name);
        throw;
    }
    return role;
}

void RoleStore::remove(const std::string& name) {
    std::lock_guard lock(state_->mutex);
    const auto found = state_->by_name.find(name);
    if (found == state_->by_name.end()) throw RoleError(RoleError::Kind::not_found, "No role named '" + name + "'");
    Role removed = std::move(found->second);
    state_->by_name.erase(found);
    try {
        state_->save();
    } catch (...) {
        state_->by_name.emplace(removed.name, std::move(removed));
        throw;
    }
}

std::optional<Role> RoleStore::find(std::string_view name) const {
    std::lock_guard lock(state_->mutex);
    const auto found = state_->by_name.find(name);
    if (found == state_->by_name.end()) return std::nullopt;
    return found->second;
}

std::vector<Role> RoleStore::list() const {
    std::vector<Role> roles;
    std::lock_guard lock(state_->mutex);
    for (const auto& [name, role] : state_->by_name) roles.push_back(role);
    return roles;
}

}  // namespace sofaas
