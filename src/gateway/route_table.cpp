#include "gateway/route_table.h"

#include <algorithm>
#include <cctype>

#include "gateway/query_string.h"

namespace sofaas {
namespace {

bool is_parameter(std::string_view segment) {
    return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool is_greedy(std::string_view segment) {
    return is_parameter(segment) && segment.size() > 3 && segment[segment.size() - 2] == '+';
}

std::string parameter_name(std::string_view segment) {
    segment = segment.substr(1, segment.size() - 2);
    if (segment.ends_with('+')) segment.remove_suffix(1);
    return std::string(segment);
}

std::string to_upper(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::toupper(c); });
    return out;
}

// How specific a matching route is, compared lexicographically: per segment 2 for a
// literal, 1 for {param}, 0 for {greedy+}; then 1 for an exact method over ANY.
using Specificity = std::vector<int>;

std::optional<Specificity> match_segments(const std::vector<std::string>& pattern,
                                          const std::vector<std::string_view>& path,
                                          std::map<std::string, std::string>& parameters) {
    Specificity specificity;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const std::string& segment = pattern[i];
        if (is_greedy(segment) && i + 1 == pattern.size()) {
            if (i >= path.size()) return std::nullopt;
            std::string rest;
            for (size_t j = i; j < path.size(); ++j) {
                if (j > i) rest += '/';
                rest += path[j];
            }
            parameters[parameter_name(segment)] = percent_decode(rest, false);
            specificity.push_back(0);
            return specificity;
        }
        if (i >= path.size()) return std::nullopt;
        if (is_parameter(segment)) {
            parameters[parameter_name(segment)] = percent_decode(path[i], false);
            specificity.push_back(1);
        } else if (segment == path[i]) {
            specificity.push_back(2);
        } else {
            return std::nullopt;
        }
    }
    if (pattern.size() != path.size()) return std::nullopt;
    return specificity;
}

}  // namespace

RouteTable::RouteTable(const std::vector<FunctionVersionPtr>& functions) {
    for (const FunctionVersionPtr& version : functions) {
        if (!version) continue;
        const FunctionSpec& spec = version->spec;
        functions_.insert(spec.name);
        for (const Route& route : spec.routes) {
            const std::string method = to_upper(route.method);
            const std::vector<std::string_view> segments = path_segments(route.path);
            entries_.push_back({method, {segments.begin(), segments.end()}, spec.name, method + " " + route.path});
        }
    }
}

std::optional<RouteMatch> RouteTable::match(std::string_view method, std::string_view path) const {
    const std::vector<std::string_view> segments = path_segments(path);
    const std::string request_method = to_upper(method);

    std::optional<RouteMatch> best;
    Specificity best_specificity;
    for (const Entry& entry : entries_) {
        if (entry.method != "ANY" && entry.method != request_method) continue;
        std::map<std::string, std::string> parameters;
        auto specificity = match_segments(entry.segments, segments, parameters);
        if (!specificity) continue;
        specificity->push_back(entry.method == "ANY" ? 0 : 1);
        // Strictly greater: on a tie the first function (by name) keeps the route.
        if (!best || *specificity > best_specificity) {
            best = RouteMatch{entry.function, entry.route_key, std::move(parameters)};
            best_specificity = std::move(*specificity);
        }
    }
    if (best) return best;

    if (segments.size() >= 2 && segments[0] == "fn") {
        // As it stands, never decoded: a name needs no escape, and "/fn/%68ello" being
        // /fn/hello would let the path a proxy in front checks differ from the one served.
        // "/fn/NAME:live/..." and "/fn/NAME:3/...": the qualifier is the registry's to resolve.
        const std::string_view target = segments[1];
        const size_t colon = target.find(':');
        const auto function = functions_.find(target.substr(0, colon));
        if (function != functions_.end()) {
            const std::string qualifier(colon == std::string_view::npos ? "" : target.substr(colon + 1));
            return RouteMatch{*function, "$default", {}, qualifier};
        }
    }
    return std::nullopt;
}

std::optional<RouteMatch> RouteTable::route_within(std::string_view prefix) const {
    const std::vector<std::string_view> wanted = path_segments(prefix);
    for (const Entry& entry : entries_) {
        bool overlaps = true;
        for (size_t i = 0; i < wanted.size() && overlaps; ++i) {
            if (i >= entry.segments.size()) {
                overlaps = false;
                break;
            }
            const std::string& segment = entry.segments[i];
            if (is_greedy(segment)) break;
            overlaps = is_parameter(segment) || segment == wanted[i];
        }
        if (overlaps) return RouteMatch{entry.function, entry.route_key, {}, {}};
    }
    return std::nullopt;
}

std::shared_ptr<const RouteTable> LiveRouteTable::snapshot() const {
    std::lock_guard lock(mutex_);
    return table_;
}

void LiveRouteTable::rebuild(const std::function<std::vector<FunctionVersionPtr>()>& list_functions) {
    std::lock_guard lock(mutex_);
    table_ = std::make_shared<const RouteTable>(list_functions());
}

}  // namespace sofaas
