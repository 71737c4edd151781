// vaelet/core/error.hpp — every exception vaelet throws derives from vaelet::error.
//
//   try { train(); } catch (const vaelet::error& e) { std::cerr << e.what() << '\n'; return 1; }
//
// Messages name the thing that is wrong (file, field, op, shapes) and, where one exists, the fix.
#pragma once

#include <stdexcept>
#include <string>

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

}  // namespace vaelet
