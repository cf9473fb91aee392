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

}  // namespace sofaas
