// The roles of this sofaas: created and deleted by an admin, read by the STS endpoint and
// by every request signed with temporary credentials. DATA/roles.json, mode 0600 (it says
// who may get credentials), replaced atomically on every change.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sts/role.h"

namespace sofaas {

// A role operation refused, with why. The gateway maps the kind to a status code.
class RoleError : public std::runtime_error {
public:
    enum class Kind { invalid, exists, not_found };
    RoleError(Kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    Kind kind() const { return kind_; }

private:
    Kind kind_;
};

// Thread-safe.
class RoleStore {
public:
    // Loads `file` if it exists. Throws std::runtime_error when it exists but is unreadable.
    explicit RoleStore(std::filesystem::path file);
    ~RoleStore();
    RoleStore(const RoleStore&) = delete;
    RoleStore& operator=(const RoleStore&) = delete;

    // Throws RoleError: invalid (a bad name, no grant, a session limit outside 900 s..12 h,
    // no trusted pool or a bad one), exists. Sets `created`; grants and pools are kept
    // sorted and without duplicates.
    Role create(Role role);
    // Throws RoleError (not_found).
    void remove(const std::string& name);
    std::optional<Role> find(std::string_view name) const;
    std::vector<Role> list() const;  // by name

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas
