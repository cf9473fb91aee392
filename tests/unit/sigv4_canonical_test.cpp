// The text rules of SigV4, one by one: how botocore writes the canonical path, query and
// headers (botocore/auth.py, SigV4Auth.canonical_request), and the two date formats.
#include "keys/sigv4_canonical.h"

#include <chrono>

#include <gtest/gtest.h>

namespace sofaas::sigv4 {
namespace {

using namespace std::chrono_literals;
using Headers = std::vector<std::pair<std::string, std::string>>;

WallTime utc(int year, unsigned month, unsigned day, std::chrono::seconds time_of_day) {
    return WallTime(std::chrono::sys_days(std::chrono::year(year) / month / day) + time_of_day);
}

TEST(SigV4Canonical, PathIsNormalizedThenEncodedAgain) {
    EXPECT_EQ(canonical_uri(""), "/");
    EXPECT_EQ(canonical_uri("/"), "/");
    EXPECT_EQ(canonical_uri("/v1/functions"), "/v1/functions");
    // Sent as %3A and %24: signed as %253A and %2524, as botocore does for every service but S3.
    EXPECT_EQ(canonical_uri("/2015-03-31/functions/hello%3Alive/invocations"),
              "/2015-03-31/functions/hello%253Alive/invocations");
    EXPECT_EQ(canonical_uri("/fn/a:b$c d~e"), "/fn/a%3Ab%24c%20d~e");
    EXPECT_EQ(canonical_uri("/a/./b/../c//d/"), "/a/c/d/");
    EXPECT_EQ(canonical_uri("/../.."), "/");
    EXPECT_EQ(canonical_uri("/%2E%2E/x"), "/%252E%252E/x");
}

TEST(SigV4Canonical, QueryIsDecodedEncodedAndSorted) {
    EXPECT_EQ(canonical_query(""), "");
    EXPECT_EQ(canonical_query("Qualifier=%24LATEST"), "Qualifier=%24LATEST");
    EXPECT_EQ(canonical_query("Qualifier=$LATEST"), "Qualifier=%24LATEST");
    EXPECT_EQ(canonical_query("b=2&a=1&a=%20x&c"), "a=%20x&a=1&b=2&c=");
    EXPECT_EQ(canonical_query("Marker=a%2fb&plus=a+b&bad=%zz"), "Marker=a%2Fb&bad=%25zz&plus=a%2Bb");
    EXPECT_EQ(query_parameter("a=1&X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm"), "AWS4-HMAC-SHA256");
    EXPECT_EQ(query_parameter("x-amz-algorithm=1", "X-Amz-Algorithm"), std::nullopt);
}

TEST(SigV4Canonical, HeadersAreTrimmedCollapsedAndJoined) {
    const Headers headers = {{"Host", "h:1"}, {"X-Multi", " a  b "}, {"x-multi", "\tc\t d"}, {"X-Empty", ""}};
    const std::vector<std::string_view> names = {"host", "x-empty", "x-multi"};
    EXPECT_EQ(canonical_headers(names, headers), "host:h:1\nx-empty:\nx-multi:a b,c d\n");
    const std::vector<std::string_view> missing = {"host", "x-absent"};
    EXPECT_EQ(canonical_headers(missing, headers), std::nullopt);
}

TEST(SigV4Canonical, AuthorizationHeaderParts) {
    const ParsedAuthorization parsed = parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AKID/20261206/us-east-1/lambda/aws4_request,SignedHeaders=host;x-amz-date,  "
        "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    ASSERT_TRUE(parsed.header) << parsed.error;
    EXPECT_EQ(parsed.header->access_key_id, "AKID");
    EXPECT_EQ(parsed.header->date, "20261206");
    EXPECT_EQ(parsed.header->region, "us-east-1");
    EXPECT_EQ(parsed.header->service, "lambda");
    EXPECT_EQ(parsed.header->signed_headers, "host;x-amz-date");
    EXPECT_EQ(parsed.header->signed_header_names, (std::vector<std::string_view>{"host", "x-amz-date"}));
    EXPECT_EQ(parsed.header->signature, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

    const ParsedAuthorization missing = parse_authorization("AWS4-HMAC-SHA256 Credential=a/b/c/d/e");
    EXPECT_FALSE(missing.header);
    EXPECT_FALSE(missing.error.empty());
}

TEST(SigV4Canonical, AmzDateIsIsoBasicUtc) {
    EXPECT_EQ(parse_amz_date("20261206T083000Z"), utc(2026, 12, 6, 8h + 30min));
    EXPECT_EQ(format_amz_date(utc(2026, 12, 6, 8h + 30min)), "20261206T083000Z");
    EXPECT_EQ(format_amz_date(utc(2026, 1, 2, 3h + 4min + 5s) + 999ms), "20260102T030405Z");
    EXPECT_EQ(parse_amz_date("20240229T235959Z"), utc(2024, 2, 29, 23h + 59min + 59s));
    for (const char* bad : {"", "20261206T083000", "20261206 083000Z", "20261306T083000Z", "20230229T000000Z",
                            "20261206T246000Z", "2026120sT083000Z", "-0261206T083000Z", "20261206T083000Z0"}) {
        EXPECT_EQ(parse_amz_date(bad), std::nullopt) << bad;
    }
}

TEST(SigV4Canonical, HttpDateInTheFormsClientsSend) {
    const WallTime expected = utc(2026, 12, 6, 8h + 30min);
    EXPECT_EQ(parse_http_date("Sun, 06 Dec 2026 08:30:00 GMT"), expected);
    EXPECT_EQ(parse_http_date("Sun, 06 Dec 2026 08:30:00 -0000"), expected);
    EXPECT_EQ(parse_http_date("Sun, 06 Dec 2026 08:30:00 +0000"), expected);
    for (const char* bad : {"", "Sun, 06 Dec 2026 08:30:00", "Sun, 06 Dek 2026 08:30:00 GMT",
                            "Sun, 06 Dec 2026 08:30:00 +0100", "Sunday, 06-Dec-26 08:30:00 GMT",
                            "Sun, 31 Nov 2026 08:30:00 GMT", "Sun, 06 Dec 2026 08:30:0x GMT"}) {
        EXPECT_EQ(parse_http_date(bad), std::nullopt) << bad;
    }
}

}  // namespace
}  // namespace sofaas::sigv4
