// Declarations only (include/fuzzer_driver.h); libFuzzer provides the definitions.
#include "fuzzer_driver.h"
