// User pools and the token verifier: passwords hashed with argon2id, tokens signed ES256
// and checked against every way an attacker bends one (tampered, expired, not yet valid,
// wrong issuer, alg none, HS256 keyed with the public key, another pool's, the wrong use,
// a revoked session), the lockout, and key rotation.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "events/sqlite_connection.h"
#include "identity/json_web_token.h"
#include "identity/password_hash.h"
#include "identity/sign_in_throttle.h"
#include "identity/signing_key.h"
#include "identity/token_verifier.h"
#include "identity/user_pools.h"
#include "support/temp_dir.h"

namespace sofaas::identity {
namespace {

using nlohmann::json;

constexpr std::string_view identity_host = "127.0.0.1:8080";
const std::string identity_password = "correct horse battery";

int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(wall_now().time_since_epoch()).count();
}

// A pool "shop" with user "alice" (scope items.read) and the daemon's verifier over it.
struct PoolFixture {
    testing::TempDir dir{"identity-test"};
    UserPools pools;
    ExternalProviders providers{{}};
    TokenVerifier verifier{pools, providers, std::nullopt};
    std::string issuer = pool_issuer(std::nullopt, identity_host, "shop");

    explicit PoolFixture(UserPoolSettings settings = {}) : pools(dir / "users.db", settings) {
        pools.create_pool("shop", true, 8);
        pools.add_user("shop", "alice", identity_password, {"items.read"});
    }

    IssuedTokens sign_in() { return pools.sign_in("shop", "alice", identity_password, "10.0.0.1", issuer); }

    // The pool's current private key, read from its database as an attacker with the
    // key would have it: to sign tokens whose claims the test chooses.
    KeyPair stolen_key(const std::string& pool = "shop") {
        SqliteConnection db(dir / "users.db", 1000);
        auto query = db.query("SELECT kid, private_pem, public_jwk FROM signing_keys WHERE pool = ? AND retired_us IS NULL");
        query.bind(pool);
        EXPECT_TRUE(query.next());
        return KeyPair{query.text(0), query.text(1), query.text(2)};
    }

    json claims_of(const std::string& token) {
        const auto read = read_token(token);
        return json::parse(std::get<UnverifiedToken>(read).payload_json);
    }

    TokenRejectionKind rejection(const std::string& token, TokenUse use = TokenUse::access,
                                 std::optional<std::string_view> pool = std::nullopt) {
        const auto result = verifier.verify(token, use, pool);
        EXPECT_TRUE(std::holds_alternative<TokenRejection>(result)) << "accepted: " << token;
        return std::holds_alternative<TokenRejection>(result) ? std::get<TokenRejection>(result).kind
                                                               : TokenRejectionKind::malformed;
    }
};

std::string part(const json& value) { return base64url_encode(value.dump()); }

std::string hs256(const std::string& header_and_payload, const std::string& secret) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(header_and_payload.data()), header_and_payload.size(), mac, &length);
    return base64url_encode(std::string(reinterpret_cast<char*>(mac), length));
}

TEST(PasswordHash, IsArgon2idAndMatchesOnlyItsPassword) {
    const std::string hash = hash_password("hunter22 hunter22");
    EXPECT_TRUE(hash.starts_with("$argon2id$")) << hash;
    EXPECT_EQ(hash.find("hunter22"), std::string::npos);
    EXPECT_TRUE(password_matches(hash, "hunter22 hunter22"));
    EXPECT_FALSE(password_matches(hash, "hunter22 hunter23"));
    EXPECT_FALSE(password_matches(hash, ""));
    EXPECT_FALSE(password_matches("not a hash", "hunter22 hunter22"));
    EXPECT_NE(hash_password("hunter22 hunter22"), hash);  // salted
}

TEST(UserPools, SignInIssuesIdAndAccessTokensTheVerifierAccepts) {
    PoolFixture fixture;
    const IssuedTokens tokens = fixture.sign_in();
    EXPECT_FALSE(tokens.refresh_token.empty());
    EXPECT_EQ(tokens.expires_in, std::chrono::seconds(3600));

    const auto id = fixture.verifier.verify(tokens.id_token, TokenUse::id, std::nullopt);
    ASSERT_TRUE(std::holds_alternative<VerifiedIdentity>(id)) << std::get<TokenRejection>(id).message;
    const VerifiedIdentity& who = std::get<VerifiedIdentity>(id);
    EXPECT_EQ(who.pool, "shop");
    EXPECT_EQ(who.issuer, "http://127.0.0.1:8080/auth/shop");
    EXPECT_EQ(who.subject, fixture.pools.list_users("shop").at(0).sub);
    EXPECT_EQ(who.audiences, std::vector<std::string>{fixture.pools.find_pool("shop")->client_id});
    EXPECT_EQ(who.claims_json.at("username"), "\"alice\"");
    EXPECT_EQ(who.claims_json.at("token_use"), "\"id\"");

    const auto access = fixture.verifier.verify(tokens.access_token, TokenUse::access, "shop");
    ASSERT_TRUE(std::holds_alternative<VerifiedIdentity>(access));
    EXPECT_EQ(std::get<VerifiedIdentity>(access).scopes, (std::vector<std::string>{"openid", "items.read"}));
}

TEST(UserPools, PasswordPolicyAndNamesAreEnforced) {
    PoolFixture fixture;
    try {
        fixture.pools.sign_up("shop", "bob", "short");
        FAIL() << "a 5-character password was taken";
    } catch (const UserPoolError& error) {
        EXPECT_EQ(error.kind(), UserPoolError::Kind::weak_password);
        EXPECT_STREQ(error.what(), "The password must be at least 8 characters long");
    }
    EXPECT_THROW(fixture.pools.sign_up("shop", "bob smith", identity_password), UserPoolError);
    EXPECT_THROW(fixture.pools.sign_up("shop", "alice", identity_password), UserPoolError);
    EXPECT_THROW(fixture.pools.create_pool("../etc", true, 8), UserPoolError);
    EXPECT_THROW(fixture.pools.create_pool("shop", true, 8), UserPoolError);
    fixture.pools.create_pool("closed", false, 12);
    try {
        fixture.pools.sign_up("closed", "bob", identity_password);
        FAIL() << "a pool without self sign-up took one";
    } catch (const UserPoolError& error) {
        EXPECT_EQ(error.kind(), UserPoolError::Kind::sign_up_closed);
    }
}

TEST(UserPools, WrongPasswordAndUnknownUserGetTheSameAnswer) {
    PoolFixture fixture;
    std::string wrong_password, unknown_user;
    try {
        fixture.pools.sign_in("shop", "alice", "wrong password", "10.0.0.2", fixture.issuer);
    } catch (const UserPoolError& error) {
        EXPECT_EQ(error.kind(), UserPoolError::Kind::not_authorized);
        wrong_password = error.what();
    }
    try {
        fixture.pools.sign_in("shop", "mallory", "wrong password", "10.0.0.2", fixture.issuer);
    } catch (const UserPoolError& error) {
        EXPECT_EQ(error.kind(), UserPoolError::Kind::not_authorized);
        unknown_user = error.what();
    }
    EXPECT_EQ(wrong_password, "Incorrect username or password");
    EXPECT_EQ(unknown_user, wrong_password);
}

TEST(UserPools, RepeatedFailuresLockTheUserOutEvenWithTheRightPassword) {
    UserPoolSettings settings;
    settings.throttle.max_failures = 3;
    PoolFixture fixture(settings);
    for (int i = 0; i < 3; ++i) {
        EXPECT_THROW(fixture.pools.sign_in("shop", "alice", "guess " + std::to_string(i), "10.0.0.3", fixture.issuer),
                     UserPoolError);
    }
    try {
        fixture.sign_in();
        FAIL() << "a locked-out user signed in";
    } catch (const UserPoolError& error) {
        EXPECT_EQ(error.kind(), UserPoolError::Kind::locked);
        EXPECT_GE(error.retry_after().count(), 1);
        EXPECT_LE(error.retry_after().count(), 60);
    }
}

TEST(SignInThrottle, LockoutDoublesAndExpires) {
    SignInThrottle throttle(ThrottleSettings{2, std::chrono::seconds(10), std::chrono::seconds(30), 100});
    const auto start = SignInThrottle::Clock::now();
    throttle.failed("u", "a", start);
    EXPECT_FALSE(throttle.locked("u", "a", start));
    throttle.failed("u", "a", start);
    EXPECT_EQ(throttle.locked("u", "b", start), std::chrono::seconds(10));
    EXPECT_FALSE(throttle.locked("u", "b", start + std::chrono::seconds(11)));
    throttle.failed("u", "a", start + std::chrono::seconds(11));
    EXPECT_EQ(throttle.locked("u", "a", start + std::chrono::seconds(11)), std::chrono::seconds(20));
    throttle.failed("u", "a", start + std::chrono::seconds(40));
    EXPECT_EQ(throttle.locked("u", "a", start + std::chrono::seconds(40)), std::chrono::seconds(30));  // the cap
    throttle.succeeded("u");
    EXPECT_FALSE(throttle.locked("u", "c", start + std::chrono::seconds(40)));
}

TEST(SignInThrottle, OneAddressGuessingAtManyUsersIsSlowed) {
    SignInThrottle throttle(ThrottleSettings{5, std::chrono::seconds(10), std::chrono::seconds(30), 3});
    const auto now = SignInThrottle::Clock::now();
    for (const char* user : {"a", "b", "c"}) throttle.failed(user, "10.9.9.9", now);
    EXPECT_TRUE(throttle.locked("d", "10.9.9.9", now));
    EXPECT_FALSE(throttle.locked("d", "10.9.9.8", now));
}

TEST(TokenVerifier, TamperedPayloadOrSignatureIsRefused) {
    PoolFixture fixture;
    const std::string token = fixture.sign_in().access_token;
    const size_t first_dot = token.find('.');
    const size_t second_dot = token.find('.', first_dot + 1);
    json claims = fixture.claims_of(token);
    claims["scope"] = "openid items.read items.write";
    const std::string tampered = token.substr(0, first_dot + 1) + part(claims) + token.substr(second_dot);
    EXPECT_EQ(fixture.rejection(tampered), TokenRejectionKind::bad_signature);

    std::string flipped = token;
    flipped[second_dot + 5] = flipped[second_dot + 5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(fixture.rejection(flipped), TokenRejectionKind::bad_signature);
    EXPECT_EQ(fixture.rejection(token.substr(0, second_dot)), TokenRejectionKind::malformed);
    EXPECT_EQ(fixture.rejection("not.a.token!"), TokenRejectionKind::malformed);
    EXPECT_EQ(fixture.rejection(std::string(20000, 'a')), TokenRejectionKind::malformed);
}

TEST(TokenVerifier, AlgNoneAndHs256KeyedWithThePublicKeyAreRefused) {
    PoolFixture fixture;
    const std::string token = fixture.sign_in().access_token;
    const json claims = fixture.claims_of(token);
    const KeyPair key = fixture.stolen_key();

    const std::string none = part({{"alg", "none"}, {"kid", key.kid}}) + "." + part(claims) + ".";
    EXPECT_EQ(fixture.rejection(none), TokenRejectionKind::bad_signature);

    // The classic confusion: libjwt alone would check this HMAC with the PEM as its secret.
    const PublicKey public_key = parse_jwks(fixture.pools.jwks("shop"))->at(0);
    const std::string signed_part = part({{"alg", "HS256"}, {"kid", key.kid}}) + "." + part(claims);
    const std::string confused = signed_part + "." + hs256(signed_part, public_key.pem);
    EXPECT_EQ(fixture.rejection(confused), TokenRejectionKind::bad_signature);
    EXPECT_FALSE(signed_by(confused, public_key));
    EXPECT_TRUE(signed_by(token, public_key));
}

TEST(TokenVerifier, ExpiredNotYetValidAndWrongIssuerAreRefused) {
    PoolFixture fixture;
    const std::string token = fixture.sign_in().access_token;
    const KeyPair key = fixture.stolen_key();
    json claims = fixture.claims_of(token);

    json expired = claims;
    expired["exp"] = unix_now() - 120;
    EXPECT_EQ(fixture.rejection(sign_es256(expired.dump(), key)), TokenRejectionKind::expired);
    json early = claims;
    early["nbf"] = unix_now() + 600;
    EXPECT_EQ(fixture.rejection(sign_es256(early.dump(), key)), TokenRejectionKind::expired);
    json skewed = claims;
    skewed["exp"] = unix_now() - 30;  // within the 60 s allowed for clocks
    EXPECT_TRUE(std::holds_alternative<VerifiedIdentity>(
        fixture.verifier.verify(sign_es256(skewed.dump(), key), TokenUse::access, std::nullopt)));
    json huge = claims;
    huge["exp"] = 1e300;
    EXPECT_TRUE(std::holds_alternative<VerifiedIdentity>(
        fixture.verifier.verify(sign_es256(huge.dump(), key), TokenUse::access, std::nullopt)));
    json missing = claims;
    missing.erase("exp");
    EXPECT_EQ(fixture.rejection(sign_es256(missing.dump(), key)), TokenRejectionKind::malformed);

    json elsewhere = claims;
    elsewhere["iss"] = "https://evil.example/issuer";
    EXPECT_EQ(fixture.rejection(sign_es256(elsewhere.dump(), key)), TokenRejectionKind::unknown_issuer);
    json other_host = claims;  // the pool's path under another host: never issued here
    other_host["iss"] = "https://evil.example/auth/shop";
    EXPECT_EQ(fixture.rejection(sign_es256(other_host.dump(), key)), TokenRejectionKind::revoked);
    json other_pool = claims;
    other_pool["iss"] = "http://127.0.0.1:8080/auth/nosuchpool";
    EXPECT_EQ(fixture.rejection(sign_es256(other_pool.dump(), key)), TokenRejectionKind::unknown_issuer);
    json other_audience = claims;
    other_audience["client_id"] = "someone-else";
    EXPECT_EQ(fixture.rejection(sign_es256(other_audience.dump(), key)), TokenRejectionKind::unknown_issuer);
}

TEST(TokenVerifier, AnotherPoolsTokenAndTheWrongUseAreRefused) {
    PoolFixture fixture;
    fixture.pools.create_pool("admin", true, 8);
    fixture.pools.add_user("admin", "root", identity_password, {});
    const IssuedTokens shop = fixture.sign_in();
    EXPECT_EQ(fixture.rejection(shop.access_token, TokenUse::access, "admin"), TokenRejectionKind::unknown_issuer);
    EXPECT_EQ(fixture.rejection(shop.id_token, TokenUse::access), TokenRejectionKind::wrong_use);
    EXPECT_EQ(fixture.rejection(shop.access_token, TokenUse::id), TokenRejectionKind::wrong_use);

    // Signed with the admin pool's key but claiming the shop's issuer: no shop key has its kid.
    json claims = fixture.claims_of(shop.access_token);
    EXPECT_EQ(fixture.rejection(sign_es256(claims.dump(), fixture.stolen_key("admin"))),
              TokenRejectionKind::bad_signature);
}

TEST(TokenVerifier, SignOutAndDisablingRevokeTokensAndRefresh) {
    PoolFixture fixture;
    const IssuedTokens first = fixture.sign_in();
    const IssuedTokens refreshed = fixture.pools.refresh("shop", first.refresh_token);
    EXPECT_TRUE(refreshed.refresh_token.empty());
    EXPECT_TRUE(std::holds_alternative<VerifiedIdentity>(
        fixture.verifier.verify(refreshed.access_token, TokenUse::access, std::nullopt)));

    fixture.pools.sign_out("shop", first.refresh_token);
    EXPECT_EQ(fixture.rejection(first.access_token), TokenRejectionKind::revoked);
    EXPECT_EQ(fixture.rejection(refreshed.id_token, TokenUse::id), TokenRejectionKind::revoked);
    EXPECT_THROW(fixture.pools.refresh("shop", first.refresh_token), UserPoolError);

    const IssuedTokens second = fixture.sign_in();
    fixture.pools.set_user_enabled("shop", "alice", false);
    EXPECT_EQ(fixture.rejection(second.access_token), TokenRejectionKind::revoked);
    try {
        fixture.pools.refresh("shop", second.refresh_token);
        FAIL() << "a disabled user's refresh token was honoured";
    } catch (const UserPoolError& error) {
        EXPECT_EQ(error.kind(), UserPoolError::Kind::not_authorized);
    }
    EXPECT_THROW(fixture.sign_in(), UserPoolError);
    fixture.pools.set_user_enabled("shop", "alice", true);
    EXPECT_NO_THROW(fixture.sign_in());
}

TEST(UserPools, RotatedKeyStaysPublishedAndAcceptedForItsTokens) {
    PoolFixture fixture;
    const IssuedTokens before = fixture.sign_in();
    const std::string old_kid = fixture.pools.find_pool("shop")->key_ids.at(0);
    const std::string new_kid = fixture.pools.rotate_key("shop");
    EXPECT_NE(new_kid, old_kid);
    EXPECT_EQ(fixture.pools.find_pool("shop")->key_ids, (std::vector<std::string>{new_kid, old_kid}));
    EXPECT_EQ(parse_jwks(fixture.pools.jwks("shop"))->size(), 2u);
    EXPECT_EQ(fixture.pools.jwks("shop").find("\"d\""), std::string::npos);  // no private part
    EXPECT_TRUE(std::holds_alternative<VerifiedIdentity>(
        fixture.verifier.verify(before.access_token, TokenUse::access, std::nullopt)));
    const IssuedTokens after = fixture.sign_in();
    EXPECT_EQ(std::get<UnverifiedToken>(read_token(after.id_token)).kid, new_kid);
}

TEST(UserPools, DeletedPoolsTokensAreRefused) {
    PoolFixture fixture;
    const IssuedTokens tokens = fixture.sign_in();
    fixture.pools.delete_pool("shop");
    EXPECT_EQ(fixture.rejection(tokens.access_token), TokenRejectionKind::unknown_issuer);
    EXPECT_TRUE(fixture.pools.list_pools().empty());
}

TEST(PoolIssuer, ConfiguredBaseOrTheRequestsHost) {
    EXPECT_EQ(pool_issuer(std::nullopt, "example.com:8080", "p"), "http://example.com:8080/auth/p");
    EXPECT_EQ(pool_issuer(std::nullopt, "evil/path?x", "p"), "http://localhost/auth/p");
    EXPECT_EQ(pool_issuer(std::string("https://auth.example.com"), "ignored", "p"), "https://auth.example.com/auth/p");
    EXPECT_EQ(pool_of_issuer(std::nullopt, "https://h:1/auth/p"), "p");
    EXPECT_EQ(pool_of_issuer(std::nullopt, "ftp://h/auth/p"), std::nullopt);
    EXPECT_EQ(pool_of_issuer(std::string("https://auth.example.com"), "http://other/auth/p"), std::nullopt);
    EXPECT_EQ(pool_of_issuer(std::string("https://auth.example.com"), "https://auth.example.com/auth/p"), "p");
}

TEST(Jwks, KeysOfOtherCurvesPrivatePartsAndGarbageAreLeftOut) {
    const KeyPair pair = generate_es256_key();
    json good = json::parse(pair.public_jwk);
    json p384 = good;
    p384["crv"] = "P-384";
    p384["kid"] = "p384";
    json off_curve = good;
    off_curve["kid"] = "off";
    off_curve["y"] = off_curve["x"];
    json with_private = good;
    with_private["kid"] = "private";
    with_private["d"] = "AAAA";
    json weak_rsa = {{"kty", "RSA"}, {"kid", "weak"}, {"n", base64url_encode(std::string(64, '\x7f'))}, {"e", "AQAB"}};
    const json document = {{"keys", {good, p384, off_curve, with_private, weak_rsa, "junk", 42}}};
    const auto keys = parse_jwks(document.dump());
    ASSERT_TRUE(keys);
    ASSERT_EQ(keys->size(), 1u);
    EXPECT_EQ(keys->at(0).kid, pair.kid);
    EXPECT_FALSE(parse_jwks("[]"));
    EXPECT_FALSE(parse_jwks("{\"keys\": 1}"));
}

}  // namespace
}  // namespace sofaas::identity
