// Ledger line parsing (billing/billing_record.h): a line of an open segment
// (parse_ledger_line) or of an older version's day file (parse_json_line), which a crash may
// have torn or a person may have edited. Properties: never an exception; a record that
// parses is written back as one line that parses to the same record, in both formats.
#include <string_view>

#include "billing/billing_record.h"
#include "fuzz_input.h"

namespace {

bool same_record(const sofaas::InvocationReport& a, const sofaas::InvocationReport& b) {
    return a.request_id == b.request_id && a.function == b.function && a.version == b.version &&
           a.trigger == b.trigger && a.attempt == b.attempt && a.start == b.start && a.billed_ms == b.billed_ms &&
           a.memory_mb == b.memory_mb && a.status == b.status && a.cost_pico_usd == b.cost_pico_usd &&
           a.init_ms.has_value() == b.init_ms.has_value() && a.principal.key_id == b.principal.key_id &&
           a.principal.role == b.principal.role && a.principal.user_sub == b.principal.user_sub &&
           a.principal.schedule == b.principal.schedule;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sofaas;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    if (const auto record = parse_ledger_line(input)) {
        std::string line;
        append_ledger_line(line, *record);
        fuzz::check(line.ends_with('\n') && line.find('\n') == line.size() - 1, "one line per record");
        const auto again = parse_ledger_line(line);
        fuzz::check(again.has_value() && same_record(*again, *record), "the record survives a write and a read");
    }
    if (const auto record = parse_json_line(input)) {
        const std::string line = to_json_line(*record);
        fuzz::check(line.ends_with('\n') && line.find('\n') == line.size() - 1, "one line per record");
        const auto again = parse_json_line(line);
        fuzz::check(again.has_value() && same_record(*again, *record), "the record survives a write and a read");
        std::string tsv;
        append_ledger_line(tsv, *record);
        const auto as_tsv = parse_ledger_line(tsv);
        fuzz::check(as_tsv.has_value() && same_record(*as_tsv, *record), "an older record reads the same in segments");
    }
    return 0;
}
