// examples/common/command.hpp — how the example programs' main() runs a subcommand: a vaelet::error becomes one
// line on stderr and exit code 1 (light on purpose: main.cpp includes only this and CLI11).
#pragma once

#include "train_flags.hpp"

#include <vaelet/core/error.hpp>

#include <exception>
#include <iostream>

namespace examples {

/// Runs `command` and returns its exit code; an error becomes "PROGRAM: error: …" on stderr and exit code 1.
template <class Command>
int run_command(const char* program, Command&& command) {
    try {
        return command();
    } catch (const vaelet::error& e) {
        std::cerr << program << ": error: " << in_flags(e.what()) << '\n';
    } catch (const std::exception& e) {
        std::cerr << program << ": unexpected error: " << e.what() << '\n';
    }
    return 1;
}

}  // namespace examples
