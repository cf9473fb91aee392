// JSON text written straight into a string, for the lines made on every invocation (the
// HTTP event, the billing record, the function log lines): building an nlohmann DOM for
// them cost more allocations than the rest of the request path. Output matches nlohmann's
// dump(): same escaping, invalid UTF-8 replaced by U+FFFD, doubles as shortest
// round-trip, non-finite doubles as null. Reading JSON stays with nlohmann.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sofaas {

class JsonWriter {
public:
    explicit JsonWriter(std::string& out) : out_(out) {}

    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    JsonWriter& key(std::string_view name);

    JsonWriter& value(std::string_view text);
    JsonWriter& value(const char* text) { return value(std::string_view(text)); }
    JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
    JsonWriter& value(bool flag);
    JsonWriter& value(int64_t number);
    JsonWriter& value(uint64_t number);
    JsonWriter& value(uint32_t number) { return value(static_cast<uint64_t>(number)); }
    JsonWriter& value(int number) { return value(static_cast<int64_t>(number)); }
    JsonWriter& value(double number);

    // key(name).value(v)
    template <typename T>
    JsonWriter& field(std::string_view name, const T& v) {
        key(name);
        return value(v);
    }

private:
    template <typename Integer>
    JsonWriter& integer(Integer number);
    void separate();

    std::string& out_;
    bool after_value_ = false;  // the next value or key needs a comma first
};

// `text` as a JSON string literal, quotes included, appended to `out`.
void append_json_string(std::string& out, std::string_view text);

}  // namespace sofaas
