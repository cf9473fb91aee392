#include "billing/billing_record.h"

#include <cmath>
#include <limits>
#include <map>

#include <nlohmann/json.hpp>

#include "common/json_writer.h"

namespace sofaas {
namespace {

using ordered_json = nlohmann::ordered_json;

double gb_seconds(uint32_t memory_mb, uint64_t billed_ms) {
    return memory_mb / 1024.0 * (billed_ms / 1000.0);
}

// Durations are measured in microseconds; more digits would only be noise in the ledger.
double to_microsecond_precision(double ms) {
    return std::round(ms * 1000.0) / 1000.0;
}

ordered_json row_object(const BillingSummaryRow& row) {
    return {
        {"function", row.function},     {"invocations", row.invocations}, {"errors", row.errors},
        {"timeouts", row.timeouts},     {"cold_starts", row.cold_starts}, {"billed_ms", row.billed_ms},
        {"gb_seconds", row.gb_seconds}, {"cost_usd", row.cost_usd},
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
    row.gb_seconds += gb_seconds(record.memory_mb, record.billed_ms);
    row.cost_usd += record.cost_usd;
}

}  // namespace

uint64_t billed_milliseconds(double duration_ms, std::optional<double> init_ms) {
    double total = std::max(0.0, duration_ms) + std::max(0.0, init_ms.value_or(0.0));
    return std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(total)));
}

double cost_usd(const Prices& prices, uint32_t memory_mb, uint64_t billed_ms) {
    return prices.per_request + gb_seconds(memory_mb, billed_ms) * prices.per_gb_second;
}

void bill(InvocationReport& report, const Prices& prices) {
    // A host fault is sofaas failing, not the function: recorded like every answered
    // invocation, but charged nothing (Lambda does not bill its service errors either). A
    // throttled request never ran.
    if (report.status == InvocationStatus::host_fault || report.status == InvocationStatus::throttled) {
        report.billed_ms = 0;
        report.cost_usd = 0;
        return;
    }
    report.billed_ms = billed_milliseconds(report.duration_ms, report.init_ms);
    // An init no invocation paid for: nothing was requested.
    const bool unpaid_init = report.trigger == Trigger::warm || report.trigger == Trigger::deploy;
    Prices charged = prices;
    if (unpaid_init) charged.per_request = 0;
    report.cost_usd = cost_usd(charged, report.memory_mb, report.billed_ms);
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
    json.field("status", to_string(record.status)).field("cost_usd", record.cost_usd).end_object();
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
        const auto& cost = object.at("cost_usd");
        if (!duration.is_number() || !cost.is_number()) return std::nullopt;
        record.duration_ms = duration.get<double>();
        record.cost_usd = cost.get<double>();
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
