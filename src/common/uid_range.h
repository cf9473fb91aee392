// A range of user ids, as the config names it ("FIRST-LAST") and the pool hands them out.
#pragma once

#include <sys/types.h>

namespace sofaas {

struct UidRange {
    uid_t first = 0;
    uid_t last = 0;  // inclusive
};

}  // namespace sofaas
