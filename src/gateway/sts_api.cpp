#include "gateway/sts_api.h"

#include <optional>
#include <system_error>
#include <variant>

#include <spdlog/spdlog.h>

#include "gateway/awaitable_calls.h"
#include "gateway/sts_query.h"
#include "keys/session_store.h"
#include "sts/assume_role.h"
#include "sts/role_store.h"

namespace sofaas {
namespace {

bool is_form(const IncomingRequest& request) {
    const auto type = request.header("Content-Type");
    return type && type->substr(0, type->find(';')) == "application/x-www-form-urlencoded";
}

HttpResponseParts refused(const IncomingRequest& request, const StsFailure& failure) {
    // The message, never the token: it names no secret (sts/assume_role.h).
    spdlog::info("[{}] STS AssumeRoleWithWebIdentity refused: {}: {}", request.request_id, failure.code_name(),
                 failure.message);
    return sts_error(failure, request.request_id);
}

}  // namespace

bool is_sts_request(const IncomingRequest& request) {
    const std::string_view path = request.path();
    if (path == "/sts" || path == "/sts/") return true;
    if (path != "/") return false;
    if (request.method == "POST") return is_form(request);
    return request.method == "GET" && find_param(parse_query(request.query()), "Action").has_value();
}

boost::asio::awaitable<HttpResponseParts> handle_sts(HandlerContext& context, const IncomingRequest& request) {
    if (request.method != "POST" && request.method != "GET") {
        co_return refused(request, StsFailure{StsErrorCode::invalid_action, "STS takes GET or POST"});
    }
    auto parsed = parse_assume_role_request(sts_parameters(request));
    if (auto* failure = std::get_if<StsFailure>(&parsed)) co_return refused(request, *failure);
    const AssumeRoleRequest& wanted = std::get<AssumeRoleRequest>(parsed);
    const GatewayServices& services = context.services;
    std::vector<ExternalIssuer> external_issuers;
    for (const OidcProviderSettings& provider : services.config.users.oidc_providers) {
        external_issuers.push_back({provider.name, provider.issuer});
    }

    std::optional<std::variant<AssumedRole, StsError>> outcome;
    std::optional<std::string> storage_error;
    std::optional<std::string> limit_reached;
    // Verifying may fetch a provider's keys, and issuing writes and fsyncs the session file.
    co_await run_blocking(context.disk_work, [&] {
        try {
            outcome = assume_role_with_web_identity(
                wanted, AssumeRoleContext{services.identity_tokens, services.roles, services.sessions,
                                          services.config.account_id, std::move(external_issuers)});
        } catch (const SessionLimitReached& error) {
            limit_reached = error.what();
        } catch (const std::exception& error) {
            storage_error = error.what();
        }
    });
    if (limit_reached) {
        spdlog::warn("[{}] STS: {}", request.request_id, *limit_reached);
        co_return refused(request, StsFailure{StsErrorCode::service_unavailable, *limit_reached});
    }
    if (storage_error) {
        spdlog::error("[{}] STS: the session could not be stored: {}", request.request_id, *storage_error);
        co_return refused(request, StsFailure{StsErrorCode::service_unavailable,
                                              "The credentials could not be stored. Retry later."});
    }
    if (auto* error = std::get_if<StsError>(&*outcome)) co_return refused(request, sts_failure(*error));
    const AssumedRole& assumed = std::get<AssumedRole>(*outcome);
    const Session& session = assumed.credentials.session;
    spdlog::info("[{}] STS: role {} assumed by {} of {} as {}: session {} until {}", request.request_id, session.role,
                 session.user_sub, session.issuer, session.session_name, session.access_key_id,
                 format_rfc3339(session.expires));
    HttpResponseParts response{200, {}, assumed_role_xml(assumed, request.request_id)};
    response.headers.emplace_back("Content-Type", "text/xml");
    response.headers.emplace_back("x-amzn-RequestId", request.request_id);
    co_return response;
}

}  // namespace sofaas
