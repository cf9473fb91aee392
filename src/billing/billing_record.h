// One billing record (DESIGN.md), its price, its JSON line, and summaries over many.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/invocation.h"
#include "common/time.h"

namespace sofaas {

struct BillingRecord {
    std::string request_id;
    std::string function;
    uint32_t version = 0;
    Trigger trigger = Trigger::invoke;
    WallTime start;
    double duration_ms = 0;
    uint64_t billed_ms = 0;
    uint32_t memory_mb = 0;
    uint32_t max_memory_used_mb = 0;
    std::optional<double> init_ms;
    InvocationStatus status = InvocationStatus::ok;
    double cost_usd = 0;
};

// Billed time: duration plus init (a cold start is paid for, as on Lambda), rounded up to 1 ms.
uint64_t billed_milliseconds(double duration_ms, std::optional<double> init_ms);
double cost_usd(const Prices& prices, uint32_t memory_mb, uint64_t billed_ms);

// The one place a record becomes a line, and back. parse returns nullopt for a torn line.
std::string to_json_line(const BillingRecord& record);  // ends with '\n'
std::optional<BillingRecord> parse_json_line(std::string_view line);

struct BillingSummaryRow {
    std::string function;  // "" for the total
    uint64_t invocations = 0;
    uint64_t errors = 0;     // error, crash, oom
    uint64_t timeouts = 0;
    uint64_t cold_starts = 0;
    uint64_t billed_ms = 0;
    double gb_seconds = 0;
    double cost_usd = 0;
};

struct BillingSummary {
    std::vector<BillingSummaryRow> functions;  // sorted by name
    BillingSummaryRow total;
};

BillingSummary summarize(const std::vector<BillingRecord>& records);

// JSON for the control API (GET /v1/billing) and the CLI's --json.
std::string summary_to_json(const BillingSummary& summary);
std::string record_to_json(const BillingRecord& record);  // one object, no newline

}  // namespace sofaas
