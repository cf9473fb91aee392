// The standard process metrics of Prometheus client libraries, read from /proc/self at
// scrape time: process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_open_fds, process_max_fds,
// process_start_time_seconds.
#pragma once

namespace sofaas {

class Exposition;

// Writes what /proc tells; a file that cannot be read leaves its metric out.
void write_process_metrics(Exposition& out);

}  // namespace sofaas
