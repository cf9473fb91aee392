// A registry shared by the nodes of a cluster. A change made on one node (a version
// published, an alias set or deleted, a function deleted) is first recorded in the
// journal, in one order for the whole cluster; every node, the one that made it included,
// then applies the journal's changes to its own Registry in that order (Registry::apply_*).
// Version numbers are given by the journal, so they are the same on every node.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/function_spec.h"

namespace sofaas {

struct Alias;

class RegistryJournal {
public:
    virtual ~RegistryJournal() = default;

    // Each records one change and returns once this node's registry has applied it. They
    // throw RegistryError: conflict (`based_on`, when not 0, is no longer the function's
    // latest version), not_found (no such function or version), unavailable (the journal
    // cannot be reached: nothing changed), storage (recorded, but this node's disk failed
    // to apply it: it will again).
    //
    // A new version of spec.name, its library at `library`; returns its number.
    virtual uint32_t record_version(const FunctionSpec& spec, const std::filesystem::path& library,
                                    uint32_t based_on) = 0;
    // Creates or replaces an alias; true when it created one.
    virtual bool record_alias(std::string_view function, const Alias& alias) = 0;
    // false when there was no such alias.
    virtual bool record_alias_removal(std::string_view function, std::string_view name) = 0;
    // false when there was no such function.
    virtual bool record_removal(std::string_view function) = 0;
};

}  // namespace sofaas
