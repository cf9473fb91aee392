#include "gateway/http_event.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/base64.h"
#include "gateway/query_string.h"
#include "gateway/utf8.h"

namespace sofaas {
namespace {

using nlohmann::json;

HttpRequestParts sample_request() {
    HttpRequestParts request;
    request.method = "POST";
    request.target = "/fn/hello/items?a=1&b=x%20y&a=2";
    static const std::vector<HttpRequestParts::Header> headers = {{"Host", "localhost:8080"},
                                                                  {"User-Agent", "curl/8.0"},
                                                                  {"Content-Type", "application/json"},
                                                                  {"X-Multi", "one"},
                                                                  {"x-multi", "two"},
                                                                  {"Cookie", "session=abc; theme=dark"}};
    request.headers = headers;
    request.body = R"({"hello":"world"})";
    request.source_ip = "127.0.0.1";
    request.route_key = "$default";
    request.request_id = "req-1";
    request.function = "hello";
    return request;
}

TEST(HttpEvent, HasTheV2TopLevelFields) {
    const json event = json::parse(make_http_event(sample_request()));
    EXPECT_EQ(event["version"], "2.0");
    EXPECT_EQ(event["routeKey"], "$default");
    EXPECT_EQ(event["rawPath"], "/fn/hello/items");
    EXPECT_EQ(event["rawQueryString"], "a=1&b=x%20y&a=2");
    EXPECT_EQ(event["body"], R"({"hello":"world"})");
    EXPECT_EQ(event["isBase64Encoded"], false);
    EXPECT_FALSE(event.contains("pathParameters"));
}

TEST(HttpEvent, LowerCasesHeadersAndJoinsRepeatedOnes) {
    const json event = json::parse(make_http_event(sample_request()));
    EXPECT_EQ(event["headers"]["x-multi"], "one,two");
    EXPECT_EQ(event["headers"]["user-agent"], "curl/8.0");
    EXPECT_FALSE(event["headers"].contains("Host"));
    EXPECT_FALSE(event["headers"].contains("cookie"));  // moved to "cookies", as Lambda does
}

TEST(HttpEvent, SplitsCookies) {
    const json event = json::parse(make_http_event(sample_request()));
    EXPECT_EQ(event["cookies"], json::array({"session=abc", "theme=dark"}));
}

TEST(HttpEvent, DecodesQueryParametersAndJoinsRepeatedOnes) {
    const json event = json::parse(make_http_event(sample_request()));
    EXPECT_EQ(event["queryStringParameters"]["a"], "1,2");
    EXPECT_EQ(event["queryStringParameters"]["b"], "x y");
}

// Thousands of names (the most a request's header limit lets through) are joined as a
// handful are: each name once, where it first came, its values in arrival order.
TEST(HttpEvent, JoinsThousandsOfNamesAsAHandful) {
    HttpRequestParts request = sample_request();
    std::string target = "/fn/hello?";
    std::vector<HttpRequestParts::Header> headers;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 1000; ++i) {
            target += "p" + std::to_string(i) + "=" + std::to_string(round) + "&";
            headers.emplace_back((round == 1 ? "X-H" : "x-h") + std::to_string(i), std::to_string(round));
        }
    }
    request.target = target;
    request.headers = headers;
    const auto event = nlohmann::ordered_json::parse(make_http_event(request));
    const auto& query = event["queryStringParameters"];
    const auto& joined_headers = event["headers"];
    ASSERT_EQ(query.size(), 1000u);
    ASSERT_EQ(joined_headers.size(), 1000u);
    int i = 0;
    for (const auto& [name, value] : query.items()) {
        EXPECT_EQ(name, "p" + std::to_string(i));
        EXPECT_EQ(value, "0,1,2") << name;
        ++i;
    }
    i = 0;
    for (const auto& [name, value] : joined_headers.items()) {
        EXPECT_EQ(name, "x-h" + std::to_string(i));
        EXPECT_EQ(value, "0,1,2") << name;
        ++i;
    }
}

TEST(HttpEvent, OmitsQueryParametersAndCookiesWhenThereAreNone) {
    HttpRequestParts request = sample_request();
    request.target = "/fn/hello";
    const std::vector<HttpRequestParts::Header> headers = {{"Host", "example.com"}};
    request.headers = headers;
    const json event = json::parse(make_http_event(request));
    EXPECT_FALSE(event.contains("queryStringParameters"));
    EXPECT_FALSE(event.contains("cookies"));
    EXPECT_EQ(event["rawQueryString"], "");
}

TEST(HttpEvent, FillsTheRequestContext) {
    HttpRequestParts request = sample_request();
    request.route_key = "GET /items/{id}";
    request.path_parameters = {{"id", "42"}};
    const json event = json::parse(make_http_event(request));
    const json& context = event["requestContext"];
    EXPECT_EQ(context["accountId"], "anonymous");
    EXPECT_EQ(context["apiId"], "hello");
    EXPECT_EQ(context["domainName"], "localhost:8080");
    EXPECT_EQ(context["domainPrefix"], "hello");
    EXPECT_EQ(context["http"]["method"], "POST");
    EXPECT_EQ(context["http"]["path"], "/fn/hello/items");
    EXPECT_EQ(context["http"]["protocol"], "HTTP/1.1");
    EXPECT_EQ(context["http"]["sourceIp"], "127.0.0.1");
    EXPECT_EQ(context["http"]["userAgent"], "curl/8.0");
    EXPECT_EQ(context["requestId"], "req-1");
    EXPECT_EQ(context["routeKey"], "GET /items/{id}");
    EXPECT_EQ(context["stage"], "$default");
    EXPECT_GT(context["timeEpoch"].get<int64_t>(), 1'700'000'000'000);
    // "27/Nov/2026:18:43:49 +0000"
    const std::string time = context["time"];
    ASSERT_EQ(time.size(), 26u);
    EXPECT_EQ(time.substr(2, 1), "/");
    EXPECT_EQ(time.substr(20), " +0000");
    EXPECT_EQ(event["pathParameters"]["id"], "42");
}

TEST(HttpEvent, Base64EncodesBinaryBodies) {
    HttpRequestParts request = sample_request();
    const std::vector<HttpRequestParts::Header> headers = {{"Content-Type", "application/octet-stream"}};
    request.headers = headers;
    const std::string bytes("\x00\x01\xff\xfe", 4);
    request.body = bytes;
    const json event = json::parse(make_http_event(request));
    EXPECT_EQ(event["isBase64Encoded"], true);
    EXPECT_EQ(base64_decode(event["body"].get<std::string>()), bytes);
}

TEST(HttpEvent, Base64EncodesTextTypesThatAreNotUtf8) {
    HttpRequestParts request = sample_request();
    const std::vector<HttpRequestParts::Header> headers = {{"Content-Type", "text/plain; charset=latin1"}};
    request.headers = headers;
    request.body = "caf\xe9";
    const json event = json::parse(make_http_event(request));
    EXPECT_EQ(event["isBase64Encoded"], true);
}

TEST(HttpEvent, KeepsStructuredSyntaxSuffixesAsText) {
    HttpRequestParts request = sample_request();
    const std::vector<HttpRequestParts::Header> headers = {{"content-type", "application/vnd.api+json"}};
    request.headers = headers;
    request.body = R"({"data":[]})";
    const json event = json::parse(make_http_event(request));
    EXPECT_EQ(event["isBase64Encoded"], false);
    EXPECT_EQ(event["body"], R"({"data":[]})");
}

TEST(HttpEvent, OmitsAnEmptyBody) {
    HttpRequestParts request = sample_request();
    request.method = "GET";
    request.body = {};
    const json event = json::parse(make_http_event(request));
    EXPECT_FALSE(event.contains("body"));
    EXPECT_EQ(event["isBase64Encoded"], false);
}

std::string header(const HttpResponseParts& response, std::string_view name) {
    for (const auto& [key, value] : response.headers) {
        if (key == name) return value;
    }
    return "<absent>";
}

// The response a valid output becomes; a test failure (and an empty response) otherwise.
HttpResponseParts response_of(std::string output) {
    auto mapped = map_function_output(std::move(output));
    if (const auto* invalid = std::get_if<InvalidResponse>(&mapped)) {
        ADD_FAILURE() << "invalid response: " << invalid->why;
        return {};
    }
    return std::move(std::get<FunctionResponse>(mapped).response);
}

// Why an output is no valid response; "<valid>" when it is one.
std::string invalid_because(std::string output) {
    auto mapped = map_function_output(std::move(output));
    const auto* invalid = std::get_if<InvalidResponse>(&mapped);
    return invalid ? invalid->why : "<valid>";
}

TEST(FunctionOutput, StatusCodeObjectSetsStatusHeadersCookiesAndBody) {
    const auto response = response_of(
        R"({"statusCode":201,"headers":{"Content-Type":"text/html","X-Count":3},)"
        R"("cookies":["a=1","b=2; Path=/"],"body":"<p>hi</p>"})");
    EXPECT_EQ(response.status, 201);
    EXPECT_EQ(header(response, "Content-Type"), "text/html");
    EXPECT_EQ(header(response, "X-Count"), "3");
    EXPECT_EQ(response.body, "<p>hi</p>");
    std::vector<std::string> cookies;
    for (const auto& [key, value] : response.headers) {
        if (key == "Set-Cookie") cookies.push_back(value);
    }
    EXPECT_EQ(cookies, (std::vector<std::string>{"a=1", "b=2; Path=/"}));
}

TEST(FunctionOutput, StatusCodeWithoutBodyHasAnEmptyBody) {
    const auto response = response_of(R"({"statusCode":204})");
    EXPECT_EQ(response.status, 204);
    EXPECT_EQ(response.body, "");
}

TEST(FunctionOutput, DecodesBase64Bodies) {
    const auto response = response_of(
        R"({"statusCode":200,"headers":{"content-type":"image/png"},"body":")" + base64_encode("\x89PNG") +
        R"(","isBase64Encoded":true})");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "\x89PNG");
}

TEST(FunctionOutput, BadBase64IsInvalid) {
    EXPECT_EQ(invalid_because(R"({"statusCode":200,"body":"!!!","isBase64Encoded":true})"),
              "body is not valid base64");
}

TEST(FunctionOutput, StatusCodeOutOfRangeOrNotANumberIsInvalid) {
    // 1xx included: as a final answer the client would wait for another response.
    for (const char* output : {R"({"statusCode":99})", R"({"statusCode":100})", R"({"statusCode":199})",
                               R"({"statusCode":600})", R"({"statusCode":"200"})", R"({"statusCode":200.5})"}) {
        EXPECT_EQ(invalid_because(output), "statusCode must be an integer from 200 to 599") << output;
    }
}

TEST(FunctionOutput, HeadersThatWouldSplitTheResponseAreInvalid) {
    EXPECT_EQ(invalid_because(R"({"statusCode":200,"headers":{"X-Evil":"a\r\nSet-Cookie: x=1"}})"),
              R"(header "X-Evil" is not a valid HTTP header)");
    EXPECT_EQ(invalid_because(R"({"statusCode":200,"headers":{"X-Evil\r\nSet-Cookie: x":"1"}})"),
              R"(header "X-Evil\r\nSet-Cookie: x" is not a valid HTTP header)");
    EXPECT_NE(invalid_because(R"({"statusCode":200,"cookies":["a=1\r\nX-Evil: 1"]})"), "<valid>");
}

// A name is an RFC 9110 token and a value has no control character but tab: anything else
// could read differently to the client and to a proxy on the way.
TEST(FunctionOutput, HeadersThatAreNotHttpAreInvalid) {
    for (const char* name : {"", "X Space", "X:Colon", "X(Paren)", "X\\\"Quote\\\"", "X/Slash", "X{Brace}", "X@At",
                             "X=Equals", "X\\u00e9", "X\\u0001"}) {
        EXPECT_NE(invalid_because(std::string(R"({"statusCode":200,"headers":{")") + name + R"(":"v"}})"), "<valid>")
            << name;
    }
    for (const char* value : {"a\\u0000b", "a\\u0001b", "a\\u001fb", "a\\u007fb", "a\\rb", "a\\nb"}) {
        EXPECT_NE(invalid_because(std::string(R"({"statusCode":200,"headers":{"X-V":")") + value + R"("}})"), "<valid>")
            << value;
    }
    const auto response =
        response_of(R"({"statusCode":200,"headers":{"X-Token!#$%&'*+-.^_`|~9":"tab\tand caf\u00e9 and \"quotes\""}})");
    EXPECT_EQ(header(response, "X-Token!#$%&'*+-.^_`|~9"), "tab\tand caf\u00e9 and \"quotes\"");
}

// X-Sofaas-* are the platform's: a function's own are dropped (and named, for the log),
// whatever their case; its other headers pass.
TEST(FunctionOutput, PlatformHeadersAreDropped) {
    auto mapped = map_function_output(R"({"statusCode":200,"headers":{"X-Sofaas-Billed-Ms":"0",)"
                                      R"("x-sofaas-version":"99","X-SOFAAS-REQUEST-ID":"forged","X-Sofaasy":"mine"}})");
    ASSERT_TRUE(std::holds_alternative<FunctionResponse>(mapped));
    const FunctionResponse& function = std::get<FunctionResponse>(mapped);
    EXPECT_EQ(function.dropped_headers,
              (std::vector<std::string>{"X-Sofaas-Billed-Ms", "x-sofaas-version", "X-SOFAAS-REQUEST-ID"}));
    EXPECT_EQ(function.response.headers, (std::vector<std::pair<std::string, std::string>>{{"X-Sofaasy", "mine"}}));
}

TEST(FunctionOutput, OtherJsonIsA200JsonBody) {
    for (const char* output : {R"({"message":"hi"})", R"([1,2,3])", R"("text")", "42"}) {
        const auto response = response_of(output);
        EXPECT_EQ(response.status, 200) << output;
        EXPECT_EQ(response.body, output);
        EXPECT_EQ(header(response, "Content-Type"), "application/json") << output;
    }
}

TEST(FunctionOutput, PlainTextIsA200TextBody) {
    const auto response = response_of("Hello, world!");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, "Hello, world!");
    EXPECT_EQ(header(response, "Content-Type"), "text/plain; charset=utf-8");
}

TEST(FunctionOutput, BinaryIsA200OctetStreamBody) {
    const std::string bytes("\xff\x00\xfe", 3);
    const auto response = response_of(bytes);
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.body, bytes);
    EXPECT_EQ(header(response, "Content-Type"), "application/octet-stream");
}

TEST(Base64, RoundTripsEveryLengthModuloThree) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    for (const char* text : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        EXPECT_EQ(base64_decode(base64_encode(text)), text);
    }
}

TEST(Base64, RejectsMalformedInput) {
    EXPECT_FALSE(base64_decode("Zg="));
    EXPECT_FALSE(base64_decode("Z=g="));
    EXPECT_FALSE(base64_decode("Zm9v!A=="));
    EXPECT_FALSE(base64_decode("===="));
}

TEST(Utf8, AcceptsWellFormedAndRejectsMalformed) {
    EXPECT_TRUE(is_valid_utf8("plain ascii"));
    EXPECT_TRUE(is_valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    EXPECT_FALSE(is_valid_utf8("caf\xe9"));          // latin-1
    EXPECT_FALSE(is_valid_utf8("\xc0\xaf"));         // overlong
    EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));     // surrogate
    EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80")); // above U+10FFFF
    EXPECT_FALSE(is_valid_utf8("\xe2\x82"));         // truncated
}

TEST(QueryString, ParsesAndDecodesInOrder) {
    const auto params = parse_query("a=1&b=x+y%21&&flag&a=2");
    const QueryParams expected{{"a", "1"}, {"b", "x y!"}, {"flag", ""}, {"a", "2"}};
    EXPECT_EQ(params, expected);
    EXPECT_EQ(percent_decode("100%", false), "100%");
    EXPECT_EQ(percent_decode("a+b%2Fc", false), "a+b/c");
    EXPECT_EQ(parse_unsigned("42"), 42u);
    EXPECT_FALSE(parse_unsigned("-1"));
    EXPECT_FALSE(parse_unsigned("4x"));
    EXPECT_FALSE(parse_unsigned(""));
}

}  // namespace
}  // namespace sofaas
