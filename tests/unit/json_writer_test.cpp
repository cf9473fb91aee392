#include "common/json_writer.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace sofaas {
namespace {

std::string nlohmann_text(const nlohmann::ordered_json& value) {
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string written(std::string_view text) {
    std::string out;
    append_json_string(out, text);
    return out;
}

TEST(JsonWriter, EscapesStringsAsNlohmannDoes) {
    for (std::string_view text : {std::string_view("plain"), std::string_view("quote \" backslash \\ slash /"),
                                  std::string_view("\b\f\n\r\t \x01 \x1f \x7f"), std::string_view("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
                                  std::string_view("nul \0 inside", 13), std::string_view("")}) {
        EXPECT_EQ(written(text), nlohmann_text(std::string(text))) << text;
    }
}

TEST(JsonWriter, ReplacesInvalidUtf8WithReplacementCharacter) {
    // Lone continuation byte, truncated sequence, overlong form, surrogate, above U+10FFFF.
    for (std::string_view text : {"a\x80z", "a\xE2\x82z", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "end\xC3"}) {
        const std::string out = written(text);
        EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos) << out;
        EXPECT_TRUE(nlohmann::json::accept(out)) << out;
    }
    EXPECT_EQ(written("a\x80z"), "\"a\xEF\xBF\xBDz\"");
}

TEST(JsonWriter, WritesObjectsArraysAndNumbersThatParseBack) {
    std::string out;
    JsonWriter json(out);
    json.begin_object()
        .field("name", "hello")
        .field("version", uint32_t{3})
        .field("count", uint64_t{18446744073709551615ULL})
        .field("delta", int64_t{-5})
        .field("ms", 1.0)
        .field("cost", 2.0833e-07)
        .field("inf", 1.0 / 0.0)
        .field("ok", true);
    json.key("list").begin_array().value("a").value(1).begin_object().end_object().end_array();
    json.key("empty").begin_object().end_object().end_object();

    const auto parsed = nlohmann::ordered_json::parse(out);
    EXPECT_EQ(parsed["name"], "hello");
    EXPECT_EQ(parsed["version"], 3);
    EXPECT_EQ(parsed["count"].get<uint64_t>(), 18446744073709551615ULL);
    EXPECT_EQ(parsed["delta"], -5);
    EXPECT_TRUE(parsed["ms"].is_number_float());
    EXPECT_DOUBLE_EQ(parsed["cost"].get<double>(), 2.0833e-07);
    EXPECT_TRUE(parsed["inf"].is_null());
    EXPECT_EQ(parsed["list"].size(), 3u);
    EXPECT_TRUE(parsed["empty"].empty());
    EXPECT_EQ(out, nlohmann_text(parsed));  // same text as nlohmann for the same object
}

}  // namespace
}  // namespace sofaas
