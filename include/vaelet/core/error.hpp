/// \file
/// vaelet/core/error.hpp — every exception vaelet throws derives from vaelet::error.
///
///     try { train(); } catch (const vaelet::error& e) { std::cerr << e.what() << '\n'; return 1; }
///
/// Messages name the thing that is wrong (file, field, op, shapes) and, where one exists, the fix.
/// A likely mistake that is not an error (a tape never reset) is a warning: one message, given to the warning handler.
///
///     vaelet::set_warning_handler([&](const std::string& m) { log.warn(m); });   // default: one line on stderr
#pragma once

#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>

namespace vaelet {

/// Base of all vaelet errors; library code throws, programs catch at main.
struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Operands whose shapes do not fit; the message names the op and both shapes.
struct shape_error : error {
    using error::error;
};

/// A file that cannot be read, written or parsed; the message names the file.
struct io_error : error {
    using error::error;
};

/// A value that is NaN or infinite where a finite number is required.
struct numeric_error : error {
    using error::error;
};

/// A bad argument or configuration value (negative epochs, latent 0, ...).
struct config_error : error {
    using error::error;
};

/// Receives each warning's message; see set_warning_handler.
using WarningHandler = std::function<void(const std::string& message)>;

namespace detail {
inline WarningHandler& warning_handler() {
    static WarningHandler handler = [](const std::string& message) {
        std::fprintf(stderr, "vaelet: warning: %s\n", message.c_str());
    };
    return handler;
}
}  // namespace detail

/// Where warnings go from now on (the default writes one line to stderr); an empty handler silences them.
/// Returns the handler it replaces, to put back later. Not thread-safe: set it before other threads use vaelet.
inline WarningHandler set_warning_handler(WarningHandler handler) {
    return std::exchange(detail::warning_handler(), std::move(handler));
}

/// Gives `message` to the warning handler.
inline void warn(const std::string& message) {
    if (const WarningHandler& handler = detail::warning_handler()) handler(message);
}

}  // namespace vaelet
