/// \file
/// vaelet/train/progress.hpp — a progress bar for one epoch: images/s, running loss and ETA, redrawn in place on
/// a terminal and silent elsewhere (logs get one line per epoch from the caller instead).
///
///     vaelet::ProgressBar bar(std::cerr, "epoch 3/10", 60000);
///     for (...) bar.update(images_done, running_loss);
///     bar.finish();
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>

namespace vaelet {

/// True when `stream` is `std::cerr`/`std::clog`/`std::cout` attached to a terminal.
inline bool is_terminal(const std::ostream& stream);

/// One epoch's progress bar on a stream: images/s, running loss and ETA, redrawn in place at most ~10 times a
/// second; disabled (silent) by default when the stream is not a terminal.
class ProgressBar {
public:
    /// `total` is the number of images in the epoch. `enabled` defaults to whether `out` is a terminal.
    ProgressBar(std::ostream& out, std::string label, long total, int enabled = -1)
        : out_(out), label_(std::move(label)), total_(total), enabled_(enabled < 0 ? is_terminal(out) : enabled != 0),
          start_(Clock::now()), last_draw_(start_) {}

    /// Redraws at most ~10 times a second (and always at the end).
    void update(long done, double running_loss) {
        if (!enabled_) return;
        const auto now = Clock::now();
        if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
        last_draw_ = now;
        out_ << '\r' << line(done, running_loss, now) << std::flush;
        drawn_ = true;
    }

    /// Ends the bar's line so the caller's summary starts on a fresh one.
    void finish() {
        if (enabled_ && drawn_) out_ << "\r\033[K" << std::flush;
        drawn_ = false;
    }

    /// Seconds since the bar was constructed: the epoch's time so far.
    double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

private:
    using Clock = std::chrono::steady_clock;

    std::string line(long done, double loss, Clock::time_point now) const {
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        const double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
        const double fraction = total_ > 0 ? double(done) / double(total_) : 1.0;
        const int width = 24, filled = static_cast<int>(fraction * width);
        std::ostringstream s;
        s << label_ << " [" << std::string(std::size_t(filled), '#') << std::string(std::size_t(width - filled), '.')
          << "] " << done << '/' << total_ << "  " << std::fixed << std::setprecision(0) << rate << " img/s  loss "
          << std::setprecision(2) << loss << "  ETA " << clock_time(rate > 0 ? double(total_ - done) / rate : 0.0)
          << "\033[K";
        return s.str();
    }

    static std::string clock_time(double seconds) {
        const long s = static_cast<long>(seconds + 0.5);
        std::ostringstream out;
        out << s / 60 << ':' << std::setw(2) << std::setfill('0') << s % 60;
        return out.str();
    }

    std::ostream& out_;
    std::string label_;
    long total_;
    bool enabled_;
    bool drawn_ = false;
    Clock::time_point start_, last_draw_;
};

inline bool is_terminal(const std::ostream& stream) {
    const std::streambuf* buf = stream.rdbuf();
    if (buf == std::cerr.rdbuf() || buf == std::clog.rdbuf()) return ::isatty(STDERR_FILENO) != 0;
    if (buf == std::cout.rdbuf()) return ::isatty(STDOUT_FILENO) != 0;
    return false;
}

}  // namespace vaelet
