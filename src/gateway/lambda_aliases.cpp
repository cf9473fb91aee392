// The Lambda API's aliases: CreateAlias, GetAlias, UpdateAlias, DeleteAlias, ListAliases.
#include "gateway/lambda_operations.h"

namespace sofaas {

FunctionVersionPtr resolve_alias(HandlerContext&, const FunctionReference&) {
    return nullptr;
}

boost::asio::awaitable<HttpResponseParts> lambda_alias_operation(LambdaCall& call, const FunctionVersionPtr&) {
    co_return lambda_error(404, "UnknownOperationException", "aliases: " + std::string(call.request.path()));
}

}  // namespace sofaas
