#include "billing/billing_record.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "common/json_writer.h"
#include "common/money.h"

namespace sofaas {
namespace {

using ordered_json = nlohmann::ordered_json;

// Durations are measured in microseconds; more digits would only be noise in the ledger.
double to_microsecond_precision(double ms) {
    return std::round(ms * 1000.0) / 1000.0;
}

// Sums that can outgrow 2^53 are strings: a JSON reader's double would round them.
ordered_json row_object(const BillingSummaryRow& row) {
    return {
        {"function", row.function},
        {"invocations", row.invocations},
        {"errors", row.errors},
        {"timeouts", row.timeouts},
        {"cold_starts", row.cold_starts},
        {"billed_ms", row.billed_ms},
        {"mb_ms", integer_text(row.mb_ms)},
        {"gb_seconds", gb_seconds_text(row.mb_ms)},
        {"cost_pico_usd", integer_text(row.cost_pico_usd)},
        {"cost_usd", usd_text(row.cost_pico_usd)},
    };
}

std::optional<Trigger> parse_trigger(std::string_view text) {
    for (Trigger t : {Trigger::http, Trigger::invoke, Trigger::lambda_api, Trigger::async, Trigger::schedule, Trigger::warm, Trigger::deploy}) {
        if (to_string(t) == text) return t;
    }
    return std::nullopt;
}

// Throttled requests are never billed, so a ledger line never says "throttled".
std::optional<InvocationStatus> parse_billed_status(std::string_view text) {
    for (InvocationStatus s : {InvocationStatus::ok, InvocationStatus::error, InvocationStatus::timeout,
                               InvocationStatus::crash, InvocationStatus::oom, InvocationStatus::host_fault}) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

void add(BillingSummaryRow& row, const InvocationReport& record) {
    // An init no invocation paid for counts in the time and the cost, not as an invocation.
    const bool invocation = record.trigger != Trigger::warm && record.trigger != Trigger::deploy;
    if (invocation) {
        ++row.invocations;
        if (record.status == InvocationStatus::error || record.status == InvocationStatus::crash ||
            record.status == InvocationStatus::oom) {
            ++row.errors;
        }
        if (record.status == InvocationStatus::timeout) ++row.timeouts;
        if (record.init_ms) ++row.cold_starts;
    }
    row.billed_ms += record.billed_ms;
    row.mb_ms += static_cast<Pico>(record.memory_mb) * record.billed_ms;
    row.cost_pico_usd += record.cost_pico_usd;
}

}  // namespace

uint64_t billed_milliseconds(double duration_ms, std::optional<double> init_ms) {
    double total = std::max(0.0, duration_ms) + std::max(0.0, init_ms.value_or(0.0));
    return std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(total)));
}

void bill(InvocationReport& report, const Prices& prices) {
    // A host fault is sofaas failing, not the function: recorded like every answered
    // invocation, but charged nothing (Lambda does not bill its service errors either). A
    // throttled request never ran.
    if (report.status == InvocationStatus::host_fault || report.status == InvocationStatus::throttled) {
        report.billed_ms = 0;
        report.cost_pico_usd = 0;
        return;
    }
    report.billed_ms = billed_milliseconds(report.duration_ms, report.init_ms);
    // An init no invocation paid for: nothing was requested.
    const bool unpaid_init = report.trigger == Trigger::warm || report.trigger == Trigger::deploy;
    report.cost_pico_usd = cost_pico_usd(prices, report.memory_mb, report.billed_ms, /*per_request=*/!unpaid_init);
}

// Written on every invocation, before its response: JsonWriter, not a DOM.
void append_record(std::string& out, const InvocationReport& record) {
    // One buffer per thread for the timestamp: no allocation per record once it has grown.
    thread_local std::string start;
    start.clear();
    append_rfc3339(start, record.start);
    JsonWriter json(out);
    json.begin_object()
        .field("request_id", record.request_id)
        .field("function", record.function)
        .field("version", record.version)
        .field("trigger", to_string(record.trigger));
    if (record.attempt > 0) json.field("attempt", record.attempt);
    json
        .field("start", start)
        .field("duration_ms", to_microsecond_precision(record.duration_ms))
        .field("billed_ms", record.billed_ms)
        .field("memory_mb", record.memory_mb)
        .field("max_memory_used_mb", record.max_memory_used_mb);
    if (record.init_ms) json.field("init_ms", to_microsecond_precision(*record.init_ms));
    json.field("status", to_string(record.status))
        .field("cost_pico_usd", record.cost_pico_usd)
        .field("cost_usd", usd_text(record.cost_pico_usd));
    if (!record.principal.key_id.empty()) json.field("key_id", record.principal.key_id);
    if (!record.principal.role.empty()) json.field("role", record.principal.role);
    if (!record.principal.user_sub.empty()) json.field("user_sub", record.principal.user_sub);
    if (!record.principal.schedule.empty()) json.field("schedule", record.principal.schedule);
    json.end_object();
}

std::string record_to_json(const InvocationReport& record) {
    std::string out;
    append_record(out, record);
    return out;
}

std::string to_json_line(const InvocationReport& record) {
    std::string line;
    line.reserve(320);
    append_record(line, record);
    line += '\n';
    return line;
}

std::optional<InvocationReport> parse_json_line(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    auto object = nlohmann::json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (!object.is_object()) return std::nullopt;
    try {
        InvocationReport record;
        record.request_id = object.at("request_id").get<std::string>();
        record.function = object.at("function").get<std::string>();
        if (record.request_id.empty() || record.function.empty()) return std::nullopt;
        const auto& version = object.at("version");
        const auto& billed = object.at("billed_ms");
        const auto& memory = object.at("memory_mb");
        const auto& used = object.at("max_memory_used_mb");
        if (!version.is_number_unsigned() || !billed.is_number_unsigned() || !memory.is_number_unsigned() ||
            !used.is_number_unsigned()) {
            return std::nullopt;
        }
        record.version = version.get<uint32_t>();
        record.billed_ms = billed.get<uint64_t>();
        record.memory_mb = memory.get<uint32_t>();
        record.max_memory_used_mb = used.get<uint32_t>();

        auto trigger = parse_trigger(object.at("trigger").get<std::string>());
        auto status = parse_billed_status(object.at("status").get<std::string>());
        std::string start = object.at("start").get<std::string>();
        // Strictly a timestamp: parse_time_spec would also take "1h" or a bare date.
        auto start_time = start.find('T') == 10 ? parse_time_spec(start, WallTime{}) : std::nullopt;
        if (!trigger || !status || !start_time) return std::nullopt;
        record.trigger = *trigger;
        record.status = *status;
        record.start = *start_time;

        const auto& duration = object.at("duration_ms");
        if (!duration.is_number()) return std::nullopt;
        record.duration_ms = duration.get<double>();
        // Records written before costs were integers carry a float "cost_usd" only.
        if (auto pico = object.find("cost_pico_usd"); pico != object.end()) {
            if (!pico->is_number_unsigned()) return std::nullopt;
            record.cost_pico_usd = pico->get<uint64_t>();
        } else {
            const auto& cost = object.at("cost_usd");
            if (!cost.is_number() || cost.get<double>() < 0) return std::nullopt;
            record.cost_pico_usd = to_pico_usd(cost.get<double>());
        }
        for (auto [field, out] : {std::pair{"key_id", &record.principal.key_id}, std::pair{"role", &record.principal.role},
                                  std::pair{"user_sub", &record.principal.user_sub},
                                  std::pair{"schedule", &record.principal.schedule}}) {
            if (auto value = object.find(field); value != object.end()) {
                if (!value->is_string()) return std::nullopt;
                *out = value->get<std::string>();
            }
        }
        if (auto attempt = object.find("attempt"); attempt != object.end()) {
            if (!attempt->is_number_unsigned() || attempt->get<uint64_t>() == 0 ||
                attempt->get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
                return std::nullopt;
            }
            record.attempt = attempt->get<uint32_t>();
        }
        if (auto init = object.find("init_ms"); init != object.end()) {
            if (!init->is_number()) return std::nullopt;
            record.init_ms = init->get<double>();
        }
        return record;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;  // a field is missing or has the wrong type
    }
}

// ---- the ledger line ------------------------------------------------------------------

namespace {

// Tab, newline, carriage return and backslash in a text field are written as \t, \n, \r, \\:
// a line is one record whatever a caller's strings hold (a user's subject comes from a
// token an outside provider signed).
void append_field(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '\t': out += "\\t"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\\': out += "\\\\"; break;
            default: out += c;
        }
    }
}

std::optional<std::string> unescape_field(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out += text[i];
            continue;
        }
        if (++i == text.size()) return std::nullopt;
        switch (text[i]) {
            case 't': out += '\t'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case '\\': out += '\\'; break;
            default: return std::nullopt;
        }
    }
    return out;
}

template <typename Integer>
void append_integer(std::string& out, Integer value) {
    char text[24];
    const auto [end, error] = std::to_chars(text, text + sizeof text, value);
    out.append(text, end);
}

template <typename Integer>
std::optional<Integer> parse_integer(std::string_view text) {
    Integer value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

// Lines written before schedules were named have no schedule field. It sits after the
// attempt, not at the end, so that a torn line of 16 fields cannot pass for an older one:
// read the older way, its status field would hold a number.
constexpr size_t ledger_fields = 17;
constexpr size_t ledger_fields_before_schedule = 16;

}  // namespace

int64_t ledger_microseconds(double ms) { return std::llround(std::max(0.0, ms) * 1000.0); }

const std::string_view ledger_line_header =
    "#request_id\tfunction\tversion\ttrigger\tattempt\tschedule\tstart_us\tduration_us\tinit_us\tbilled_ms\tmemory_mb\t"
    "max_memory_used_mb\tstatus\tcost_pico_usd\tkey_id\trole\tuser_sub\n";

void append_ledger_line(std::string& out, const InvocationReport& record) {
    append_field(out, record.request_id);
    out += '\t';
    append_field(out, record.function);
    out += '\t';
    append_integer(out, record.version);
    out += '\t';
    out += to_string(record.trigger);
    out += '\t';
    append_integer(out, record.attempt);
    out += '\t';
    append_field(out, record.principal.schedule);
    out += '\t';
    append_integer(out, record.start.time_since_epoch().count());
    out += '\t';
    append_integer(out, ledger_microseconds(record.duration_ms));
    out += '\t';
    if (record.init_ms) append_integer(out, ledger_microseconds(*record.init_ms));
    out += '\t';
    append_integer(out, record.billed_ms);
    out += '\t';
    append_integer(out, record.memory_mb);
    out += '\t';
    append_integer(out, record.max_memory_used_mb);
    out += '\t';
    out += to_string(record.status);
    out += '\t';
    append_integer(out, record.cost_pico_usd);
    out += '\t';
    append_field(out, record.principal.key_id);
    out += '\t';
    append_field(out, record.principal.role);
    out += '\t';
    append_field(out, record.principal.user_sub);
    out += '\n';
}

std::optional<InvocationReport> parse_ledger_line(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    std::array<std::string_view, ledger_fields> fields;
    size_t count = 0;
    for (size_t begin = 0;;) {
        const size_t tab = line.find('\t', begin);
        if (count == ledger_fields) return std::nullopt;  // too many
        fields[count++] = line.substr(begin, tab == std::string_view::npos ? std::string_view::npos : tab - begin);
        if (tab == std::string_view::npos) break;
        begin = tab + 1;
    }
    if (count != ledger_fields && count != ledger_fields_before_schedule) return std::nullopt;
    InvocationReport record;
    auto request_id = unescape_field(fields[0]);
    auto function = unescape_field(fields[1]);
    auto version = parse_integer<uint32_t>(fields[2]);
    auto trigger = parse_trigger(fields[3]);
    auto attempt = parse_integer<uint32_t>(fields[4]);
    const bool has_schedule = count == ledger_fields;
    auto schedule = has_schedule ? unescape_field(fields[5]) : std::optional<std::string>("");
    // The fields after the attempt, by their place in a line without the schedule.
    const auto after = [&](size_t index) { return fields[has_schedule ? index + 1 : index]; };
    auto start = parse_integer<int64_t>(after(5));
    auto duration = parse_integer<int64_t>(after(6));
    auto billed = parse_integer<uint64_t>(after(8));
    auto memory = parse_integer<uint32_t>(after(9));
    auto used = parse_integer<uint32_t>(after(10));
    auto status = parse_billed_status(after(11));
    auto cost = parse_integer<uint64_t>(after(12));
    auto key_id = unescape_field(after(13));
    auto role = unescape_field(after(14));
    auto user_sub = unescape_field(after(15));
    if (!request_id || request_id->empty() || !function || function->empty() || !version || !trigger || !attempt ||
        !start || !duration || *duration < 0 || !billed || !memory || !used || !status || !cost || !key_id || !role ||
        !user_sub || !schedule) {
        return std::nullopt;
    }
    if (!after(7).empty()) {
        auto init = parse_integer<int64_t>(after(7));
        if (!init || *init < 0) return std::nullopt;
        record.init_ms = static_cast<double>(*init) / 1000.0;
    }
    record.request_id = std::move(*request_id);
    record.function = std::move(*function);
    record.version = *version;
    record.trigger = *trigger;
    record.attempt = *attempt;
    record.start = WallTime{std::chrono::microseconds(*start)};
    record.duration_ms = static_cast<double>(*duration) / 1000.0;
    record.billed_ms = *billed;
    record.memory_mb = *memory;
    record.max_memory_used_mb = *used;
    record.status = *status;
    record.cost_pico_usd = *cost;
    record.principal = {std::move(*key_id), std::move(*role), std::move(*user_sub), std::move(*schedule)};
    return record;
}

BillingSummary summarize(const std::vector<InvocationReport>& records) {
    std::map<std::string, BillingSummaryRow> rows;
    BillingSummary summary;
    for (const auto& record : records) {
        BillingSummaryRow& row = rows[record.function];
        row.function = record.function;
        add(row, record);
        add(summary.total, record);
    }
    for (auto& [_, row] : rows) summary.functions.push_back(std::move(row));
    return summary;
}

std::string summary_to_json(const BillingSummary& summary) {
    ordered_json functions = ordered_json::array();
    for (const auto& row : summary.functions) functions.push_back(row_object(row));
    ordered_json object = {{"functions", std::move(functions)}, {"total", row_object(summary.total)}};
    return object.dump();
}

}  // namespace sofaas
