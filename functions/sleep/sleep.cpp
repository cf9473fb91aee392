// sleep: waits for the milliseconds given as the event, either plain text ("250") or
// JSON ({"ms": 250}). Useful to see timeouts and concurrency limits at work:
//
//   $ sofaas invoke sleep --data 250
//   slept 250 ms
#include <sofaas/sofaas.hpp>

#include <cctype>
#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

static std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return text;
}

static std::optional<long> parse_ms(std::string_view text) {
    text = trim(text);
    long ms = -1;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
    if (error != std::errc{} || end != text.data() + text.size() || ms < 0) return std::nullopt;
    return ms;
}

// {"ms": N}: small enough to read by hand; a real function would use a JSON library.
static std::optional<long> parse_event(std::string_view event) {
    event = trim(event);
    if (event.empty() || event.front() != '{') return parse_ms(event);
    if (event.back() != '}') return std::nullopt;
    const size_t key = event.find("\"ms\"");
    if (key == std::string_view::npos) return std::nullopt;
    const size_t colon = event.find(':', key);
    if (colon == std::string_view::npos) return std::nullopt;
    std::string_view value = event.substr(colon + 1);
    value = value.substr(0, value.find_first_of(",}"));
    return parse_ms(value);
}

static sofaas::Response handle(const sofaas::Request& request) {
    const auto ms = parse_event(request.payload());
    if (!ms)
        return sofaas::Response::failure(
            "expected a number of milliseconds, as text (250) or JSON ({\"ms\": 250})",
            "InvalidInput");
    std::this_thread::sleep_for(std::chrono::milliseconds(*ms));
    return sofaas::Response::success("slept " + std::to_string(*ms) + " ms");
}

SOFAAS_HANDLER(handle)
