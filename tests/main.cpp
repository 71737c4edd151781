// tests/main.cpp — the one main() of vaelet_tests; the test cases are in tests/<folder>/test_<header>.cpp.
//
//   build/release/bin/vaelet_tests                          # all test cases
//   build/release/bin/vaelet_tests -tc="*gradient*"         # the matching ones
//   ctest --preset release -R gradient                      # the same through ctest (one ctest test per case)
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
