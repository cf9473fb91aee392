// Ledger line parsing (billing/billing_record.h parse_json_line): a line of
// DATA/billing/*.jsonl, which a crash may have torn or a person may have edited.
// Properties: never an exception; a record that parses is written back as a line that
// parses to the same record (identity, time, status; durations are rounded to 1 µs).
#include <string_view>

#include "billing/billing_record.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace sofaas;
    const auto record = parse_json_line(std::string_view(reinterpret_cast<const char*>(data), size));
    if (!record) return 0;
    const std::string line = to_json_line(*record);
    fuzz::check(line.ends_with('\n') && line.find('\n') == line.size() - 1, "one line per record");
    const auto again = parse_json_line(line);
    fuzz::check(again.has_value(), "a record that was read can be written and read again");
    fuzz::check(again->request_id == record->request_id && again->function == record->function &&
                    again->version == record->version && again->trigger == record->trigger &&
                    again->start == record->start && again->billed_ms == record->billed_ms &&
                    again->memory_mb == record->memory_mb && again->status == record->status &&
                    again->init_ms.has_value() == record->init_ms.has_value(),
                "the record survives a write and a read");
    return 0;
}
