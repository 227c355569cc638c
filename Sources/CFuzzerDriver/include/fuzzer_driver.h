#ifndef WARREN_FUZZER_DRIVER_H
#define WARREN_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer). SwiftPM gives an
/// executable its own entry point, so a fuzz target calls the driver from there instead
/// of using libFuzzer's main.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
