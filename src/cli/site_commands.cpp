// The commands of static sites: site deploy|rollback|list|delete. A deploy sends the
// directory as one tar archive (sites/site_archive.h), so the daemon checks the whole of
// it before it stores anything.
#include <algorithm>
#include <filesystem>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

#include "cli/command_support.h"
#include "cli/format.h"
#include "common/file_io.h"
#include "sites/site_archive.h"

namespace sofaas::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string site_path(const CommandLine& line) { return "/v1/sites/" + url_encode(line.arguments.at(0)); }

// Every regular file below `directory`, by its path relative to it, sorted. Links are
// refused rather than followed: a link to outside the directory would upload what it
// points at, which is rarely what was meant.
std::vector<std::pair<std::string, std::string>> files_of(const fs::path& directory) {
    std::error_code ec;
    if (!fs::is_directory(directory, ec)) throw CommandError(directory.string() + " is not a directory");
    std::vector<std::pair<std::string, std::string>> files;
    for (auto it = fs::recursive_directory_iterator(directory, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
        const fs::directory_entry& entry = *it;
        const std::string relative = entry.path().lexically_relative(directory).generic_string();
        if (entry.is_symlink(ec)) {
            throw CommandError(relative + " is a symbolic link: copy what it points at into " + directory.string());
        }
        if (entry.is_directory(ec)) continue;
        if (!entry.is_regular_file(ec)) throw CommandError(relative + " is not a regular file");
        try {
            files.emplace_back(relative, read_whole_file(entry.path()));
        } catch (const std::system_error& e) {
            throw CommandError(e.what());
        }
    }
    if (ec) throw CommandError("cannot read " + directory.string() + ": " + ec.message());
    if (files.empty()) throw CommandError(directory.string() + " holds no file");
    std::sort(files.begin(), files.end());
    return files;
}

std::string where(const json& site) {
    const std::string host = site.value("domain", json()).is_string() ? site["domain"].get<std::string>() : "*";
    return host + site.value("path", std::string("/"));
}

void deploy_site(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const auto files = files_of(line.arguments.at(1));
    std::vector<std::pair<std::string, std::string>> params;
    if (auto domain = line.value("domain")) params.emplace_back("domain", *domain);
    if (auto path = line.value("path")) params.emplace_back("path", *path);
    if (line.has("spa")) params.emplace_back("spa", "true");
    const std::string archive = write_site_archive(files);
    auto response = checked(client.request("PUT", site_path(line) + query(params), archive,
                                           {{"Content-Type", "application/x-tar"}}));
    if (printed_as_json(line, response, out)) return;
    const json site = parse_body(response);
    out << "deployed site " << site.value("name", std::string()) << " version " << site.value("version", 0) << " ("
        << site.value("files", 0) << " files, " << site.value("bytes", 0) << " bytes) at " << where(site) << "\n";
}

void rollback_site(const CommandLine& line, HttpClient& client, std::ostream& out) {
    std::vector<std::pair<std::string, std::string>> params;
    if (line.arguments.size() > 1) {
        params.emplace_back("version", std::to_string(parse_number("VERSION", line.arguments[1], 1, 999'999'999)));
    }
    auto response = checked(client.request("POST", site_path(line) + "/rollback" + query(params)));
    if (printed_as_json(line, response, out)) return;
    const json site = parse_body(response);
    out << "site " << site.value("name", std::string()) << " now serves version " << site.value("version", 0) << " at "
        << where(site) << "\n";
}

void list_sites(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("GET", "/v1/sites"));
    if (printed_as_json(line, response, out)) return;
    std::vector<std::vector<std::string>> rows;
    for (const json& site : parse_body(response).value("sites", json::array())) {
        std::string versions;
        for (const json& version : site.value("versions", json::array())) {
            versions += (versions.empty() ? "" : ",") + version.dump();
        }
        rows.push_back({site.value("name", std::string()), std::to_string(site.value("version", 0)), where(site),
                        site.value("spa", false) ? "yes" : "no", std::to_string(site.value("files", 0)),
                        site.value("deployed_at", std::string()), versions});
    }
    out << format_table({"NAME", "VERSION", "SERVED_AT", "SPA", "FILES", "DEPLOYED", "VERSIONS"}, rows);
}

void delete_site(const CommandLine& line, HttpClient& client, std::ostream& out) {
    auto response = checked(client.request("DELETE", site_path(line)));
    if (printed_as_json(line, response, out)) return;
    out << "deleted site " << line.arguments.at(0) << "\n";
}

}  // namespace

bool run_site_command(const CommandLine& line, HttpClient& client, std::ostream& out) {
    const std::string& command = line.command;
    if (command == "site deploy") deploy_site(line, client, out);
    else if (command == "site rollback") rollback_site(line, client, out);
    else if (command == "site list") list_sites(line, client, out);
    else if (command == "site delete") delete_site(line, client, out);
    else return false;
    return true;
}

}  // namespace sofaas::cli
