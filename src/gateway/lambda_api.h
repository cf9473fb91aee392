// The AWS Lambda API (REST-JSON, API version 2015-03-31, as botocore's service model
// describes it), so that the AWS CLI, boto3 and the other SDKs manage and invoke sofaas
// functions with --endpoint-url as their only change. Each operation maps onto what the
// control API does (the same deploy, queue and invocation paths); this layer only speaks
// Lambda's protocol: its paths, its JSON shapes, its errors (x-amzn-ErrorType and
// {"Type", "message"}), its headers.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "gateway/handler_context.h"
#include "gateway/http_event.h"
#include "gateway/http_message.h"

namespace sofaas {

struct Caller;

// /2015-03-31/..., /2017-10-31/... and /2019-09-30/... (concurrency).
bool is_lambda_api_path(std::string_view path);

boost::asio::awaitable<HttpResponseParts> handle_lambda_api(HandlerContext& context, const IncomingRequest& request);

// --- Shared by lambda_*.cpp ----------------------------------------------------------

// A Lambda error: `status`, x-amzn-ErrorType: `type`, body {"Type": "User"|"Service",
// "message"}: what botocore turns into client.exceptions.<type>.
HttpResponseParts lambda_error(int status, std::string_view type, std::string_view message);
// A control-API error answer (errorType / errorMessage) told in Lambda's form, same status.
HttpResponseParts as_lambda_error(const HttpResponseParts& control_api_error);

// FunctionName as Lambda takes it: a name, "name:qualifier", a full ARN
// (arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]) or a partial one
// (ACCOUNT:function:NAME[:QUALIFIER]); an ARN of another region or account names nothing here.
struct FunctionReference {
    std::string name;
    std::string qualifier;  // "" when none was given
};
std::optional<FunctionReference> parse_function_reference(std::string_view text, const Config& config,
                                                          std::string* why);

// The version a qualifier names: "" or "$LATEST" the latest, digits that version, else
// an alias. Null with a Lambda error in *refusal when there is none.
FunctionVersionPtr resolve_function(HandlerContext& context, const FunctionReference& reference,
                                    std::optional<HttpResponseParts>* refusal);

// FunctionConfiguration as Lambda describes a version ("$LATEST" when `as_latest`).
std::string function_configuration(const FunctionSpec& spec, const Config& config, bool as_latest);

// Invoke (lambda_invoke.cpp). A retry (the same caller, function and amz-sdk-invocation-id)
// of an invocation that runs or ran gets its answer instead of running again.
boost::asio::awaitable<HttpResponseParts> lambda_invoke(HandlerContext& context, const IncomingRequest& request,
                                                        const Caller& caller, const FunctionReference& reference);

}  // namespace sofaas
