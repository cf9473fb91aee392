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
#include "common/money.h"
#include "common/time.h"

namespace sofaas {

// Billed time: duration plus init (a cold start is paid for, as on Lambda), rounded up to 1 ms.
uint64_t billed_milliseconds(double duration_ms, std::optional<double> init_ms);

// Sets the report's billed_ms and cost_pico_usd from its outcome and measures. A host fault and a
// throttled request charge nothing; an init no invocation paid for (trigger warm or deploy)
// is its time at the memory size's price, without the per-request price.
void bill(InvocationReport& report, const Prices& prices);

// The one place a record becomes a line, and back. The ledger's line (segment.h): the
// fields of ledger_line_header, tab-separated, times and durations in whole microseconds,
// money in pico-dollars, text fields with \t \n \r \\ escaped. parse returns nullopt for a
// torn or corrupt line.
extern const std::string_view ledger_line_header;  // "#request_id\tfunction\t...\n"
// Milliseconds as the ledger stores them: whole microseconds, rounded, never negative.
int64_t ledger_microseconds(double ms);
void append_ledger_line(std::string& out, const InvocationReport& report);  // ends with '\n'
std::optional<InvocationReport> parse_ledger_line(std::string_view line);

// A record as one JSON object and '\n': the ledger's line before segments (day files of
// older versions are read with parse_json_line), and `billing export --output jsonl`.
std::string to_json_line(const InvocationReport& report);
std::optional<InvocationReport> parse_json_line(std::string_view line);

struct BillingSummaryRow {
    std::string function;  // "" for the total
    uint64_t invocations = 0;
    uint64_t errors = 0;     // error, crash, oom
    uint64_t timeouts = 0;
    uint64_t cold_starts = 0;
    uint64_t billed_ms = 0;
    Pico mb_ms = 0;          // memory_mb × billed_ms: GB-seconds × 1,024,000, exactly
    Pico cost_pico_usd = 0;
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
