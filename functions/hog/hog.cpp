// hog: allocates memory until the function's memory limit stops it. The invocation fails
// with Runtime.OutOfMemory and the execution environment is replaced.
#include <sofaas/sofaas.hpp>

#include <cstddef>
#include <vector>

static sofaas::Response handle(const sofaas::Request&) {
    constexpr size_t block_size = 1024 * 1024;
    constexpr size_t page_size = 4096;
    std::vector<char*> blocks;
    for (;;) {
        char* block = new char[block_size];
        // Touch every page so the memory is really used, not just reserved.
        for (size_t offset = 0; offset < block_size; offset += page_size)
            static_cast<volatile char*>(block)[offset] = 1;
        blocks.push_back(block);
    }
}

SOFAAS_HANDLER(handle)
