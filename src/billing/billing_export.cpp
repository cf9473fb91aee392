#include "billing/billing_export.h"

#include "billing/billing_record.h"
#include "common/csv.h"
#include "common/money.h"
#include "common/number_text.h"
#include "common/time.h"

namespace sofaas {
namespace {

constexpr std::string_view csv_columns =
    "request_id,function,version,trigger,attempt,start,duration_ms,init_ms,billed_ms,memory_mb,"
    "max_memory_used_mb,status,cost_usd,key_id,role,user_sub,schedule\n";

void append_csv_row(std::string& out, const InvocationReport& r) {
    append_csv_field(out, r.request_id);
    out += ',';
    append_csv_field(out, r.function);
    out += ',' + std::to_string(r.version) + ',';
    out += to_string(r.trigger);
    out += ',';
    if (r.attempt > 0) out += std::to_string(r.attempt);
    out += ',';
    append_rfc3339(out, r.start);
    out += ',';
    append_fixed(out, r.duration_ms, 3);  // measured in microseconds
    out += ',';
    if (r.init_ms) append_fixed(out, *r.init_ms, 3);
    out += ',' + std::to_string(r.billed_ms) + ',' + std::to_string(r.memory_mb) + ',' +
           std::to_string(r.max_memory_used_mb) + ',';
    out += to_string(r.status);
    out += ',' + usd_text(r.cost_pico_usd) + ',';
    append_csv_field(out, r.principal.key_id);
    out += ',';
    append_csv_field(out, r.principal.role);
    out += ',';
    append_csv_field(out, r.principal.user_sub);
    out += ',';
    append_csv_field(out, r.principal.schedule);
    out += '\n';
}

}  // namespace

std::optional<ExportFormat> parse_export_format(std::string_view text) {
    if (text == "csv") return ExportFormat::csv;
    if (text == "jsonl") return ExportFormat::jsonl;
    return std::nullopt;
}

std::string_view content_type_of(ExportFormat format) {
    return format == ExportFormat::csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
}

std::string export_header(ExportFormat format) {
    return format == ExportFormat::csv ? std::string(csv_columns) : std::string();
}

void append_export_rows(std::string& out, const std::vector<InvocationReport>& records, ExportFormat format) {
    for (const InvocationReport& record : records) {
        if (format == ExportFormat::csv) {
            append_csv_row(out, record);
        } else {
            out += to_json_line(record);
        }
    }
}

}  // namespace sofaas
