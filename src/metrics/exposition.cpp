#include "metrics/exposition.h"

#include <cmath>

#include <fmt/format.h>

#include "metrics/histogram.h"

namespace sofaas {

namespace {

std::string_view type_name(MetricType type) {
    switch (type) {
        case MetricType::counter:
            return "counter";
        case MetricType::gauge:
            return "gauge";
        case MetricType::histogram:
            return "histogram";
    }
    return "untyped";
}

void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    append_escaped(out, value, true);
    return out;
}

std::string escape_help(std::string_view help) {
    std::string out;
    append_escaped(out, help, false);
    return out;
}

std::string format_sample_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // fmt's shortest round-trip form: 0.1, 2.5e-05, 3; Prometheus parses each (Go's ParseFloat).
    return fmt::format("{}", value);
}

void Exposition::family(std::string_view name, MetricType type, std::string_view help) {
    fmt::format_to(std::back_inserter(text_), "# HELP {} ", name);
    append_escaped(text_, help, false);
    fmt::format_to(std::back_inserter(text_), "\n# TYPE {} {}\n", name, type_name(type));
}

void Exposition::sample_start(std::string_view name, Labels labels, const Label* extra) {
    text_ += name;
    if (labels.size() == 0 && !extra) {
        text_ += ' ';
        return;
    }
    char separator = '{';
    const auto write = [&](const Label& label) {
        text_ += separator;
        text_ += label.name;
        text_ += "=\"";
        append_escaped(text_, label.value, true);
        text_ += '"';
        separator = ',';
    };
    for (const Label& label : labels) write(label);
    if (extra) write(*extra);
    text_ += "} ";
}

void Exposition::sample(std::string_view name, Labels labels, double value) {
    sample_start(name, labels);
    text_ += format_sample_value(value);
    text_ += '\n';
}

void Exposition::sample(std::string_view name, Labels labels, uint64_t value) {
    sample_start(name, labels);
    fmt::format_to(std::back_inserter(text_), "{}\n", value);
}

void Exposition::histogram(std::string_view name, Labels labels, const Histogram& histogram) {
    const std::string bucket = fmt::format("{}_bucket", name);
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= histogram.bounds().size(); ++i) {
        cumulative += histogram.counts()[i];
        const std::string le = i < histogram.bounds().size() ? format_sample_value(histogram.bounds()[i]) : "+Inf";
        const Label bound{"le", le};
        sample_start(bucket, labels, &bound);
        fmt::format_to(std::back_inserter(text_), "{}\n", cumulative);
    }
    sample(fmt::format("{}_sum", name), labels, histogram.sum());
    sample(fmt::format("{}_count", name), labels, histogram.count());
}

}  // namespace sofaas
