#include "common/json_writer.h"

#include <charconv>
#include <cmath>

namespace sofaas {
namespace {

constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

// Length of the well-formed UTF-8 sequence starting text[0] (RFC 3629 table 3-7), 0 if
// none starts there.
size_t utf8_sequence_length(std::string_view text) {
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    size_t length;
    unsigned char low = 0x80, high = 0xBF;  // bounds of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0) low = 0xA0;
        if (lead == 0xED) high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0) low = 0x90;
        if (lead == 0xF4) high = 0x8F;  // nothing above U+10FFFF
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
    for (size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF) return 0;
    }
    return length;
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out.reserve(out.size() + text.size() + 2);
    out += '"';
    size_t plain_from = 0;  // runs of bytes that need no escaping are appended in one go
    size_t i = 0;
    const auto flush = [&] { out.append(text.data() + plain_from, i - plain_from); };
    while (i < text.size()) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            ++i;
            continue;
        }
        if (c >= 0x80) {
            const size_t length = utf8_sequence_length(text.substr(i));
            if (length > 0) {
                i += length;
                continue;
            }
            flush();
            out += replacement_character;
            plain_from = ++i;
            continue;
        }
        flush();
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 0xF];
        }
        plain_from = ++i;
    }
    flush();
    out += '"';
}

void JsonWriter::separate() {
    if (after_value_) out_ += ',';
}

JsonWriter& JsonWriter::begin_object() {
    separate();
    out_ += '{';
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    out_ += '}';
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::begin_array() {
    separate();
    out_ += '[';
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    out_ += ']';
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
    separate();
    append_json_string(out_, name);
    out_ += ':';
    after_value_ = false;
    return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
    separate();
    append_json_string(out_, text);
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
    separate();
    out_ += flag ? "true" : "false";
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(int64_t number) {
    return integer(number);
}

JsonWriter& JsonWriter::value(uint64_t number) {
    return integer(number);
}

template <typename Integer>
JsonWriter& JsonWriter::integer(Integer number) {
    separate();
    char text[24];  // the longest 64-bit integer, sign included, is 20 characters
    out_.append(text, std::to_chars(text, text + sizeof text, number).ptr);
    after_value_ = true;
    return *this;
}

JsonWriter& JsonWriter::value(double number) {
    separate();
    after_value_ = true;
    if (!std::isfinite(number)) {
        out_ += "null";
        return *this;
    }
    char text[32];
    const char* end = std::to_chars(text, text + sizeof text, number).ptr;
    const std::string_view digits(text, static_cast<size_t>(end - text));
    out_ += digits;
    // nlohmann (and every JSON reader) keeps 1.0 a float only with its ".0".
    if (digits.find_first_of(".e") == std::string_view::npos) out_ += ".0";
    return *this;
}

}  // namespace sofaas
