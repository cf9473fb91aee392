// The C++ SDK (include/sofaas/sofaas.hpp) over contexts as hosts of each ABI version fill
// them in.
#include <gtest/gtest.h>

#include <sofaas/sofaas.hpp>

namespace {

sofaas_context context_of_version(uint32_t abi_version) {
    sofaas_context ctx{};
    ctx.abi_version = abi_version;
    ctx.request_id = "req-1";
    ctx.function_name = "fn";
    return ctx;
}

TEST(SdkRequest, TheCallerIsWhatAVersion2HostSays) {
    sofaas_context ctx = context_of_version(2);
    ctx.caller_key_id = "ASIAEXAMPLE";
    ctx.caller_role = "web";
    ctx.caller_user_sub = "user-1";
    ctx.caller_schedule = "";
    const sofaas::Request request(&ctx, nullptr, 0);
    const sofaas::Caller caller = request.caller();
    EXPECT_EQ(caller.key_id, "ASIAEXAMPLE");
    EXPECT_EQ(caller.role, "web");
    EXPECT_EQ(caller.user_sub, "user-1");
    EXPECT_EQ(caller.schedule, "");
}

TEST(SdkRequest, AVersion1HostNamesNoCallerAndItsContextIsNeverReadPastItsEnd) {
    // A version 1 host's context ends at host_data: null here, which reading would crash on.
    sofaas_context ctx = context_of_version(1);
    const sofaas::Request request(&ctx, nullptr, 0);
    const sofaas::Caller caller = request.caller();
    EXPECT_TRUE(caller.key_id.empty());
    EXPECT_TRUE(caller.role.empty());
    EXPECT_TRUE(caller.user_sub.empty());
    EXPECT_TRUE(caller.schedule.empty());
}

}  // namespace
