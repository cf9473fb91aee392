#include "cluster/shared_registry.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "common/file_io.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "registry/registry.h"
#include "store/postgres_connection.h"
#include "store/postgres_schema.h"

namespace sofaas {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view notify_channel = "sofaas_registry";
// Taken by every change of the registry, so that change ids are given in commit order
// and a node reading "every id above mine" never skips one still being committed.
constexpr int64_t journal_lock = 0x736f6661617301;  // "sofaas\1"
constexpr size_t changes_per_read = 100;

constexpr std::string_view registry_migration_1 = R"sql(
CREATE TABLE registry_functions (
    name TEXT PRIMARY KEY,
    highest INTEGER NOT NULL,  -- the highest version ever published: a number is never reused
    latest INTEGER             -- NULL: the function was deleted
);
CREATE TABLE registry_versions (
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    spec TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE registry_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (name, alias)
);
CREATE TABLE registry_artifacts (
    sha256 TEXT PRIMARY KEY,
    library BYTEA NOT NULL
);
CREATE TABLE registry_changes (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('version', 'alias', 'alias_removed', 'function_removed')),
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
)sql";
// API keys join the journal.
constexpr std::string_view registry_migration_2 = R"sql(
CREATE TABLE registry_keys (
    name TEXT PRIMARY KEY,
    access_key_id TEXT NOT NULL UNIQUE
);
ALTER TABLE registry_changes DROP CONSTRAINT registry_changes_kind_check;
ALTER TABLE registry_changes ADD CONSTRAINT registry_changes_kind_check
    CHECK (kind IN ('version', 'alias', 'alias_removed', 'function_removed', 'key_created', 'key_removed'));
)sql";
constexpr std::array<std::string_view, 2> registry_migrations = {registry_migration_1, registry_migration_2};

using Kind = AppliedRegistryChange::Kind;

std::string_view to_text(Kind kind) {
    switch (kind) {
        case Kind::version: return "version";
        case Kind::alias: return "alias";
        case Kind::alias_removed: return "alias_removed";
        case Kind::function_removed: return "function_removed";
        case Kind::key_created: return "key_created";
        case Kind::key_removed: return "key_removed";
    }
    return "";
}

std::optional<Kind> parse_kind(std::string_view text) {
    for (Kind kind : {Kind::version, Kind::alias, Kind::alias_removed, Kind::function_removed, Kind::key_created,
                      Kind::key_removed}) {
        if (to_text(kind) == text) return kind;
    }
    return std::nullopt;
}

// A change that can never be applied (its library is gone from the database): skipped,
// where any other failure is retried.
class UnappliableChange : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

RegistryError not_found(std::string message) {
    return RegistryError(RegistryError::Kind::not_found, std::move(message));
}

}  // namespace

struct SharedRegistry::State {
    std::string url;
    Registry& registry;
    KeyStore& keys;
    fs::path artifacts_dir;
    fs::path position_file;

    // The connection changes are recorded through.
    std::mutex writer_mutex;
    std::unique_ptr<PostgresConnection> writer;

    // Held while changes are applied; taken after writer_mutex, never before.
    std::mutex apply_mutex;
    std::atomic<uint64_t> position{0};
    std::function<void(const AppliedRegistryChange&)> applied;

    std::thread follower;
    std::atomic<bool> stopping{false};
    UniqueFd wake;  // an eventfd: stop() wakes the follower

    State(std::string database_url, Registry& registry, KeyStore& keys, const fs::path& state_dir)
        : url(std::move(database_url)),
          registry(registry),
          keys(keys),
          artifacts_dir(state_dir / "artifacts"),
          position_file(state_dir / "registry-position") {}

    // The library of `sha256` on this node's disk, fetched from the database when missing.
    fs::path artifact(PostgresConnection& db, const std::string& sha256) {
        if (sha256.size() != 64 || sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
            throw UnappliableChange("a version names no SHA-256");
        }
        // In a directory of its own, under the name every library has (registry.h): the
        // data directory's permissions keep that name readable, and the versions share
        // this file.
        fs::path library = artifacts_dir / sha256 / library_file_name;
        std::error_code ec;
        if (fs::exists(library, ec)) return library;
        PostgresRows rows = db.run("SELECT library FROM registry_artifacts WHERE sha256 = $1", {sha256});
        if (rows.empty()) throw UnappliableChange("the library " + sha256 + " is not in the database");
        const std::string bytes = rows.bytes(0, 0);
        if (sha256_hex(bytes) != sha256) throw UnappliableChange("the library " + sha256 + " has other bytes");
        keep(library, bytes);
        return library;
    }

    void keep(const fs::path& library, std::string_view bytes) {
        fs::create_directories(library.parent_path());
        fs::path partial = library;
        partial += ".partial";
        write_file_synced(partial, bytes, 0644);
        fs::rename(partial, library);
        fsync_directory(library.parent_path());
    }

    void keep_linked(const fs::path& library, const fs::path& source) {
        std::error_code ec;
        if (fs::exists(library, ec)) return;
        fs::create_directories(library.parent_path());
        fs::create_hard_link(source, library, ec);
        if (ec) keep(library, read_whole_file(source));
    }

    void apply(PostgresConnection& db, Kind kind, const std::string& function, const std::string& body) {
        // What the database says is trusted, but never as a path.
        if (!is_valid_function_name(function)) throw UnappliableChange("a change names no valid function or key");
        AppliedRegistryChange change{kind, function, nullptr, 0};
        switch (kind) {
            case Kind::version: {
                if (body.empty()) break;  // of a function deleted since: wiped from the journal
                FunctionSpec spec;
                try {
                    spec = spec_from_json(body);
                } catch (const std::exception&) {
                    // Not what the parser says: it may quote the text, and a spec holds env values.
                    throw UnappliableChange("unreadable version");
                }
                change.version = registry.apply_version(spec, artifact(db, spec.sha256), &change.replaced);
                break;
            }
            case Kind::alias: {
                Alias alias;
                try {
                    alias = alias_from_text(body);
                } catch (const std::exception&) {
                    throw UnappliableChange("unreadable alias");
                }
                if (!is_valid_alias_name(alias.name)) throw UnappliableChange("an alias with a bad name");
                registry.apply_alias(function, std::move(alias));
                break;
            }
            case Kind::alias_removed: registry.apply_alias_removal(function, body); break;
            case Kind::function_removed: registry.apply_removal(function); break;
            case Kind::key_created: {
                if (body.empty()) break;  // a key deleted since: its secret was wiped from the journal
                CreatedKey key;
                try {
                    key = key_from_text(body);
                } catch (const std::exception&) {
                    throw UnappliableChange("unreadable key");  // never what it holds: a secret
                }
                keys.apply_created(key);
                break;
            }
            case Kind::key_removed: keys.apply_removed(function); break;
        }
        if (applied) applied(change);
    }

    // Applies every change above `position`, in order; the caller holds apply_mutex. The
    // follower stops between two changes when the daemon stops.
    void catch_up(PostgresConnection& db, bool until_stopped = false) {
        for (;;) {
            PostgresRows rows = db.run(
                "SELECT id, kind, name, body FROM registry_changes WHERE id > $1 ORDER BY id LIMIT $2",
                {static_cast<int64_t>(position.load()), static_cast<int64_t>(changes_per_read)});
            for (size_t row = 0; row < rows.size(); ++row) {
                if (until_stopped && stopping) return;
                const uint64_t id = static_cast<uint64_t>(rows.integer(row, 0));
                const std::string function = rows.text(row, 2);
                try {
                    auto kind = parse_kind(rows.text(row, 1));
                    if (!kind) throw UnappliableChange("unknown kind " + rows.text(row, 1));
                    apply(db, *kind, function, rows.text(row, 3));
                } catch (const UnappliableChange& e) {
                    spdlog::error("registry: change {} of {} skipped: {}", id, function, e.what());
                } catch (const RegistryError& e) {
                    // Content no node can apply; any other failure (the disk) is retried.
                    if (e.kind() != RegistryError::Kind::invalid) throw;
                    spdlog::error("registry: change {} of {} skipped: {}", id, function, e.what());
                }
                position = id;
                replace_file_atomically(position_file, std::to_string(id) + "\n", 0600);
            }
            if (rows.size() < changes_per_read) return;
        }
    }

    uint64_t read_position() const {
        std::error_code ec;
        if (!fs::exists(position_file, ec)) return 0;
        const std::string text = read_whole_file(position_file);
        uint64_t value = 0;
        auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (error != std::errc()) throw std::runtime_error(position_file.string() + " holds no change id");
        return value;
    }

    PostgresConnection& connection() {
        if (!writer) writer = std::make_unique<PostgresConnection>(url);
        return *writer;
    }

    // Runs `work` in a transaction holding the journal's lock; `work` returns the id of the
    // change it recorded (0: none) and its answer. Once committed, the change is applied
    // here before the answer is returned.
    template <typename Answer, typename Work>
    Answer record(Work work) {
        std::lock_guard lock(writer_mutex);
        uint64_t id = 0;
        Answer answer{};
        try {
            PostgresConnection& db = connection();
            std::tie(id, answer) = db.transaction([&] {
                db.run("SELECT pg_advisory_xact_lock($1)", {journal_lock});
                return work(db);
            });
        } catch (const PostgresError& e) {
            throw RegistryError(RegistryError::Kind::unavailable,
                                std::string("the cluster's registry cannot be changed now: ") + e.what());
        }
        if (id == 0) return answer;
        try {
            std::lock_guard apply_lock(apply_mutex);
            catch_up(connection());
        } catch (const std::exception& e) {
            throw RegistryError(RegistryError::Kind::storage,
                                "the change was recorded for the cluster but is not applied on this node yet (" +
                                    std::string(e.what()) + "); it will be within seconds");
        }
        return answer;
    }

    static uint64_t record_change(PostgresConnection& db, Kind kind, std::string_view function, std::string_view body) {
        const PostgresRows rows = db.run("INSERT INTO registry_changes (kind, name, body) VALUES ($1, $2, $3) RETURNING id",
                                         {to_text(kind), function, body});
        const int64_t id = rows.integer(0, 0);
        // Delivered when the transaction commits, not before.
        db.run("SELECT pg_notify($1, $2)", {notify_channel, std::to_string(id)});
        return static_cast<uint64_t>(id);
    }

    void follow() {
        std::unique_ptr<PostgresConnection> db;
        bool failing = false;
        while (!stopping) {
            try {
                if (!db) {
                    db = std::make_unique<PostgresConnection>(url);
                    db->run("LISTEN " + std::string(notify_channel));
                }
                {
                    std::lock_guard lock(apply_mutex);
                    catch_up(*db, true);
                }
                if (failing) spdlog::info("registry: following the cluster's registry again");
                failing = false;
                db->wait_for_notifications(std::chrono::seconds(1), wake.get());
            } catch (const std::exception& e) {
                if (!failing) {
                    spdlog::error("registry: cannot follow the cluster's registry ({}): retrying every second",
                                  e.what());
                }
                failing = true;
                db.reset();
                pollfd fd{wake.get(), POLLIN, 0};
                ::poll(&fd, 1, 1000);
            }
        }
    }
};

SharedRegistry::SharedRegistry(std::string database_url, Registry& registry, KeyStore& keys, fs::path state_dir)
    : state_(std::make_unique<State>(std::move(database_url), registry, keys, state_dir)) {
    try {
        fs::create_directories(state_->artifacts_dir);
        state_->position = state_->read_position();
    } catch (const std::exception& e) {
        throw RegistryError(RegistryError::Kind::storage, std::string("cluster registry state: ") + e.what());
    }
    state_->wake = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!state_->wake) throw std::system_error(errno, std::generic_category(), "eventfd");
    // Its own functions and keys would clash with the cluster's names and numbers, and
    // could not be deleted through it.
    if (state_->position == 0 && (!registry.list_latest().empty() || !keys.list().empty())) {
        throw RegistryError(RegistryError::Kind::invalid,
                            "this node has functions or keys of its own (" + state_dir.parent_path().string() +
                                "): a node joins a cluster with an empty data directory");
    }
    PostgresConnection& db = state_->connection();
    migrate_postgres_schema(db, "registry", registry_migrations);
    const auto last = static_cast<uint64_t>(db.run("SELECT coalesce(max(id), 0) FROM registry_changes").integer(0, 0));
    if (state_->position > last) {
        // Another database, or this one restored from a backup: every change is applied
        // again (applying one twice changes nothing).
        spdlog::warn("registry: this node had applied change {}, the cluster's journal ends at {}: applying it all again",
                     state_->position.load(), last);
        state_->position = 0;
    }
    std::lock_guard lock(state_->apply_mutex);
    state_->catch_up(db);
}

SharedRegistry::~SharedRegistry() {
    stop();
}

void SharedRegistry::start(std::function<void(const AppliedRegistryChange&)> applied) {
    {
        std::lock_guard lock(state_->apply_mutex);
        state_->applied = std::move(applied);
    }
    state_->follower = std::thread([state = state_.get()] { state->follow(); });
}

void SharedRegistry::stop_following() {
    state_->stopping = true;
    const uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(state_->wake.get(), &one, sizeof one);
}

void SharedRegistry::stop() {
    stop_following();
    if (state_->follower.joinable()) state_->follower.join();
}

uint64_t SharedRegistry::applied_position() const {
    return state_->position;
}

uint32_t SharedRegistry::record_version(const FunctionSpec& spec, const fs::path& library, uint32_t based_on) {
    // The library first, outside the journal's lock: it may be large, and a library no
    // version names is harmless.
    try {
        state_->keep_linked(state_->artifacts_dir / spec.sha256 / library_file_name, library);
    } catch (const std::exception& e) {
        throw RegistryError(RegistryError::Kind::storage, std::string("cannot keep the library: ") + e.what());
    }
    {
        std::lock_guard lock(state_->writer_mutex);
        try {
            PostgresConnection& db = state_->connection();
            if (db.run("SELECT 1 FROM registry_artifacts WHERE sha256 = $1", {spec.sha256}).empty()) {
                const std::string bytes = read_whole_file(library);
                db.run("INSERT INTO registry_artifacts (sha256, library) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                       {spec.sha256, Bytes{bytes}});
            }
        } catch (const std::exception& e) {
            throw RegistryError(RegistryError::Kind::unavailable,
                                std::string("the library cannot be stored for the cluster now: ") + e.what());
        }
    }
    return state_->record<uint32_t>([&](PostgresConnection& db) {
        const PostgresRows rows = db.run("SELECT highest, latest FROM registry_functions WHERE name = $1", {spec.name});
        const uint32_t highest = rows.empty() ? 0 : static_cast<uint32_t>(rows.integer(0, 0));
        const uint32_t latest = rows.empty() || rows.is_null(0, 1) ? 0 : static_cast<uint32_t>(rows.integer(0, 1));
        if (based_on != 0 && latest != based_on) {
            throw RegistryError(RegistryError::Kind::conflict, "function " + spec.name +
                                                                   " changed during the update (it was version " +
                                                                   std::to_string(based_on) + "): retry");
        }
        FunctionSpec numbered = spec;
        numbered.version = highest + 1;
        db.run("INSERT INTO registry_functions (name, highest, latest) VALUES ($1, $2, $2) "
               "ON CONFLICT (name) DO UPDATE SET highest = $2, latest = $2",
               {spec.name, numbered.version});
        const std::string body = spec_to_json(numbered);
        db.run("INSERT INTO registry_versions (name, version, spec) VALUES ($1, $2, $3)",
               {spec.name, numbered.version, body});
        return std::pair{State::record_change(db, Kind::version, spec.name, body), numbered.version};
    });
}

bool SharedRegistry::record_alias(std::string_view function, const Alias& alias) {
    return state_->record<bool>([&](PostgresConnection& db) {
        const PostgresRows found = db.run("SELECT latest FROM registry_functions WHERE name = $1", {function});
        if (found.empty() || found.is_null(0, 0)) throw not_found("Function not found: " + std::string(function));
        std::vector<uint32_t> wanted = {alias.version};
        for (const auto& [version, _] : alias.additional_version_weights) wanted.push_back(version);
        for (uint32_t version : wanted) {
            if (db.run("SELECT 1 FROM registry_versions WHERE name = $1 AND version = $2", {function, version}).empty()) {
                throw not_found("Function not found: " + std::string(function) + " version " + std::to_string(version));
            }
        }
        const bool created =
            db.run("SELECT 1 FROM registry_aliases WHERE name = $1 AND alias = $2", {function, alias.name}).empty();
        const std::string body = alias_to_text(alias);
        db.run("INSERT INTO registry_aliases (name, alias, body) VALUES ($1, $2, $3) "
               "ON CONFLICT (name, alias) DO UPDATE SET body = EXCLUDED.body",
               {function, alias.name, body});
        return std::pair{State::record_change(db, Kind::alias, function, body), created};
    });
}

bool SharedRegistry::record_alias_removal(std::string_view function, std::string_view name) {
    return state_->record<bool>([&](PostgresConnection& db) {
        if (db.run("DELETE FROM registry_aliases WHERE name = $1 AND alias = $2", {function, name}).affected() == 0) {
            return std::pair{uint64_t{0}, false};
        }
        return std::pair{State::record_change(db, Kind::alias_removed, function, name), true};
    });
}

bool SharedRegistry::record_removal(std::string_view function) {
    return state_->record<bool>([&](PostgresConnection& db) {
        if (db.run("UPDATE registry_functions SET latest = NULL WHERE name = $1 AND latest IS NOT NULL", {function})
                .affected() == 0) {
            return std::pair{uint64_t{0}, false};
        }
        db.run("DELETE FROM registry_versions WHERE name = $1", {function});
        db.run("DELETE FROM registry_aliases WHERE name = $1", {function});
        // Its versions' settings (env values among them) do not stay in the journal.
        db.run("UPDATE registry_changes SET body = '' WHERE kind = $1 AND name = $2",
               {to_text(Kind::version), function});
        return std::pair{State::record_change(db, Kind::function_removed, function, ""), true};
    });
}

void SharedRegistry::record_created(const CreatedKey& key) {
    try {
        state_->record<bool>([&](PostgresConnection& db) {
            if (!db.run("SELECT 1 FROM registry_keys WHERE name = $1", {key.key.name}).empty()) {
                throw KeyError(KeyError::Kind::exists, "A key named '" + key.key.name + "' exists");
            }
            db.run("INSERT INTO registry_keys (name, access_key_id) VALUES ($1, $2)",
                   {key.key.name, key.key.access_key_id});
            return std::pair{State::record_change(db, Kind::key_created, key.key.name, key_to_text(key)), true};
        });
    } catch (const RegistryError& e) {
        throw KeyError(KeyError::Kind::unavailable, e.what());
    }
}

void SharedRegistry::record_removed(const std::string& name) {
    try {
        state_->record<bool>([&](PostgresConnection& db) {
            if (db.run("DELETE FROM registry_keys WHERE name = $1", {name}).affected() == 0) {
                throw KeyError(KeyError::Kind::not_found, "No key named '" + name + "'");
            }
            // A deleted key's secret does not stay in the journal.
            db.run("UPDATE registry_changes SET body = '' WHERE kind = $1 AND name = $2",
                   {to_text(Kind::key_created), name});
            return std::pair{State::record_change(db, Kind::key_removed, name, ""), true};
        });
    } catch (const RegistryError& e) {
        throw KeyError(KeyError::Kind::unavailable, e.what());
    }
}

}  // namespace sofaas
