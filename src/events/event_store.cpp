#include "events/event_store.h"

#include <chrono>

namespace sofaas {

UnixMillis unix_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string_view to_string(FailureCondition condition) {
    switch (condition) {
        case FailureCondition::retries_exhausted: return "RetriesExhausted";
        case FailureCondition::event_age_exceeded: return "EventAgeExceeded";
    }
    return "RetriesExhausted";
}

FailureCondition failure_condition_named(std::string_view name) {
    return name == to_string(FailureCondition::event_age_exceeded) ? FailureCondition::event_age_exceeded
                                                                   : FailureCondition::retries_exhausted;
}

Trigger stored_trigger_named(std::string_view name) {
    for (Trigger trigger : {Trigger::async, Trigger::schedule, Trigger::http, Trigger::invoke, Trigger::lambda_api,
                            Trigger::warm, Trigger::deploy}) {
        if (to_string(trigger) == name) return trigger;
    }
    return Trigger::async;
}

}  // namespace sofaas
