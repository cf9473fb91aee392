// Tokens and key sets from outside (identity/json_web_token.h read_token, signing_key.h
// parse_jwks): any bytes as a bearer token an anonymous caller sends, and as the JWKS a
// provider's URL answers. Properties: neither throws; a token read has a JSON object as its
// payload; every key taken from a set has a key id and a PEM; no token verifies against a
// key it was not made with.
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "identity/json_web_token.h"
#include "identity/signing_key.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sofaas::identity;
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    const auto read = read_token(text);
    if (const auto* parts = std::get_if<UnverifiedToken>(&read)) {
        sofaas::fuzz::check(nlohmann::json::parse(parts->payload_json, nullptr, false).is_object(),
                            "a token read has a JSON object as its payload");
    }
    if (const auto keys = parse_jwks(text)) {
        for (const PublicKey& key : *keys) {
            sofaas::fuzz::check(key.kid.size() <= text.size(), "a key id comes from the set");
            sofaas::fuzz::check(key.pem.starts_with("-----BEGIN PUBLIC KEY-----"), "a key is a PEM public key");
        }
    }
    // A key made now cannot have signed anything the fuzzer wrote.
    static const KeyPair pair = generate_es256_key();
    static const PublicKey key = parse_jwks("{\"keys\": [" + pair.public_jwk + "]}")->at(0);
    sofaas::fuzz::check(!signed_by(text, key), "no forged token verifies");
    return 0;
}
