// Shell completion for sofaas, generated from the command table (args.h), so that it
// knows every command, option and argument the parser does.
#pragma once

#include <string>

namespace sofaas::cli {

// The completion script for `shell` ("bash"): commands, actions of the two-word commands,
// options (a command's and the global ones), the values of options whose value name is a
// set of words ("none|key"), files for FILE.so and --data-file, and function names, asked
// of sofaasd with `sofaas list` (quietly, with the --endpoint and --token of the line).
// Throws UsageError for a shell it does not know.
std::string completion_script(const std::string& shell);

}  // namespace sofaas::cli
