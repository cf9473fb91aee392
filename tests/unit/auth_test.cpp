// Who is calling: a Bearer admin token or API key, or a SigV4 signature made with an API
// key; a refused signature is an anonymous caller that says why.
#include "gateway/auth.h"

#include <gtest/gtest.h>

#include "sigv4_vectors.h"
#include "sts/role_store.h"
#include "support/temp_dir.h"

namespace sofaas {
namespace {

using namespace std::chrono_literals;
using namespace sigv4_vectors;

class CallerTest : public ::testing::Test {
protected:
    CallerTest() {
        write_key_file(dir_ / "keys.json", {{std::string(access_key_id), std::string(secret)}});
        keys_ = std::make_unique<KeyStore>(dir_ / "keys.json");
    }

    TrustedCredentials trusted(std::string_view region = "us-east-1") const {
        return {"admin-token", *keys_, region, sessions_, roles_};
    }

    static IncomingRequest incoming(TestRequest request) {
        IncomingRequest incoming;
        incoming.method = std::move(request.method);
        incoming.target = std::move(request.target);
        incoming.headers = std::move(request.headers);
        incoming.body = std::move(request.body);
        return incoming;
    }

    static IncomingRequest with_authorization(std::string value) {
        return incoming({"GET", "/v1/functions", {{"Authorization", std::move(value)}}, ""});
    }

    testing::TempDir dir_{"auth-test"};
    std::unique_ptr<KeyStore> keys_;
    SessionStore sessions_{dir_ / "sessions.json"};
    RoleStore roles_{dir_ / "roles.json"};
};

TEST_F(CallerTest, BearerAdminTokenAndKeyWorkAsBefore) {
    EXPECT_EQ(identify_caller(with_authorization("Bearer admin-token"), trusted()).kind, CallerKind::admin_token);
    const Caller key = identify_caller(with_authorization("Bearer " + std::string(access_key_id) + ":" + std::string(secret)),
                                       trusted());
    EXPECT_EQ(key.kind, CallerKind::api_key);
    EXPECT_TRUE(key.is_admin());
    const Caller wrong = identify_caller(with_authorization("Bearer wrong"), trusted());
    EXPECT_FALSE(wrong.known());
    EXPECT_FALSE(wrong.signature_failure);
    EXPECT_FALSE(identify_caller(incoming({"GET", "/v1/functions", {}, ""}), trusted()).known());
}

TEST_F(CallerTest, SigV4SignatureOfAnAdminKeyIsAnAdmin) {
    const Caller caller = identify_caller(incoming(signed_get()), trusted(), signed_at);
    EXPECT_EQ(caller.kind, CallerKind::api_key);
    ASSERT_TRUE(caller.key);
    EXPECT_EQ(caller.key->access_key_id, access_key_id);
    EXPECT_TRUE(caller.is_admin());
    EXPECT_TRUE(caller.may_invoke("hello", ""));
    EXPECT_FALSE(caller.signature_failure);
}

TEST_F(CallerTest, RefusedSignatureIsAnonymousWithTheFailure) {
    const Caller late = identify_caller(incoming(signed_get()), trusted(), signed_at + 1h);
    EXPECT_FALSE(late.known());
    ASSERT_TRUE(late.signature_failure);
    EXPECT_EQ(late.signature_failure->kind, SigV4FailureKind::expired);

    const Caller elsewhere = identify_caller(incoming(signed_get()), trusted("eu-west-1"), signed_at);
    EXPECT_FALSE(elsewhere.known());
    ASSERT_TRUE(elsewhere.signature_failure);
    EXPECT_EQ(elsewhere.signature_failure->kind, SigV4FailureKind::wrong_region);

    TestRequest tampered = signed_post();
    tampered.body = "{}";
    const Caller changed = identify_caller(incoming(tampered), trusted(), signed_at);
    ASSERT_TRUE(changed.signature_failure);
    EXPECT_EQ(changed.signature_failure->error_type(), "InvalidSignatureException");
}

TEST_F(CallerTest, BeforeTheBodyASigV4HeaderIsJudgedByItsKey) {
    const std::string header = *signed_get().header("Authorization");
    EXPECT_TRUE(caller_before_body(header, trusted()).is_admin());
    const Caller elsewhere = caller_before_body(header, trusted("eu-west-1"));
    EXPECT_FALSE(elsewhere.known());
    EXPECT_TRUE(elsewhere.signature_failure);
    EXPECT_FALSE(caller_before_body("AWS4-HMAC-SHA256 Credential=x", trusted()).known());
    EXPECT_EQ(caller_before_body("Bearer admin-token", trusted()).kind, CallerKind::admin_token);
    EXPECT_FALSE(caller_before_body(std::nullopt, trusted()).known());
}

}  // namespace
}  // namespace sofaas
