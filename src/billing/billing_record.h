// The billing record (DESIGN.md): an invocation report's price, its ledger line, and
// summaries over many. A record read back from the ledger is a report without its output.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/invocation_report.h"
#include "common/time.h"

namespace sofaas {

// Billed time: duration plus init (a cold start is paid for, as on Lambda), rounded up to 1 ms.
uint64_t billed_milliseconds(double duration_ms, std::optional<double> init_ms);
double cost_usd(const Prices& prices, uint32_t memory_mb, uint64_t billed_ms);

// Sets the report's billed_ms and cost_usd from its outcome and measures. A host fault and a
// throttled request charge nothing; an init no invocation paid for (trigger warm or deploy)
// is its time at the memory size's price, without the per-request price.
void bill(InvocationReport& report, const Prices& prices);

// The one place a record becomes a line, and back. parse returns nullopt for a torn line.
std::string to_json_line(const InvocationReport& report);  // ends with '\n'
std::optional<InvocationReport> parse_json_line(std::string_view line);

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

BillingSummary summarize(const std::vector<InvocationReport>& records);

// JSON for the control API (GET /v1/billing) and the CLI's --json.
std::string summary_to_json(const BillingSummary& summary);
std::string record_to_json(const InvocationReport& report);  // one object, no newline

}  // namespace sofaas
