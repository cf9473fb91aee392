// The Prometheus text exposition format (version 0.0.4): metric families, each a # HELP and
// a # TYPE line and then its samples, label values escaped as the format says. What
// GET /metrics answers; the metrics themselves are counted elsewhere.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace sofaas {

class Histogram;

// The Content-Type of the text format, as Prometheus asks for it.
inline constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

enum class MetricType { counter, gauge, histogram };

struct Label {
    std::string_view name;   // a Prometheus label name: [a-zA-Z_][a-zA-Z0-9_]*, not checked
    std::string_view value;  // any bytes; escaped when written
};
using Labels = std::initializer_list<Label>;

class Exposition {
public:
    // Starts a family: its HELP and TYPE lines. Every sample written until the next
    // family() belongs to it. `name` is a valid metric name (the caller's constant).
    void family(std::string_view name, MetricType type, std::string_view help);

    void sample(std::string_view name, Labels labels, double value);
    void sample(std::string_view name, Labels labels, uint64_t value);
    // NAME_bucket{...,le="..."} cumulative up to le="+Inf", then NAME_sum and NAME_count.
    void histogram(std::string_view name, Labels labels, const Histogram& histogram);

    const std::string& text() const { return text_; }
    std::string take() { return std::move(text_); }

private:
    void sample_start(std::string_view name, Labels labels, const Label* extra = nullptr);

    std::string text_;
};

// A label value or HELP text as the format wants it: backslash, double quote (label values
// only) and line feed escaped.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);

// A sample value: integers without a fraction, others in their shortest exact form, +Inf,
// -Inf and NaN as Prometheus spells them.
std::string format_sample_value(double value);

}  // namespace sofaas
