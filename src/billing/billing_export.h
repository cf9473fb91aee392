// `sofaas billing export` and GET /v1/billing/export: the ledger's records over a time range
// as CSV or JSON lines, written an hour of records at a time so that a month of them streams
// to the caller in bounded memory.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/invocation_report.h"

namespace sofaas {

enum class ExportFormat { csv, jsonl };

std::optional<ExportFormat> parse_export_format(std::string_view text);  // "csv" | "jsonl"
std::string_view content_type_of(ExportFormat format);

// The CSV header row (an empty string for JSON lines, which has none).
std::string export_header(ExportFormat format);
// One line per record, each ending with '\n'. CSV fields are quoted as RFC 4180 says;
// numbers are written exactly (money as decimal dollars).
void append_export_rows(std::string& out, const std::vector<InvocationReport>& records, ExportFormat format);

}  // namespace sofaas
