// AWS Signature Version 4 with API keys: requests signed by botocore verify with their
// key's secret, and every other request is refused with the failure AWS would give. The
// signatures are botocore's (unit/sigv4_vectors.h says how they were made).
#include "keys/sigv4.h"

#include <random>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "support/temp_dir.h"
#include "sigv4_vectors.h"

namespace sofaas {
namespace {

using namespace std::chrono_literals;
using namespace sigv4_vectors;

class SigV4Test : public ::testing::Test {
protected:
    SigV4Test() { write_keys({{std::string(access_key_id), std::string(secret)}}); }

    void write_keys(const std::vector<std::pair<std::string, std::string>>& id_secrets) {
        write_key_file(dir_ / "keys.json", id_secrets);
        keys_ = std::make_unique<KeyStore>(dir_ / "keys.json");
    }

    SigV4Verdict verify(const TestRequest& request, WallTime now = signed_at, std::string_view region = "us-east-1",
                        std::string_view service = "lambda") {
        const size_t question = request.target.find('?');
        SignedRequest signed_request;
        signed_request.method = request.method;
        signed_request.path = std::string_view(request.target).substr(0, question);
        signed_request.query =
            question == std::string::npos ? std::string_view() : std::string_view(request.target).substr(question + 1);
        signed_request.headers = request.headers;
        signed_request.body = request.body;
        return verify_sigv4(signed_request, SigningSecrets{*keys_}, now, region, service);
    }

    // The failure a request gets; fails the test when it verifies or is not SigV4 at all.
    SigV4Failure failure_of(const TestRequest& request, WallTime now = signed_at, std::string_view region = "us-east-1",
                            std::string_view service = "lambda") {
        SigV4Verdict verdict = verify(request, now, region, service);
        EXPECT_FALSE(verdict.key) << request.target;
        EXPECT_TRUE(verdict.failure) << request.target;
        return verdict.failure.value_or(SigV4Failure{});
    }

    testing::TempDir dir_{"sigv4-test"};
    std::unique_ptr<KeyStore> keys_;
};

TEST_F(SigV4Test, BotocoreGetVerifies) {
    const SigV4Verdict verdict = verify(signed_get());
    ASSERT_TRUE(verdict.key) << verdict.failure->message;
    EXPECT_EQ(verdict.key->access_key_id, access_key_id);
    EXPECT_EQ(verdict.key->scope, KeyScope::admin);
    EXPECT_FALSE(verdict.failure);
}

TEST_F(SigV4Test, BotocorePostWithBodyQueryAndColonInPathVerifies) {
    const SigV4Verdict verdict = verify(signed_post());
    ASSERT_TRUE(verdict.key) << verdict.failure->message;
}

TEST_F(SigV4Test, BotocoreUnsortedQueryVerifies) {
    const TestRequest request{
        "GET",
        "/2015-03-31/functions/?MaxItems=10&Marker=a%2Fb&FunctionVersion=ALL&Empty=",
        {{"Host", "127.0.0.1:8080"},
         {"X-Amz-Date", "20261206T083000Z"},
         {"Authorization",
          authorization("host;x-amz-date", "9f4560c4faa5e0324166ccd947a4ceb9a011f3adf7bfa543f87ffae68083a3a8")}},
        ""};
    const SigV4Verdict verdict = verify(request);
    EXPECT_TRUE(verdict.key) << verdict.failure->message;
}

TEST_F(SigV4Test, DateHeaderStandsInForXAmzDate) {
    const TestRequest request{
        "GET",
        "/v1/functions",
        {{"Date", "Sun, 06 Dec 2026 08:30:00 -0000"},
         {"Host", "127.0.0.1:8080"},
         {"Authorization", authorization("date;host", "a61919b60c749983bcaa1eda8c91a77f157f8b4ef80cd1f72cd10516205846c2")}},
        ""};
    const SigV4Verdict verdict = verify(request);
    EXPECT_TRUE(verdict.key) << verdict.failure->message;
}

TEST_F(SigV4Test, DeclaredContentSha256IsSignedAndChecked) {
    TestRequest request{"PUT",
                        "/v1/functions/hello",
                        {{"X-Amz-Content-SHA256", "b718f1354f7247312eca086d9a024afe5fa717ddea5adeddd6f12bcf945b2e8c"},
                         {"X-Amz-Date", "20261206T083000Z"},
                         {"Host", "127.0.0.1:8080"},
                         {"Authorization", authorization("host;x-amz-content-sha256;x-amz-date",
                                                         "08cb70458aba4ca7e6db8e5a88f5f7b098d90e824c59f7f0ac98246c481518f6")}},
                        "library"};
    const SigV4Verdict verdict = verify(request);
    EXPECT_TRUE(verdict.key) << verdict.failure->message;

    request.body = "another library";
    const SigV4Failure mismatch = failure_of(request);
    EXPECT_EQ(mismatch.kind, SigV4FailureKind::payload_mismatch);
    EXPECT_EQ(mismatch.error_type(), "XAmzContentSHA256Mismatch");
    EXPECT_EQ(mismatch.http_status(), 400);

    *request.header("X-Amz-Content-SHA256") = "UNSIGNED-PAYLOAD";
    EXPECT_EQ(failure_of(request).kind, SigV4FailureKind::unsigned_payload);
}

// get-vanilla of AWS's own SigV4 test suite (key AKIDEXAMPLE, service "service").
TEST_F(SigV4Test, AwsTestSuiteGetVanillaVerifies) {
    write_keys({{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}});
    const TestRequest request{
        "GET",
        "/",
        {{"Host", "example.amazonaws.com"},
         {"X-Amz-Date", "20150830T123600Z"},
         {"Authorization",
          "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
          "SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"}},
        ""};
    const WallTime now = WallTime(std::chrono::sys_days(std::chrono::year(2015) / 8 / 30) + 12h + 36min);
    const SigV4Verdict verdict = verify(request, now, "us-east-1", "service");
    EXPECT_TRUE(verdict.key) << verdict.failure->message;
}

TEST_F(SigV4Test, HeaderNamesMatchInAnyCase) {
    TestRequest request = signed_get();
    request.headers[0].first = "HOST";
    request.headers[1].first = "x-AMZ-date";
    EXPECT_TRUE(verify(request).key);
}

TEST_F(SigV4Test, ClockSkewUpToFifteenMinutesIsAccepted) {
    EXPECT_TRUE(verify(signed_get(), signed_at + 15min).key);
    EXPECT_TRUE(verify(signed_get(), signed_at - 15min).key);
}

TEST_F(SigV4Test, WrongSecretIsInvalidSignature) {
    write_keys({{std::string(access_key_id), "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY01"}});
    const SigV4Failure failure = failure_of(signed_post());
    EXPECT_EQ(failure.kind, SigV4FailureKind::signature_mismatch);
    EXPECT_EQ(failure.error_type(), "InvalidSignatureException");
    EXPECT_EQ(failure.http_status(), 403);
    EXPECT_TRUE(failure.message.starts_with(
        "The request signature we calculated does not match the signature you provided."))
        << failure.message;
}

// The signing key derived for a request is kept for the next: a key given a new secret
// must not verify with the old one's, nor the old secret after the key is back.
TEST_F(SigV4Test, AKeptSigningKeyServesOnlyItsSecret) {
    ASSERT_TRUE(verify(signed_post()).key);
    write_keys({{std::string(access_key_id), "wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY01"}});
    EXPECT_EQ(failure_of(signed_post()).kind, SigV4FailureKind::signature_mismatch);
    write_keys({{std::string(access_key_id), std::string(secret)}});
    EXPECT_TRUE(verify(signed_post()).key);
    EXPECT_TRUE(verify(signed_get()).key);
}

TEST_F(SigV4Test, AnyChangeToWhatWasSignedIsInvalidSignature) {
    std::vector<TestRequest> changed(6, signed_post());
    changed[0].body = R"({"name": "sofaaS"})";
    changed[1].target = "/2015-03-31/functions/hello%3Alive/invocations?Qualifier=%24LATEST&x=1";
    changed[2].target = "/2015-03-31/functions/hello:live/invocations?Qualifier=1";
    changed[3].method = "PUT";
    *changed[4].header("X-Custom") = "two spaces and tab, changed";
    *changed[5].header("Host") = "127.0.0.1:8081";
    for (const TestRequest& request : changed) {
        EXPECT_EQ(failure_of(request).kind, SigV4FailureKind::signature_mismatch) << request.target;
    }
}

TEST_F(SigV4Test, UnknownAccessKeyIsUnrecognizedClient) {
    write_keys({{"SOFAOTHERKEY23456789", std::string(secret)}});
    const SigV4Failure failure = failure_of(signed_get());
    EXPECT_EQ(failure.kind, SigV4FailureKind::unknown_key);
    EXPECT_EQ(failure.error_type(), "UnrecognizedClientException");
    EXPECT_EQ(failure.http_status(), 403);
    EXPECT_EQ(failure.message, "The security token included in the request is invalid.");
}

TEST_F(SigV4Test, ExpiredSignatureIsRefusedWithBothTimes) {
    const SigV4Failure failure = failure_of(signed_get(), signed_at + 16min);
    EXPECT_EQ(failure.kind, SigV4FailureKind::expired);
    EXPECT_EQ(failure.error_type(), "InvalidSignatureException");
    EXPECT_EQ(failure.message,
              "Signature expired: 20261206T083000Z is now earlier than 20261206T083100Z (20261206T084600Z - 15 min.)");
}

TEST_F(SigV4Test, SignatureFromTheFutureIsRefused) {
    const SigV4Failure failure = failure_of(signed_get(), signed_at - 16min);
    EXPECT_EQ(failure.kind, SigV4FailureKind::expired);
    EXPECT_EQ(failure.message, "Signature not yet current: 20261206T083000Z is still later than 20261206T082900Z "
                               "(20261206T081400Z + 15 min.)");
}

TEST_F(SigV4Test, CredentialScopedToAnotherRegionOrServiceIsRefused) {
    const SigV4Failure region = failure_of(signed_get(), signed_at, "eu-west-1");
    EXPECT_EQ(region.kind, SigV4FailureKind::wrong_region);
    EXPECT_EQ(region.error_type(), "InvalidSignatureException");
    EXPECT_NE(region.message.find("'us-east-1'"), std::string::npos) << region.message;
    EXPECT_NE(region.message.find("'eu-west-1'"), std::string::npos) << region.message;

    const SigV4Failure service = failure_of(signed_get(), signed_at, "us-east-1", "s3");
    EXPECT_EQ(service.kind, SigV4FailureKind::wrong_service);
    EXPECT_EQ(service.message, "Credential should be scoped to correct service: 's3', not 'lambda'.");
}

TEST_F(SigV4Test, CredentialDayMustBeTheRequestDay) {
    TestRequest request = signed_get();
    *request.header("X-Amz-Date") = "20261207T001000Z";
    const SigV4Failure failure = failure_of(request, signed_at + 15h);
    EXPECT_EQ(failure.kind, SigV4FailureKind::wrong_date);
    EXPECT_NE(failure.message.find("'20261206' != '20261207'"), std::string::npos) << failure.message;
}

TEST_F(SigV4Test, HostAndDateMustBeSigned) {
    TestRequest request = signed_get();
    *request.header("Authorization") =
        authorization("x-amz-date", "a4f55bc7b0031f378d0c6b96ccb8a52c67d59856149c71db4dcc627b74569552");
    SigV4Failure failure = failure_of(request);
    EXPECT_EQ(failure.kind, SigV4FailureKind::malformed);
    EXPECT_EQ(failure.error_type(), "IncompleteSignatureException");
    EXPECT_NE(failure.message.find("'Host'"), std::string::npos) << failure.message;

    *request.header("Authorization") =
        authorization("host", "a4f55bc7b0031f378d0c6b96ccb8a52c67d59856149c71db4dcc627b74569552");
    EXPECT_EQ(failure_of(request).kind, SigV4FailureKind::malformed);

    request = signed_get();
    request.headers.erase(request.headers.begin() + 1);  // X-Amz-Date
    failure = failure_of(request);
    EXPECT_EQ(failure.kind, SigV4FailureKind::malformed);
    EXPECT_NE(failure.message.find("'X-Amz-Date' or a 'Date'"), std::string::npos) << failure.message;
}

TEST_F(SigV4Test, SecurityTokenIsRefusedAsUnrecognizedClient) {
    TestRequest request = signed_get();
    request.headers.emplace_back("X-Amz-Security-Token", "FwoGZXIvYXdzEXAMPLE");
    const SigV4Failure failure = failure_of(request);
    EXPECT_EQ(failure.kind, SigV4FailureKind::security_token);
    EXPECT_EQ(failure.error_type(), "UnrecognizedClientException");
    EXPECT_TRUE(failure.message.starts_with("The security token included in the request is invalid.")) << failure.message;
}

TEST_F(SigV4Test, PresignedQueryIsRefused) {
    const TestRequest request{"GET",
                              "/v1/functions?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=SOFAEXAMPLEKEY234567%2F"
                              "20261206%2Fus-east-1%2Flambda%2Faws4_request&X-Amz-Signature=00",
                              {{"Host", "127.0.0.1:8080"}},
                              ""};
    const SigV4Failure failure = failure_of(request);
    EXPECT_EQ(failure.kind, SigV4FailureKind::presigned);
    EXPECT_EQ(failure.http_status(), 403);

    TestRequest with_bearer = request;
    with_bearer.headers.emplace_back("Authorization", "Bearer token");
    EXPECT_FALSE(verify(with_bearer).is_sigv4());
}

TEST_F(SigV4Test, OtherSchemesAreNotSigV4) {
    TestRequest request = signed_get();
    *request.header("Authorization") = "Bearer SOFAEXAMPLEKEY234567:secret";
    EXPECT_FALSE(verify(request).is_sigv4());
    request.headers.pop_back();
    EXPECT_FALSE(verify(request).is_sigv4());
    EXPECT_FALSE(is_sigv4_authorization("Bearer x"));
    EXPECT_TRUE(is_sigv4_authorization("AWS4-ECDSA-P256-SHA256 Credential=x"));
}

TEST_F(SigV4Test, ClaimedSignerNeedsOnlyTheHeader) {
    const std::string header = *signed_get().header("Authorization");
    const SigV4Verdict claimed = sigv4_claimed_signer(header, SigningSecrets{*keys_}, "us-east-1", "lambda");
    ASSERT_TRUE(claimed.key);
    EXPECT_EQ(claimed.key->access_key_id, access_key_id);
    EXPECT_EQ(sigv4_claimed_signer(header, SigningSecrets{*keys_}, "eu-west-1", "lambda").failure->kind, SigV4FailureKind::wrong_region);
    EXPECT_EQ(sigv4_claimed_signer("AWS4-HMAC-SHA256 x", SigningSecrets{*keys_}, "us-east-1", "lambda").failure->kind,
              SigV4FailureKind::malformed);
    EXPECT_FALSE(sigv4_claimed_signer("Bearer token", SigningSecrets{*keys_}, "us-east-1", "lambda").is_sigv4());
    write_keys({});
    EXPECT_EQ(sigv4_claimed_signer(header, SigningSecrets{*keys_}, "us-east-1", "lambda").failure->kind, SigV4FailureKind::unknown_key);
}

TEST_F(SigV4Test, MalformedHeadersAreIncompleteSignatures) {
    const std::string signature = "a4f55bc7b0031f378d0c6b96ccb8a52c67d59856149c71db4dcc627b74569552";
    const std::string scope = "SOFAEXAMPLEKEY234567/20261206/us-east-1/lambda/aws4_request";
    for (const std::string& header : std::vector<std::string>{
             "AWS4-HMAC-SHA256",
             "AWS4-HMAC-SHA256 ",
             "AWS4-HMAC-SHA256Credential=" + scope + ", SignedHeaders=host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA1 Credential=" + scope + ", SignedHeaders=host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=" + scope + ", Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date",
             "AWS4-HMAC-SHA256 Credential=" + scope + ", Credential=" + scope +
                 ", SignedHeaders=host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date, Signature=" + signature +
                 ", Extra=1",
             "AWS4-HMAC-SHA256 Credential=" + scope + ",, SignedHeaders=host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=SOFAEXAMPLEKEY234567/20261206/us-east-1/lambda, SignedHeaders=host;x-amz-date, "
             "Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=SOFAEXAMPLEKEY234567/2026126/us-east-1/lambda/aws4_request, "
             "SignedHeaders=host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=SOFAEXAMPLEKEY234567/20261206/us-east-1/lambda/aws5_request, "
             "SignedHeaders=host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=Host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;host;x-amz-date, Signature=" + signature,
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date, Signature=" + signature + "0",
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date, Signature=A4F55BC7B0031F378D0C6"
                                                      "B96CCB8A52C67D59856149C71DB4DCC627B74569552",
             "AWS4-HMAC-SHA256 Credential=" + scope + ", SignedHeaders=host;x-amz-date;x-missing, Signature=" + signature,
         }) {
        TestRequest request = signed_get();
        *request.header("Authorization") = header;
        EXPECT_EQ(failure_of(request).kind, SigV4FailureKind::malformed) << header;
    }
    TestRequest two_headers = signed_get();
    two_headers.headers.emplace_back("Authorization", *two_headers.header("Authorization"));
    EXPECT_EQ(failure_of(two_headers).kind, SigV4FailureKind::malformed);
    TestRequest bad_date = signed_get();
    *bad_date.header("X-Amz-Date") = "2026-12-06T08:30:00Z";
    EXPECT_EQ(failure_of(bad_date).kind, SigV4FailureKind::malformed);
}

std::string without_whitespace(std::string text) {
    std::erase_if(text, [](char c) { return c == ' ' || c == '\t'; });
    return text;
}

// Random edits of a valid header: none may crash, and none may verify unless all it
// changed is the whitespace between elements (which AWS ignores as well).
TEST_F(SigV4Test, RandomMutationsOfAValidHeaderNeverVerify) {
    const std::string original = *signed_get().header("Authorization");
    using namespace std::string_literals;
    const std::string alphabet = "AWS4-HMACS256 Credential=/,;SignedHeaders:0123456789abcdefx\t%\"\0\xff"s;
    std::mt19937 random(20261206);
    const auto below = [&](size_t bound) { return std::uniform_int_distribution<size_t>(0, bound - 1)(random); };
    int verified = 0;
    for (int round = 0; round < 2000; ++round) {
        std::string mutated = original;
        for (size_t edits = 1 + below(3); edits > 0; --edits) {
            const size_t at = below(mutated.size() + 1);
            switch (below(5)) {
                case 0: if (at < mutated.size()) mutated[at] = alphabet[below(alphabet.size())]; break;
                case 1: mutated.insert(at, 1, alphabet[below(alphabet.size())]); break;
                case 2: mutated.erase(at, below(8)); break;
                case 3: if (!mutated.empty()) mutated.insert(at, mutated.substr(below(mutated.size()), below(20))); break;
                case 4: mutated.resize(at); break;
            }
        }
        TestRequest request = signed_get();
        *request.header("Authorization") = mutated;
        const SigV4Verdict verdict = verify(request);
        if (verdict.key) {
            ++verified;
            EXPECT_EQ(without_whitespace(mutated), without_whitespace(original)) << mutated;
        } else if (verdict.failure) {
            EXPECT_FALSE(verdict.failure->message.empty());
        }
    }
    EXPECT_LT(verified, 100);
}

}  // namespace
}  // namespace sofaas
