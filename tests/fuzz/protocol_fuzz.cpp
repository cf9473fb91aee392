// The worker protocol decoders (worker/protocol.h), fed any frame body. The first byte
// picks the decoder. Both ends are ours, but the daemon must survive a worker whose
// function scribbled over its memory, and the worker a corrupt Invoke.
// Property: the encoding is canonical, so a body that decodes re-encodes to itself.
#include <string>
#include <string_view>

#include "fuzz_input.h"
#include "worker/protocol.h"

namespace {

using namespace sofaas;

template <typename Frame>
void check_round_trip(const std::optional<Frame>& frame, std::string_view body) {
    if (!frame) return;
    std::string encoded;
    protocol::encode(*frame, encoded);
    fuzz::check(encoded.size() == protocol::header_size + body.size() &&
                    encoded.compare(protocol::header_size, std::string::npos, body) == 0,
                "a decoded frame re-encodes to the same body");
    const protocol::FrameHeader header = protocol::read_header(encoded.data());
    fuzz::check(header.body_size == body.size(), "the header counts the body");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
    case 0: check_round_trip(protocol::decode_ready(body), body); break;
    case 1: check_round_trip(protocol::decode_invoke(body), body); break;
    case 2: check_round_trip(protocol::decode_result(body), body); break;
    }
    return 0;
}
