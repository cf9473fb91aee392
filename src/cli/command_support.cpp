#include "cli/command_support.h"

#include <ostream>

#include "cli/format.h"

namespace sofaas::cli {

std::string function_path(const CommandLine& line) { return "/v1/functions/" + url_encode(line.arguments.at(0)); }

std::string query(const std::vector<std::pair<std::string, std::string>>& params) {
    std::string out;
    for (const auto& [key, value] : params) out += (out.empty() ? "?" : "&") + key + "=" + url_encode(value);
    return out;
}

HttpResponse checked(HttpResponse response) {
    if (response.status == 401) throw TokenRefused();
    const ExitCode code = exit_code_for(response);
    if (code != ExitCode::ok) throw CommandError(format_server_error(response.status, response.body), code);
    return response;
}

nlohmann::json parse_body(const HttpResponse& response) {
    nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_discarded()) throw CommandError("sofaasd answered with invalid JSON");
    return body;
}

void print_json(const HttpResponse& response, std::ostream& out) {
    parse_body(response);
    out << response.body;
    if (response.body.empty() || response.body.back() != '\n') out << "\n";
}

bool printed_as_json(const CommandLine& line, const HttpResponse& response, std::ostream& out) {
    if (line.output != OutputFormat::json) return false;
    print_json(response, out);
    return true;
}

}  // namespace sofaas::cli
