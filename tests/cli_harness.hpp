// tests/cli_harness.hpp — what every CLI test program needs, whichever example program it runs: start the program
// (waiting, or in the background to signal it), a temp dir, and read back what the program wrote (files, CSV, the
// one error message). tests/cli/harness.hpp and tests/cli_tabular/harness.hpp add the program's path and data.
//
//   cli_harness::Result r = cli_harness::run_program(VAELET_MNIST, {"--help"});
//   CHECK(r.code == 0);
#pragma once

#include <doctest/doctest.h>

#include "temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace cli_harness {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

inline Args concat(Args a, const Args& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// vaelet::testing::TempDir with fs::path results, so that paths chain: dir / "run" / "metrics.csv".
class TempDir {
public:
    const fs::path& path() const { return dir_.path; }
    fs::path operator/(const std::string& name) const { return dir_.path / name; }

private:
    vaelet::testing::TempDir dir_;
};

/// How a run of the program ended: its exit code (128 + N when signal N killed it) and its stdout and stderr.
struct Result {
    int code = -1;
    std::string output;
};

/// `program` started in the background with `args`, its stdout and stderr going to one pipe.
class Process {
public:
    Process(const fs::path& program, const Args& args) {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            ::dup2(fds[1], STDERR_FILENO);
            std::vector<char*> argv{const_cast<char*>(program.c_str())};
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(program.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = fds[0];
    }
    ~Process() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    void signal(int sig) const { REQUIRE(::kill(pid_, sig) == 0); }

    /// True while the program has not exited (it may be a zombie that nobody has waited for yet).
    bool running() const {
        siginfo_t info{};
        return ::waitid(P_PID, id_t(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
    }

    /// Reads all the output, then waits for the program to end.
    Result wait() {
        Result r;
        char buf[4096];
        for (ssize_t n; (n = ::read(out_, buf, sizeof buf)) != 0;) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) break;
            r.output.append(buf, std::size_t(n));
        }
        ::close(out_);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        r.code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
        return r;
    }

private:
    pid_t pid_ = -1;
    int out_ = -1;
};

/// Runs `program` with `args` and waits for it.
inline Result run_program(const fs::path& program, const Args& args) {
    Process p(program, args);
    return p.wait();
}

/// Waits (up to two minutes) until `path` exists while `p` runs; false if `p` ended first or time ran out.
inline bool wait_for_file(const fs::path& path, const Process& p) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
    while (!fs::exists(path)) {
        if (!p.running() || std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

inline std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline void write_file(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

inline std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, sep);) parts.push_back(part);
    return parts;
}

/// The lines of a CSV file (no quoted fields), each split at commas.
inline std::vector<std::vector<std::string>> read_csv(const fs::path& path) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& line : split(read_file(path), '\n')) rows.push_back(split(line, ','));
    return rows;
}

/// `cell` as a number, failing the test if it is not one or not finite.
inline double finite_number(const std::string& cell) {
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    INFO("cell '" << cell << "'");
    CHECK((end != cell.c_str() && *end == '\0'));
    CHECK(std::isfinite(v));
    return v;
}

/// metrics.csv without the two timing columns (seconds, images_per_s), which differ between identical runs.
inline std::string metrics_without_timing(const fs::path& path) {
    const auto rows = read_csv(path);
    std::string text;
    for (const auto& row : rows) {
        for (std::size_t c = 0; c < row.size(); ++c)
            if (c >= rows[0].size() || (rows[0][c] != "seconds" && rows[0][c] != "images_per_s")) text += row[c] + ",";
        text += "\n";
    }
    return text;
}

/// Checks a run's metrics.csv after `epochs` epochs: the header, then one row of finite numbers an epoch. Returns
/// the rows, header first, for the checks that only one program's runs pass.
inline std::vector<std::vector<std::string>> check_metrics(const fs::path& path, int epochs) {
    const auto metrics = read_csv(path);
    REQUIRE(metrics.size() == std::size_t(epochs + 1));
    CHECK(read_file(path).rfind(
              "epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds,images_per_s\n", 0) == 0);
    for (int epoch = 1; epoch <= epochs; ++epoch) {
        const auto& row = metrics[std::size_t(epoch)];
        REQUIRE(row.size() == 9);
        CHECK(finite_number(row[0]) == epoch);
        for (std::size_t i = 1; i < row.size(); ++i) finite_number(row[i]);
    }
    return metrics;
}

/// Checks that the run in `out` wrote the very checkpoint of the run in `reference`, and its metrics but for timing.
inline void check_same_run(const fs::path& out, const fs::path& reference) {
    CHECK(read_file(out / "checkpoint.safetensors") == read_file(reference / "checkpoint.safetensors"));
    CHECK(metrics_without_timing(out / "metrics.csv") == metrics_without_timing(reference / "metrics.csv"));
}

/// Every file under `dir` (relative name → bytes), to show that a failed command changed nothing.
inline std::map<std::string, std::string> snapshot(const fs::path& dir) {
    std::map<std::string, std::string> files;
    if (!fs::exists(dir)) return files;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.is_regular_file()) files[fs::relative(entry.path(), dir).string()] = read_file(entry.path());
    return files;
}

/// Names of the `*.tmp` files under `dir` (an atomic write that was left half done).
inline std::vector<std::string> tmp_files(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.path().extension() == ".tmp") found.push_back(entry.path().string());
    return found;
}

/// Checks that a failed command exited with `code` and printed one error message containing every one of `words`:
/// a line "<program>: error: ..." for the program's own errors (code 1), CLI11's one line (and its "Run with
/// --help" hint) for a parse error. With `alone`, that message is all the output.
inline void check_one_message(const std::string& program, const Result& r, int code,
                              const std::vector<std::string>& words, bool alone) {
    INFO("output:\n" << r.output);
    CHECK(r.code == code);
    std::vector<std::string> lines, errors;
    for (const auto& line : split(r.output, '\n')) {
        if (line.empty() || line.rfind("Run with --help", 0) == 0) continue;
        lines.push_back(line);
        if (code != 1 || line.rfind(program + ": error: ", 0) == 0) errors.push_back(line);
    }
    REQUIRE(errors.size() == 1);
    if (alone) CHECK(lines.size() == 1);
    for (const auto& w : words) CHECK_MESSAGE(errors[0].find(w) != std::string::npos, "missing: " << w);
}

}  // namespace cli_harness
