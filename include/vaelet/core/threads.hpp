/// \file
/// vaelet/core/threads.hpp — how many threads vaelet's matrix products use: one, unless you ask for more.
///
///     vaelet::set_threads(2);                    // two threads for Eigen's matrix products (needs OpenMP, below)
///     vaelet::set_threads(0);                    // one per core
///     vaelet::set_threads(0, ranks_on_node);     // under MPI: the cores shared out among the ranks on this machine
///
/// Why one by default: vaelet::vaelet does not bring OpenMP, so Eigen runs on the calling thread and nothing spawns
/// threads behind your back. On the models vaelet trains, a second thread gains little on a quiet machine and loses
/// 3–4× on a busy one, where OpenMP's spinning threads wait for each other (docs/performance.md). To use more threads,
/// link the CMake target vaelet::openmp instead of vaelet::vaelet (or compile and link with -fopenmp) and call
/// set_threads. With OpenMP, Eigen's own default is OMP_NUM_THREADS or one per core, until set_threads is called.
///
/// Under MPI each process sets its own count: give each rank its share of the machine's cores (the second argument),
/// or the ranks oversubscribe the cores and every one of them slows down.
///
/// On a machine others share, no fixed count is right: ThreadChooser (below) times the steps of a loop and runs each
/// on one thread or on all, whichever is faster now; Trainer::choose_threads uses it.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <thread>

namespace vaelet {

/// True when this program was built with OpenMP, so that set_threads can give Eigen more than one thread.
inline constexpr bool threads_available =
#if defined(_OPENMP)
    true;
#else
    false;
#endif

/// Sets the number of threads for matrix products in this process: `threads` ≥ 1, or 0 for one per core, the cores
/// being shared out among `processes_on_this_machine` processes (MPI ranks on one node). Returns the count set.
/// Without OpenMP, 0 gives 1, and asking for more than one thread is a config_error that says how to get OpenMP.
inline int set_threads(int threads, int processes_on_this_machine = 1) {
    if (threads < 0)
        throw config_error("set_threads: the thread count must be 0 (one per core) or more, got " +
                           std::to_string(threads));
    if (processes_on_this_machine < 1)
        throw config_error("set_threads: processes_on_this_machine must be at least 1, got " +
                           std::to_string(processes_on_this_machine));
    const int cores = std::max(1, int(std::thread::hardware_concurrency()));
    int n = threads > 0 ? threads : std::max(1, cores / processes_on_this_machine);
    if (!threads_available) {
        if (threads > 1)
            throw config_error("set_threads(" + std::to_string(threads) + "): this program was built without OpenMP, "
                               "so matrix products run on one thread; link vaelet::openmp (CMake) or compile and "
                               "link with -fopenmp");
        n = 1;
    }
    Eigen::setNbThreads(n);
    return n;
}

/// The number of threads matrix products use now.
inline int threads() { return Eigen::nbThreads(); }

/// Chooses, step by step, between one thread and `most` for the matrix products of a loop of similar steps (training
/// steps), by timing them: on a quiet machine `most` threads usually win; when other processes keep the cores busy,
/// OpenMP's threads wait for each other and one thread can be ten times faster (docs/performance.md, "Threads on a
/// busy machine"). Report each step's wall time to step_done(), which sets the count for the next step.
///
///     vaelet::ThreadChooser chooser(0);            // one thread or one per core
///     for (…) { auto t0 = clock::now(); step(); chooser.step_done(seconds_since(t0), batch_rows); }
///
/// How: it runs the current count for a stretch of steps, then tries the other for a few (a try stops after one
/// step that takes twice the current's time per example), and keeps the faster. The first try comes after two
/// steps; then a stretch starts at 16 steps and, each time the try loses, at least doubles, and grows until the try
/// cost under 3% of it, up to 1024 steps: a count that keeps winning costs 1–3% in tries. A step
/// that takes three times what the other count took at its last try starts a try at once: a neighbour that starts
/// is noticed within a step, one that stops within a stretch.
///
/// Thread counts round floating-point sums differently (Eigen blocks a product differently for one thread), so a run
/// under a chooser is reproducible to rounding, not bit for bit; fix the count (set_threads) for bit-identical runs.
class ThreadChooser {
public:
    /// Chooses between 1 and `most` threads (0: one per core). With `most` 1, or without OpenMP, there is nothing
    /// to choose and it keeps one thread. Sets the count it starts with, `most`.
    explicit ThreadChooser(int most = 0) {
        if (most < 0)
            throw config_error("ThreadChooser: the most threads must be 0 (one per core) or more, got " +
                               std::to_string(most));
        most_ = threads_available ? (most > 0 ? most : std::max(1, int(std::thread::hardware_concurrency()))) : 1;
        set(most_);
    }

    /// True when there is a choice to make (more than one thread available).
    bool choosing() const { return most_ > 1; }
    /// The count the next step runs with.
    int threads() const { return count_; }

    /// Records that the step just run took `seconds` for `examples` examples (> 0; the last, smaller batch of an
    /// epoch counts by its examples), and sets the count for the next step.
    void step_done(double seconds, double examples) {
        if (!choosing() || !(seconds > 0) || !(examples > 0) || !std::isfinite(seconds)) return;
        if (warmup_ > 0) {  // the loop's first step pays for first touches and for starting the threads
            --warmup_;
            return;
        }
        mean_[slot(count_)].add(seconds, examples);
        if (trying_)
            try_step(seconds / examples);
        else
            stretch_step(seconds, examples);
    }

private:
    struct Mean {  // seconds per example over the steps added
        double seconds = 0, examples = 0;
        void add(double s, double n) {
            seconds += s;
            examples += n;
        }
        double value() const { return examples > 0 ? seconds / examples : 0; }
    };
    static constexpr int first_stretch = 16, longest_stretch = 1024, try_steps = 4;
    static constexpr double try_budget = 0.03;  // the share of time a losing try may cost

    // A step of the current count's stretch: at its end, or when this step is far slower than the other count
    // was, start a try of the other.
    void stretch_step(double seconds, double examples) {
        Mean& mine = mean_[slot(count_)];
        const double other_before = last_run_[slot(other())];
        const bool far_slower = other_before > 0 && seconds / examples > 3 * other_before;
        if (++run_ < stretch_ && !far_slower) return;
        run_ = 0;
        if (far_slower) {  // what the try must beat is this step, not the stretch before the neighbour came
            mine = Mean{};
            mine.add(seconds, examples);
        }
        trying_ = true;
        mean_[slot(other())] = Mean{};
        set(other());
    }

    // A step of a try: after try_steps steps, or one step twice as slow, keep the faster count.
    void try_step(double per_example) {
        const Mean& mine = mean_[slot(count_)];
        const double current = mean_[slot(other())].value();
        const bool lost_already = per_example > 2 * current;
        ++tried_;
        if (!lost_already && tried_ < try_steps) return;
        const double ratio = mine.value() / current;
        if (!lost_already && ratio < 0.95) {  // the try won: keep it, and look again soon
            last_run_[slot(other())] = current;
            stretch_ = first_stretch;
        } else {  // lost: the next try waits until this one's cost is under 3% of the stretch's time, or longer
            last_run_[slot(count_)] = mine.value();
            const double steps_lost = double(tried_) * (ratio - 1);
            stretch_ = int(std::min(double(longest_stretch), std::max(2.0 * stretch_, steps_lost / try_budget)));
            set(other());
        }
        tried_ = 0;
        trying_ = false;
        mean_[slot(count_)] = Mean{};
    }

    int other() const { return count_ == 1 ? most_ : 1; }
    static int slot(int count) { return count == 1 ? 0 : 1; }
    void set(int n) {
        count_ = n;
        Eigen::setNbThreads(n);
    }

    int most_ = 1, count_ = 1;
    int warmup_ = 1, run_ = 0, tried_ = 0;
    int stretch_ = 1;  // the first try comes early: on a busy machine, each step on `most` threads may cost ten
    bool trying_ = false;
    Mean mean_[2];               // per count: the current stretch's, or the try's
    double last_run_[2] = {0, 0};  // per count: seconds per example when it last ran before a switch
};

}  // namespace vaelet
