// Numbers as the records and headers show them, written without printf: these run on
// every invocation.
#pragma once

#include <string>

namespace sofaas {

// `value` with exactly `decimals` digits after the point, as printf's "%.*f" writes it.
void append_fixed(std::string& out, double value, int decimals);
std::string format_fixed(double value, int decimals);

}  // namespace sofaas
