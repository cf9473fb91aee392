// Roles, temporary credentials and AssumeRoleWithWebIdentity: what a role grants, how
// sessions are stored, found and expire, the exchange of an identity token for
// credentials (with a verifier that stands in for the user pools), and STS's query
// protocol and XML.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "gateway/auth.h"
#include "gateway/sts_api.h"
#include "gateway/sts_query.h"
#include "keys/session_store.h"
#include "keys/sigv4.h"
#include "sts/assume_role.h"
#include "sts/role_store.h"
#include "support/temp_dir.h"
#include "support/test_data.h"

namespace sofaas {
namespace {

using namespace std::chrono_literals;

InvokeGrant grant_of(std::string_view text) {
    std::string why;
    auto grant = parse_invoke_grant(text, &why);
    EXPECT_TRUE(grant) << why;
    return grant.value_or(InvokeGrant{});
}

Role app_role(std::string name = "app") {
    Role role;
    role.name = std::move(name);
    role.grants = {grant_of("orders"), grant_of("reports:prod")};
    role.trusted_pools = {"customers"};
    return role;
}

TEST(InvokeGrant, AFunctionAloneGrantsEveryQualifier) {
    const InvokeGrant grant = grant_of("orders");
    EXPECT_TRUE(grant.allows("orders", ""));
    EXPECT_TRUE(grant.allows("orders", "$LATEST"));
    EXPECT_TRUE(grant.allows("orders", "prod"));
    EXPECT_TRUE(grant.allows("orders", "3"));
    EXPECT_FALSE(grant.allows("orders2", ""));
    EXPECT_FALSE(grant.allows("order", ""));
}

TEST(InvokeGrant, AQualifierGrantsThatQualifierOnly) {
    const InvokeGrant prod = grant_of("reports:prod");
    EXPECT_TRUE(prod.allows("reports", "prod"));
    EXPECT_FALSE(prod.allows("reports", ""));
    EXPECT_FALSE(prod.allows("reports", "$LATEST"));
    EXPECT_FALSE(prod.allows("reports", "1"));
    // An unqualified call runs $LATEST: the two are one qualifier.
    const InvokeGrant latest = grant_of("reports:$LATEST");
    EXPECT_TRUE(latest.allows("reports", ""));
    EXPECT_TRUE(latest.allows("reports", "$LATEST"));
    EXPECT_FALSE(latest.allows("reports", "prod"));
    EXPECT_EQ(prod.text(), "reports:prod");
}

TEST(InvokeGrant, RefusesWhatNamesNoFunctionOrQualifier) {
    std::string why;
    EXPECT_FALSE(parse_invoke_grant("", &why));
    EXPECT_FALSE(parse_invoke_grant("../etc", &why));
    EXPECT_FALSE(parse_invoke_grant("orders:", &why));
    EXPECT_FALSE(parse_invoke_grant("orders:a:b", &why));
    EXPECT_FALSE(parse_invoke_grant("orders:pr od", &why));
    EXPECT_NE(why.find("qualifier"), std::string::npos) << why;
}

TEST(Role, TrustsItsPoolsAndIssuersOnly) {
    Role role = app_role();
    role.trusted_pools.push_back("https://login.example.com");
    EXPECT_TRUE(role.trusts("customers", "http://127.0.0.1:8080/auth/customers"));
    EXPECT_FALSE(role.trusts("staff", "http://127.0.0.1:8080/auth/staff"));
    EXPECT_TRUE(role.trusts("", "https://login.example.com"));
    EXPECT_FALSE(role.trusts("", "https://login.example.org"));
    // An external provider ("" pool) never matches a pool of that name by accident.
    EXPECT_FALSE(role.trusts("", ""));
    // By the configured name of an external provider, for its tokens only.
    role.trusted_pools.push_back("corporate");
    EXPECT_TRUE(role.trusts("", "https://login.example.net", "corporate"));
    EXPECT_FALSE(role.trusts("other", "https://login.example.net", "corporate"));
    EXPECT_TRUE(role.may_invoke("orders", "7"));
    EXPECT_FALSE(role.may_invoke("reports", ""));
}

class RoleStoreTest : public ::testing::Test {
protected:
    testing::TempDir dir_{"role-store-test"};
};

TEST_F(RoleStoreTest, KeepsRolesAcrossRestartsInAPrivateFile) {
    {
        RoleStore roles(dir_ / "roles.json");
        Role role = app_role();
        role.grants.push_back(grant_of("orders"));  // a duplicate, dropped
        role.max_session = 900s;
        const Role created = roles.create(role);
        EXPECT_EQ(created.grants.size(), 2u);
        EXPECT_NE(created.created, WallTime{});
    }
    struct stat status {};
    ASSERT_EQ(::stat((dir_ / "roles.json").c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
    RoleStore reloaded(dir_ / "roles.json");
    const std::optional<Role> role = reloaded.find("app");
    ASSERT_TRUE(role);
    EXPECT_EQ(role->max_session, 900s);
    EXPECT_TRUE(role->may_invoke("reports", "prod"));
    EXPECT_EQ(role->trusted_pools, std::vector<std::string>{"customers"});
    reloaded.remove("app");
    EXPECT_FALSE(RoleStore(dir_ / "roles.json").find("app"));
}

TEST_F(RoleStoreTest, RefusesRolesThatCannotWork) {
    RoleStore roles(dir_ / "roles.json");
    const auto kind_of = [&](Role role) {
        try {
            roles.create(std::move(role));
        } catch (const RoleError& error) {
            return error.kind();
        }
        ADD_FAILURE() << "created";
        return RoleError::Kind::exists;
    };
    Role no_grant = app_role();
    no_grant.grants.clear();
    EXPECT_EQ(kind_of(no_grant), RoleError::Kind::invalid);
    Role no_trust = app_role();
    no_trust.trusted_pools.clear();
    EXPECT_EQ(kind_of(no_trust), RoleError::Kind::invalid);
    Role bad_pool = app_role();
    bad_pool.trusted_pools = {"pool with\nline"};
    EXPECT_EQ(kind_of(bad_pool), RoleError::Kind::invalid);
    for (auto seconds : {899s, 43201s}) {
        Role role = app_role();
        role.max_session = seconds;
        EXPECT_EQ(kind_of(role), RoleError::Kind::invalid) << seconds.count();
    }
    EXPECT_EQ(kind_of(app_role("bad/name")), RoleError::Kind::invalid);
    roles.create(app_role());
    EXPECT_EQ(kind_of(app_role()), RoleError::Kind::exists);
    EXPECT_THROW(roles.remove("none"), RoleError);
}

class SessionStoreTest : public ::testing::Test {
protected:
    std::filesystem::path file() const { return dir_ / "sessions.json"; }
    static SessionGrant grant() { return {"app", "user-1", "http://127.0.0.1/auth/customers", "alice"}; }

    testing::TempDir dir_{"session-store-test"};
};

TEST_F(SessionStoreTest, IssuesCredentialsFoundOnlyWithTheirToken) {
    SessionStore sessions(file());
    const SessionCredentials issued = sessions.issue(grant(), 900s);
    EXPECT_TRUE(issued.session.access_key_id.starts_with("ASIA"));
    EXPECT_EQ(issued.session.access_key_id.size(), 20u);
    EXPECT_EQ(issued.secret_access_key.size(), 40u);
    EXPECT_GE(issued.session_token.size(), 100u);
    EXPECT_EQ(issued.session.expires - issued.session.issued, 900s);

    auto found = sessions.find(issued.session.access_key_id, issued.session_token);
    ASSERT_TRUE(std::holds_alternative<SessionCredentials>(found));
    EXPECT_EQ(std::get<SessionCredentials>(found).secret_access_key, issued.secret_access_key);
    EXPECT_EQ(std::get<SessionCredentials>(found).session.user_sub, "user-1");

    std::string tampered = issued.session_token;
    tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
    EXPECT_EQ(std::get<SessionRefusal>(sessions.find(issued.session.access_key_id, tampered)), SessionRefusal::wrong_token);
    EXPECT_EQ(std::get<SessionRefusal>(sessions.find(issued.session.access_key_id, "")), SessionRefusal::wrong_token);
    EXPECT_EQ(std::get<SessionRefusal>(sessions.find("ASIAAAAAAAAAAAAAAAAA", issued.session_token)),
              SessionRefusal::unknown);
    struct stat status {};
    ASSERT_EQ(::stat(file().c_str(), &status), 0);
    EXPECT_EQ(status.st_mode & 0777, 0600u);
}

TEST_F(SessionStoreTest, ExpiredSessionsAreToldExpiredThenPurged) {
    SessionCredentials issued;
    {
        SessionStore sessions(file());
        issued = sessions.issue(grant(), 900s);
    }
    // The same file, read by a clock 901 s later: kept, and told expired.
    SessionStore later(file(), 901s);
    EXPECT_EQ(std::get<SessionRefusal>(later.find(issued.session.access_key_id, issued.session_token)),
              SessionRefusal::expired);
    EXPECT_TRUE(later.live_sessions("app").empty());
    EXPECT_TRUE(later.claimed(issued.session.access_key_id));
    // Past the retention, a start drops it from the file.
    SessionStore much_later(file(), 900s + expired_session_retention);
    EXPECT_EQ(std::get<SessionRefusal>(much_later.find(issued.session.access_key_id, issued.session_token)),
              SessionRefusal::unknown);
    EXPECT_EQ(testing::file_text(file()).find(issued.session.access_key_id), std::string::npos);
}

TEST_F(SessionStoreTest, RevokingARoleEndsItsSessionsOnly) {
    SessionStore sessions(file());
    const SessionCredentials first = sessions.issue(grant(), 900s);
    const SessionCredentials second = sessions.issue(grant(), 3600s);
    SessionGrant other = grant();
    other.role = "other";
    const SessionCredentials kept = sessions.issue(other, 900s);
    ASSERT_EQ(sessions.live_sessions("app").size(), 2u);
    EXPECT_EQ(sessions.live_sessions("app").front().access_key_id, first.session.access_key_id);  // by expiry
    EXPECT_EQ(sessions.revoke_role("app"), 2u);
    EXPECT_EQ(std::get<SessionRefusal>(sessions.find(second.session.access_key_id, second.session_token)),
              SessionRefusal::unknown);
    EXPECT_TRUE(std::holds_alternative<SessionCredentials>(sessions.find(kept.session.access_key_id, kept.session_token)));
    // Durable: a restart does not bring them back.
    SessionStore reloaded(file());
    EXPECT_EQ(std::get<SessionRefusal>(reloaded.find(first.session.access_key_id, first.session_token)),
              SessionRefusal::unknown);
    EXPECT_EQ(reloaded.revoke_role("app"), 0u);
}

// Stands in for the user pools: tokens are "valid:POOL:SUB", "expired", anything else is
// malformed.
class TestVerifier : public IdentityTokenVerifier {
public:
    std::variant<VerifiedIdentity, TokenRejection> verify(std::string_view token, TokenUse use,
                                                          std::optional<std::string_view>) const override {
        last_use = use;
        if (token == "expired") return TokenRejection{TokenRejectionKind::expired, "the token expired"};
        if (!token.starts_with("valid:")) return TokenRejection{TokenRejectionKind::malformed, "not a JWT"};
        const std::string_view rest = token.substr(6);
        VerifiedIdentity identity;
        identity.pool = std::string(rest.substr(0, rest.find(':')));
        identity.subject = std::string(rest.substr(rest.find(':') + 1));
        identity.issuer = "http://127.0.0.1:8080/auth/" + identity.pool;
        identity.audiences = {"web-client"};
        return identity;
    }
    mutable std::optional<TokenUse> last_use;
};

TEST_F(SessionStoreTest, AUserHoldsABoundedNumberOfSessions) {
    SessionStore sessions(file());
    std::vector<SessionCredentials> issued;
    for (size_t i = 0; i < max_sessions_per_user + 2; ++i) issued.push_back(sessions.issue(grant(), 900s));
    EXPECT_EQ(sessions.live_sessions("app").size(), max_sessions_per_user);
    // The oldest ended; the newest work.
    EXPECT_EQ(std::get<SessionRefusal>(sessions.find(issued[0].session.access_key_id, issued[0].session_token)),
              SessionRefusal::unknown);
    EXPECT_TRUE(std::holds_alternative<SessionCredentials>(
        sessions.find(issued.back().session.access_key_id, issued.back().session_token)));
    SessionGrant another = grant();
    another.user_sub = "user-2";
    sessions.issue(another, 900s);
    EXPECT_EQ(sessions.live_sessions("app").size(), max_sessions_per_user + 1);
}

class AssumeRoleTest : public ::testing::Test {
protected:
    AssumeRoleTest() {
        Role role = app_role();
        role.max_session = 1800s;
        roles_.create(role);
    }

    std::variant<AssumedRole, StsError> assume(std::string token, std::optional<std::chrono::seconds> duration = {},
                                               std::string arn = "arn:aws:iam::000000000000:role/app") {
        return assume_role_with_web_identity(
            AssumeRoleRequest{std::move(arn), "alice@example.com", std::move(token), duration}, context());
    }
    AssumeRoleContext context() {
        return AssumeRoleContext{verifier_, roles_, sessions_, "000000000000",
                                 {ExternalIssuer{"corporate", "https://login.example.com"}}};
    }
    StsErrorKind refusal(std::variant<AssumedRole, StsError> outcome) {
        if (auto* error = std::get_if<StsError>(&outcome)) return error->kind;
        ADD_FAILURE() << "assumed";
        return StsErrorKind::validation;
    }

    testing::TempDir dir_{"assume-role-test"};
    TestVerifier verifier_;
    RoleStore roles_{dir_ / "roles.json"};
    SessionStore sessions_{dir_ / "sessions.json"};
};

TEST_F(AssumeRoleTest, AnIdTokenOfATrustedPoolGetsCredentialsForTheRole) {
    auto outcome = assume("valid:customers:sub-123", 900s);
    ASSERT_TRUE(std::holds_alternative<AssumedRole>(outcome)) << std::get<StsError>(outcome).message;
    const AssumedRole& assumed = std::get<AssumedRole>(outcome);
    EXPECT_EQ(verifier_.last_use, TokenUse::id);
    EXPECT_EQ(assumed.credentials.session.role, "app");
    EXPECT_EQ(assumed.credentials.session.user_sub, "sub-123");
    EXPECT_EQ(assumed.credentials.session.expires - assumed.credentials.session.issued, 900s);
    EXPECT_EQ(assumed.assumed_role_arn, "arn:aws:sts::000000000000:assumed-role/app/alice@example.com");
    EXPECT_TRUE(assumed.assumed_role_id.starts_with("AROA")) << assumed.assumed_role_id;
    EXPECT_TRUE(assumed.assumed_role_id.ends_with(":alice@example.com"));
    EXPECT_EQ(assumed.provider, "http://127.0.0.1:8080/auth/customers");
    EXPECT_EQ(assumed.audience, "web-client");
    EXPECT_TRUE(std::holds_alternative<SessionCredentials>(
        sessions_.find(assumed.credentials.session.access_key_id, assumed.credentials.session_token)));
}

TEST_F(AssumeRoleTest, TheDefaultDurationIsAnHourCappedByTheRole) {
    auto outcome = assume("valid:customers:sub-123");
    ASSERT_TRUE(std::holds_alternative<AssumedRole>(outcome));
    const Session& session = std::get<AssumedRole>(outcome).credentials.session;
    EXPECT_EQ(session.expires - session.issued, 1800s);  // the role's maximum, below 3600
    EXPECT_EQ(refusal(assume("valid:customers:sub-123", 1801s)), StsErrorKind::validation);
    EXPECT_EQ(refusal(assume("valid:customers:sub-123", 899s)), StsErrorKind::validation);
}

TEST_F(AssumeRoleTest, UntrustedPoolsAndUnknownRolesAreRefusedAlike) {
    auto untrusted = assume("valid:staff:sub-9");
    auto unknown = assume("valid:customers:sub-123", std::nullopt, "arn:aws:iam::000000000000:role/nosuch");
    ASSERT_TRUE(std::holds_alternative<StsError>(untrusted));
    ASSERT_TRUE(std::holds_alternative<StsError>(unknown));
    EXPECT_EQ(std::get<StsError>(untrusted).kind, StsErrorKind::access_denied);
    EXPECT_EQ(std::get<StsError>(unknown).kind, StsErrorKind::access_denied);
    EXPECT_EQ(std::get<StsError>(untrusted).message, std::get<StsError>(unknown).message);
    EXPECT_EQ(refusal(assume("valid:customers:sub", std::nullopt, "arn:aws:iam::999999999999:role/app")),
              StsErrorKind::access_denied);
    EXPECT_EQ(refusal(assume("valid:customers:sub", std::nullopt, "arn:aws:lambda:us-east-1:0:function:app")),
              StsErrorKind::validation);
    EXPECT_TRUE(sessions_.live_sessions("app").empty());
}

TEST_F(AssumeRoleTest, BadAndExpiredTokensAreToldApart) {
    EXPECT_EQ(refusal(assume("expired")), StsErrorKind::expired_token);
    EXPECT_EQ(refusal(assume("eyJhbGciOiJub25lIn0.e30.")), StsErrorKind::invalid_identity_token);
}

TEST_F(AssumeRoleTest, SessionNamesFollowStsRules) {
    for (const char* name : {"a", "with space", "semi;colon", "x/y"}) {
        auto outcome = assume_role_with_web_identity(
            AssumeRoleRequest{"arn:aws:iam::000000000000:role/app", name, "valid:customers:s", std::nullopt}, context());
        EXPECT_EQ(refusal(std::move(outcome)), StsErrorKind::validation) << name;
    }
}

TEST(StsQuery, ReadsAssumeRoleWithWebIdentity) {
    const QueryParams params = parse_query(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fapp"
        "&RoleSessionName=web&WebIdentityToken=eyJ.eyJ.sig&DurationSeconds=900");
    auto parsed = parse_assume_role_request(params);
    ASSERT_TRUE(std::holds_alternative<AssumeRoleRequest>(parsed)) << std::get<StsFailure>(parsed).message;
    const AssumeRoleRequest& request = std::get<AssumeRoleRequest>(parsed);
    EXPECT_EQ(request.role_arn, "arn:aws:iam::000000000000:role/app");
    EXPECT_EQ(request.session_name, "web");
    EXPECT_EQ(request.web_identity_token, "eyJ.eyJ.sig");
    EXPECT_EQ(request.duration, 900s);
}

TEST(StsQuery, RefusesWithStsCodes) {
    const auto code_of = [](std::string_view query) {
        auto parsed = parse_assume_role_request(parse_query(query));
        EXPECT_TRUE(std::holds_alternative<StsFailure>(parsed)) << query;
        return std::holds_alternative<StsFailure>(parsed) ? std::get<StsFailure>(parsed).code
                                                          : StsErrorCode::service_unavailable;
    };
    const std::string rest = "&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fapp&RoleSessionName=web";
    EXPECT_EQ(code_of("Version=2011-06-15"), StsErrorCode::missing_parameter);
    EXPECT_EQ(code_of("Action=GetCallerIdentity&Version=2011-06-15"), StsErrorCode::invalid_action);
    EXPECT_EQ(code_of("Action=AssumeRoleWithWebIdentity&Version=2012-01-01" + rest + "&WebIdentityToken=abcd"),
              StsErrorCode::invalid_parameter_value);
    EXPECT_EQ(code_of("Action=AssumeRoleWithWebIdentity" + rest), StsErrorCode::missing_parameter);
    EXPECT_EQ(code_of("Action=AssumeRoleWithWebIdentity" + rest + "&WebIdentityToken=abc"), StsErrorCode::validation_error);
    EXPECT_EQ(code_of("Action=AssumeRoleWithWebIdentity" + rest + "&WebIdentityToken=abcd&DurationSeconds=-5"),
              StsErrorCode::invalid_parameter_value);
    EXPECT_EQ(code_of("Action=AssumeRoleWithWebIdentity&RoleArn=short&RoleSessionName=web&WebIdentityToken=abcd"),
              StsErrorCode::validation_error);
    EXPECT_EQ((StsFailure{StsErrorCode::access_denied, ""}.http_status()), 403);
    EXPECT_EQ((StsFailure{StsErrorCode::invalid_identity_token, ""}.http_status()), 400);
    EXPECT_EQ((StsFailure{StsErrorCode::expired_token, ""}.code_name()), "ExpiredTokenException");
}

TEST(StsQuery, ReadsTheFormBodyOfAPost) {
    IncomingRequest request;
    request.method = "POST";
    request.target = "/sts/";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    request.body = "Action=AssumeRoleWithWebIdentity&WebIdentityToken=a+b%2Bc";
    const QueryParams params = sts_parameters(request);
    EXPECT_EQ(find_param(params, "Action"), "AssumeRoleWithWebIdentity");
    EXPECT_EQ(find_param(params, "WebIdentityToken"), "a b+c");
}

TEST(StsQuery, TheEndpointIsSlashStsOrAFormPostedToTheRoot) {
    const auto request = [](std::string method, std::string target, std::string content_type = "") {
        IncomingRequest incoming;
        incoming.method = std::move(method);
        incoming.target = std::move(target);
        if (!content_type.empty()) incoming.headers = {{"Content-Type", std::move(content_type)}};
        return incoming;
    };
    EXPECT_TRUE(is_sts_request(request("POST", "/sts/", "application/x-www-form-urlencoded; charset=utf-8")));
    EXPECT_TRUE(is_sts_request(request("GET", "/sts?Action=AssumeRoleWithWebIdentity")));
    EXPECT_TRUE(is_sts_request(request("POST", "/", "application/x-www-form-urlencoded")));
    EXPECT_TRUE(is_sts_request(request("GET", "/?Action=AssumeRoleWithWebIdentity")));
    // The root is a site's or a route's otherwise.
    EXPECT_FALSE(is_sts_request(request("GET", "/")));
    EXPECT_FALSE(is_sts_request(request("POST", "/", "application/json")));
    EXPECT_FALSE(is_sts_request(request("POST", "/stsx/", "application/x-www-form-urlencoded")));
}

TEST(StsQuery, AnswersInStsXml) {
    AssumedRole assumed;
    assumed.credentials.session.access_key_id = "ASIAEXAMPLE234567ABC";
    assumed.credentials.session.user_sub = "sub<&>";
    assumed.credentials.session.expires = testing::utc(2026, 12, 6, 15, 0, 0, 123456);
    assumed.credentials.secret_access_key = "secret";
    assumed.credentials.session_token = "token";
    assumed.assumed_role_arn = "arn:aws:sts::000000000000:assumed-role/app/web";
    assumed.assumed_role_id = "AROAEXAMPLE:web";
    assumed.provider = "http://127.0.0.1/auth/customers";
    assumed.audience = "client";
    const std::string xml = assumed_role_xml(assumed, "req-1");
    EXPECT_TRUE(xml.starts_with("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));
    for (const char* part : {"<AssumeRoleWithWebIdentityResult>", "<AccessKeyId>ASIAEXAMPLE234567ABC</AccessKeyId>",
                             "<SecretAccessKey>secret</SecretAccessKey>", "<SessionToken>token</SessionToken>",
                             "<Expiration>2026-12-06T15:00:00Z</Expiration>",
                             "<SubjectFromWebIdentityToken>sub&lt;&amp;&gt;</SubjectFromWebIdentityToken>",
                             "<AssumedRoleUser><Arn>arn:aws:sts::000000000000:assumed-role/app/web</Arn>",
                             "<Provider>http://127.0.0.1/auth/customers</Provider>", "<Audience>client</Audience>",
                             "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"}) {
        EXPECT_NE(xml.find(part), std::string::npos) << part << "\n" << xml;
    }
    const HttpResponseParts error = sts_error({StsErrorCode::access_denied, "no <role>"}, "req-2");
    EXPECT_EQ(error.status, 403);
    for (const char* part : {"<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">",
                             "<Error><Type>Sender</Type><Code>AccessDenied</Code><Message>no &lt;role&gt;</Message></Error>",
                             "<RequestId>req-2</RequestId>"}) {
        EXPECT_NE(error.body.find(part), std::string::npos) << part << "\n" << error.body;
    }
    EXPECT_EQ(xml_text(std::string("a\x01" "b\n", 4)), "a?b\n");
}

// What SigV4 tells a request signed with a session's access key id before any signature is
// computed: the token decides between unknown, not this session's, and expired.
TEST_F(SessionStoreTest, SignaturesWithSessionIdsAreRefusedByWhatTheirTokenSays) {
    SessionCredentials issued;
    {
        SessionStore sessions(file());
        issued = sessions.issue(grant(), 900s);
    }
    SessionStore sessions(file(), 901s);
    KeyStore keys(dir_ / "keys.json");
    const std::vector<std::pair<std::string, std::string>> base = {
        {"Host", "127.0.0.1:8080"},
        {"X-Amz-Date", "20261206T083000Z"},
        {"Authorization", "AWS4-HMAC-SHA256 Credential=" + issued.session.access_key_id +
                              "/20261206/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date;"
                              "x-amz-security-token, Signature=" + std::string(64, '0')}};
    const auto failure_with = [&](std::optional<std::string> token) {
        auto headers = base;
        if (token) headers.emplace_back("X-Amz-Security-Token", *token);
        const SignedRequest request{"GET", "/2015-03-31/functions", "", headers, ""};
        SigV4Verdict verdict = verify_sigv4(request, SigningSecrets{keys, &sessions}, wall_now(), "us-east-1", "lambda");
        EXPECT_FALSE(verdict.session);
        return verdict.failure.value_or(SigV4Failure{});
    };
    const SigV4Failure expired = failure_with(issued.session_token);
    EXPECT_EQ(expired.kind, SigV4FailureKind::expired_token);
    EXPECT_EQ(expired.error_type(), "ExpiredTokenException");
    EXPECT_EQ(expired.http_status(), 403);
    const SigV4Failure tampered = failure_with(issued.session_token + "x");
    EXPECT_EQ(tampered.kind, SigV4FailureKind::security_token);
    EXPECT_EQ(tampered.error_type(), "UnrecognizedClientException");
    EXPECT_EQ(failure_with(std::nullopt).kind, SigV4FailureKind::security_token);
    sessions.revoke_role("app");
    const SigV4Failure revoked = failure_with(issued.session_token);
    EXPECT_EQ(revoked.kind, SigV4FailureKind::unknown_key);
    EXPECT_EQ(revoked.error_type(), "UnrecognizedClientException");
}

}  // namespace
}  // namespace sofaas
