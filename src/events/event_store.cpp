#include "events/event_store.h"

namespace sofaas {

std::string_view to_string(FailureCondition condition) {
    switch (condition) {
        case FailureCondition::retries_exhausted: return "RetriesExhausted";
        case FailureCondition::event_age_exceeded: return "EventAgeExceeded";
    }
    return "RetriesExhausted";
}

}  // namespace sofaas
