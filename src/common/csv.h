// CSV as RFC 4180 writes it, for every CSV sofaas produces: the billing export of the
// daemon and the CLI's --output csv.
#pragma once

#include <string>
#include <string_view>

namespace sofaas {

// One field: as it is, or in double quotes (inner quotes doubled) when it holds a comma, a
// quote, CR or LF.
void append_csv_field(std::string& out, std::string_view text);

}  // namespace sofaas
