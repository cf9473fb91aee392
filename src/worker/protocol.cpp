// Body layout, field by field in declaration order:
//   bool    1 byte, 0 or 1
//   uint32  4 bytes        int64 / double  8 bytes
//   string  uint32 length + that many bytes
// Decoders treat the body as hostile (it is fuzzed): every read is bounds-checked, and a
// body with bytes left over after the last field is rejected as well.
#include "worker/protocol.h"

#include <cmath>
#include <cstring>

namespace sofaas::protocol {
namespace {

class BodyWriter {
public:
    BodyWriter(std::string& out, FrameType type) : out_(out), start_(out.size()) {
        FrameHeader header{static_cast<uint32_t>(type), 0};
        raw(&header, sizeof header);
    }

    // Patches the body size into the header once every field is written.
    ~BodyWriter() {
        const auto body_size = static_cast<uint32_t>(out_.size() - start_ - header_size);
        std::memcpy(out_.data() + start_ + offsetof(FrameHeader, body_size), &body_size,
                    sizeof body_size);
    }

    BodyWriter(const BodyWriter&) = delete;
    BodyWriter& operator=(const BodyWriter&) = delete;

    void boolean(bool value) { out_.push_back(value ? '\1' : '\0'); }
    void u32(uint32_t value) { raw(&value, sizeof value); }
    void i64(int64_t value) { raw(&value, sizeof value); }
    void f64(double value) { raw(&value, sizeof value); }
    void string(std::string_view value) {
        u32(static_cast<uint32_t>(value.size()));
        out_.append(value);
    }

private:
    void raw(const void* bytes, size_t size) {
        out_.append(static_cast<const char*>(bytes), size);
    }
    std::string& out_;
    size_t start_;
};

// Each read returns false, and poisons the reader, when the body is too short or the
// value is not one an encoder could have produced.
class BodyReader {
public:
    explicit BodyReader(std::string_view body) : rest_(body) {}

    bool boolean(bool& value) {
        uint8_t byte = 0;
        if (!raw(&byte, 1) || byte > 1) return fail();
        value = byte == 1;
        return true;
    }
    bool u32(uint32_t& value) { return raw(&value, sizeof value); }
    bool i64(int64_t& value) { return raw(&value, sizeof value); }
    bool f64(double& value) {
        if (!raw(&value, sizeof value) || !std::isfinite(value)) return fail();
        return true;
    }
    bool string(std::string& value) {
        uint32_t size = 0;
        if (!u32(size) || size > rest_.size()) return fail();
        value.assign(rest_.data(), size);
        rest_.remove_prefix(size);
        return true;
    }

    // True when every read succeeded and consumed the body exactly.
    bool complete() const { return ok_ && rest_.empty(); }

private:
    bool raw(void* value, size_t size) {
        if (!ok_ || rest_.size() < size) return fail();
        std::memcpy(value, rest_.data(), size);
        rest_.remove_prefix(size);
        return true;
    }
    bool fail() {
        ok_ = false;
        return false;
    }
    std::string_view rest_;
    bool ok_ = true;
};

}  // namespace

void encode(const Ready& frame, std::string& out) {
    BodyWriter body(out, FrameType::ready);
    body.boolean(frame.ok);
    body.f64(frame.init_ms);
    body.string(frame.error_type);
    body.string(frame.error_message);
}

void encode_sandboxed(std::string& out) {
    BodyWriter body(out, FrameType::sandboxed);
}

void encode(const Invoke& frame, std::string& out) {
    encode_invoke(frame.request_id, frame.deadline_unix_ms, frame.caller, frame.payload, out);
}

void encode_invoke(std::string_view request_id, int64_t deadline_unix_ms, const Principal& caller,
                   std::string_view payload, std::string& out) {
    BodyWriter body(out, FrameType::invoke);
    body.string(request_id);
    body.i64(deadline_unix_ms);
    body.string(caller.key_id);
    body.string(caller.role);
    body.string(caller.user_sub);
    body.string(caller.schedule);
    body.string(payload);
}

void encode(const Result& frame, std::string& out) {
    BodyWriter body(out, FrameType::result);
    body.boolean(frame.ok);
    body.f64(frame.duration_ms);
    body.u32(frame.max_memory_used_kb);
    body.string(frame.error_type);
    body.string(frame.error_message);
    body.string(frame.output);
}

std::optional<Ready> decode_ready(std::string_view bytes) {
    Ready frame;
    BodyReader body(bytes);
    if (body.boolean(frame.ok) && body.f64(frame.init_ms) && body.string(frame.error_type) &&
        body.string(frame.error_message) && body.complete())
        return frame;
    return std::nullopt;
}

std::optional<Invoke> decode_invoke(std::string_view bytes) {
    Invoke frame;
    BodyReader body(bytes);
    if (body.string(frame.request_id) && body.i64(frame.deadline_unix_ms) && body.string(frame.caller.key_id) &&
        body.string(frame.caller.role) && body.string(frame.caller.user_sub) && body.string(frame.caller.schedule) &&
        body.string(frame.payload) && body.complete())
        return frame;
    return std::nullopt;
}

std::optional<Result> decode_result(std::string_view bytes) {
    Result frame;
    BodyReader body(bytes);
    if (body.boolean(frame.ok) && body.f64(frame.duration_ms) &&
        body.u32(frame.max_memory_used_kb) && body.string(frame.error_type) &&
        body.string(frame.error_message) && body.string(frame.output) && body.complete())
        return frame;
    return std::nullopt;
}

FrameHeader read_header(const char* bytes) {
    FrameHeader header;
    std::memcpy(&header, bytes, sizeof header);
    return header;
}

}  // namespace sofaas::protocol
