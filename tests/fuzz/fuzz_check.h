#pragma once

// Checks inside fuzz targets: a broken property prints what broke and aborts, which libFuzzer
// reports as a crash (and saves the input) and the corpus replay test reports as a failure.

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)
