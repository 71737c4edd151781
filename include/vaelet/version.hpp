/// \file
/// vaelet/version.hpp — the library version, for programs' --version and for compile-time checks.
///
///     #include <vaelet/version.hpp>
///     std::cout << "vaelet " << vaelet::version() << '\n';            // vaelet 0.1.0
///     static_assert(VAELET_VERSION_MAJOR == 0, "this code needs vaelet 0.x");
///
/// These three numbers are the only place the version is written in C++; CMake checks at configure time that
/// they equal project(vaelet VERSION …) in CMakeLists.txt, so the two cannot drift apart.
#pragma once

#include <string>

/// The major version, a number for `#if` and `static_assert` (version() gives the whole string).
#define VAELET_VERSION_MAJOR 0
/// The minor version.
#define VAELET_VERSION_MINOR 1
/// The patch version.
#define VAELET_VERSION_PATCH 0

namespace vaelet {

/// The version as "MAJOR.MINOR.PATCH", e.g. "0.1.0".
inline std::string version() {
    return std::to_string(VAELET_VERSION_MAJOR) + "." + std::to_string(VAELET_VERSION_MINOR) + "." +
           std::to_string(VAELET_VERSION_PATCH);
}

}  // namespace vaelet
