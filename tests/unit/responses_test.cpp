// The gateway is the one place a domain error meets its HTTP status.
#include "gateway/responses.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "registry/registry.h"

using namespace sofaas;
using json = nlohmann::json;

TEST(RegistryErrorResponse, EachKindHasItsStatus) {
    const auto invalid = registry_error(RegistryError(RegistryError::Kind::invalid, "invalid function name"));
    EXPECT_EQ(invalid.status, 400);
    EXPECT_EQ(json::parse(invalid.body)["errorType"], "InvalidParameterValueException");

    const auto conflict = registry_error(RegistryError(RegistryError::Kind::conflict, "route taken"));
    EXPECT_EQ(conflict.status, 409);
    EXPECT_EQ(json::parse(conflict.body)["errorType"], "ResourceConflictException");
    EXPECT_EQ(json::parse(conflict.body)["errorMessage"], "route taken");

    const auto storage = registry_error(RegistryError(RegistryError::Kind::storage, "disk full"));
    EXPECT_EQ(storage.status, 500);
    EXPECT_EQ(json::parse(storage.body)["errorType"], "ServiceException");
}
