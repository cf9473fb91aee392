// The registry of a cluster, shared in PostgreSQL: functions, versions, aliases and API
// keys are changed through any node and in force on every node.
//
// Each change goes into the table registry_changes, one at a time for the whole cluster
// (an advisory lock), so its ids are the order in which every node applies them to its
// own Registry (registry/registry_journal.h). A library is stored once, by its SHA-256, in
// registry_artifacts, and kept on each node's disk under that name (DATA/cluster/
// artifacts/), where its versions are hard-linked from. A node learns of a change by
// LISTEN/NOTIFY, and looks once a second anyway; the change it makes itself is applied
// before its request is answered. The id of the last change applied is kept on disk, so
// a restarted node applies only what it missed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/function_spec.h"
#include "keys/api_keys.h"
#include "registry/registry_journal.h"

namespace sofaas {

class Registry;

// What a node does when a change is applied here, whichever node made it.
struct AppliedRegistryChange {
    enum class Kind { version, alias, alias_removed, function_removed, key_created, key_removed };
    Kind kind = Kind::version;
    std::string function;
    FunctionVersionPtr version;  // Kind::version: the version applied
    uint32_t replaced = 0;       // Kind::version: the version that was $LATEST until now, or 0
};

class SharedRegistry final : public RegistryJournal, public KeyJournal {
public:
    // Connects, brings the registry tables up to date and applies to `registry` and `keys`
    // every change recorded since this node last applied one (`state_dir` keeps that
    // position and the libraries). Throws PostgresError (the database) or RegistryError
    // (the disk).
    SharedRegistry(std::string database_url, Registry& registry, KeyStore& keys, std::filesystem::path state_dir);
    ~SharedRegistry() override;
    SharedRegistry(const SharedRegistry&) = delete;
    SharedRegistry& operator=(const SharedRegistry&) = delete;

    // Starts following the other nodes' changes; `applied` is called after each change is
    // applied here (on the thread that applied it). Call once, before serving.
    void start(std::function<void(const AppliedRegistryChange&)> applied);
    // The daemon drains: no other node's change is applied from now on. Does not wait.
    void stop_following();
    void stop();  // and waits for the follower's thread

    // The id of the last change applied here.
    uint64_t applied_position() const;

    uint32_t record_version(const FunctionSpec& spec, const std::filesystem::path& library,
                            uint32_t based_on) override;
    bool record_alias(std::string_view function, const Alias& alias) override;
    bool record_alias_removal(std::string_view function, std::string_view name) override;
    bool record_removal(std::string_view function) override;
    // A key's secret is in the database as long as the key exists: the nodes verify
    // signatures with it.
    void record_created(const CreatedKey& key) override;
    void record_removed(const std::string& name) override;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace sofaas
