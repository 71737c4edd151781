// tests/cli/harness.hpp — what the vaelet-mnist tests need: run the program (waiting, or in the background to
// signal it), write tiny MNIST-style IDX data, and read back what the program wrote (CSV, PNG sizes, bytes).
//
//   cli::TempDir dir;  cli::write_digits(dir / "data", 300, 100);
//   cli::Result r = cli::run({"train", "--data", (dir / "data").string(), "--out", (dir / "run").string()});
//   CHECK(r.code == 0);  CHECK(cli::png_size(dir / "run" / "loss.png") == cli::Size{640, 400});
#pragma once

#include <doctest/doctest.h>

#include "vaelet/data/idx.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#ifndef VAELET_MNIST
#error "compile with -DVAELET_MNIST=\"path/to/vaelet-mnist\" (tests/cli/CMakeLists.txt does)"
#endif

namespace cli {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

/// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
public:
    TempDir() {
        static int counter = 0;
        path_ = fs::temp_directory_path() /
                ("vaelet_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

private:
    fs::path path_;
};

/// How a run of the program ended: its exit code (128 + N when signal N killed it) and its stdout and stderr.
struct Result {
    int code = -1;
    std::string output;
};

/// vaelet-mnist started in the background with `args`, its stdout and stderr going to one pipe.
class Process {
public:
    explicit Process(const Args& args) {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            ::dup2(fds[1], STDERR_FILENO);
            std::vector<char*> argv{const_cast<char*>(VAELET_MNIST)};
            for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(VAELET_MNIST, argv.data());
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

/// Runs vaelet-mnist with `args` and waits for it.
inline Result run(const Args& args) {
    Process p(args);
    return p.wait();
}

/// Small and fast training settings; the same seed and one thread, so runs are bit-identical.
inline Args small_model() {
    return {"--hidden", "32", "--latent", "4", "--batch", "32", "--threads", "1", "--seed", "7"};
}

inline Args concat(Args a, const Args& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// `train` images then `test` images of rows × cols with labels 0..9, in the four MNIST files in `dir`. Label d
/// draws a horizontal bar at row 2d+3 and a vertical one at column 2d+3, shifted by image, over faint noise.
inline void write_digits(const fs::path& dir, int train, int test, int rows = 28, int cols = 28) {
    fs::create_directories(dir);
    std::uint32_t noise = 12345;
    const auto split = [&](int count) {
        std::vector<std::uint8_t> pixels(std::size_t(count) * std::size_t(rows * cols)), labels;
        for (int i = 0; i < count; ++i) {
            const int d = i % 10, shift = (i / 10) % 3;
            std::uint8_t* img = pixels.data() + std::size_t(i) * std::size_t(rows * cols);
            for (int r = 0; r < rows; ++r)
                for (int c = 0; c < cols; ++c) {
                    noise = noise * 1664525u + 1013904223u;
                    const bool bar = r == (2 * d + 3 + shift) % rows || c == (2 * d + 3 + shift) % cols;
                    img[r * cols + c] = bar ? std::uint8_t(200 + (noise >> 27)) : std::uint8_t(noise >> 29);
                }
            labels.push_back(std::uint8_t(d));
        }
        return vaelet::Dataset(std::move(pixels), rows, cols, std::move(labels));
    };
    const vaelet::Dataset tr = split(train), te = split(test);
    vaelet::write_idx_images(dir / "train-images-idx3-ubyte", tr);
    vaelet::write_idx_labels(dir / "train-labels-idx1-ubyte", tr.labels());
    vaelet::write_idx_images(dir / "t10k-images-idx3-ubyte", te);
    vaelet::write_idx_labels(dir / "t10k-labels-idx1-ubyte", te.labels());
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

/// The lines of a CSV file, each split at commas.
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
    std::string text;
    for (auto row : read_csv(path)) {
        if (row.size() >= 2) row.resize(row.size() - 2);
        for (const auto& cell : row) text += cell + ",";
        text += "\n";
    }
    return text;
}

struct Size {
    unsigned width = 0, height = 0;
    bool operator==(const Size& o) const { return width == o.width && height == o.height; }
};
inline std::ostream& operator<<(std::ostream& os, const Size& s) { return os << s.width << "x" << s.height; }

/// A PNG file's width and height from its IHDR chunk, after checking the signature; {0, 0} when it is no PNG.
inline Size png_size(const fs::path& path) {
    const std::string b = read_file(path);
    const auto be32 = [&](std::size_t at) {
        return unsigned(std::uint8_t(b[at])) << 24 | unsigned(std::uint8_t(b[at + 1])) << 16 |
               unsigned(std::uint8_t(b[at + 2])) << 8 | unsigned(std::uint8_t(b[at + 3]));
    };
    if (b.size() < 33 || b.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0 || b.compare(12, 4, "IHDR") != 0) return {};
    return {be32(16), be32(20)};
}

/// The size of make_grid's picture of n tiles of 28×28, `columns` per row, with its 2-pixel padding.
inline Size grid_size(unsigned n, unsigned columns, unsigned tile = 28) {
    const unsigned cols = std::min(columns, n), rows = (n + cols - 1) / cols;
    return {cols * (tile + 2) + 2, rows * (tile + 2) + 2};
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

/// A tiny data set (300 training and 100 test images) and a run trained on it for 2 epochs, made once per process.
struct TrainedRun {
    TempDir dir;
    fs::path data = dir / "data", out = dir / "run", ckpt = out / "checkpoint.safetensors";

    TrainedRun() {
        write_digits(data, 300, 100);
        const Result r = run(concat({"train", "--data", data.string(), "--out", out.string(), "--epochs", "2"}, small_model()));
        INFO(r.output);
        REQUIRE(r.code == 0);
    }
};

inline const TrainedRun& trained_run() {
    static const TrainedRun t;
    return t;
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

/// Checks that a failed command exited with `code` and gave one error message containing every one of `words`:
/// a line "vaelet-mnist: error: ..." for the program's own errors (code 1), CLI11's one line (and its "Run with
/// --help" hint) for a parse error. With `alone`, that message is all the output.
inline void check_one_message(const Result& r, int code, const std::vector<std::string>& words, bool alone = true) {
    INFO("output:\n" << r.output);
    CHECK(r.code == code);
    std::vector<std::string> lines, errors;
    for (const auto& line : split(r.output, '\n')) {
        if (line.empty() || line.rfind("Run with --help", 0) == 0) continue;
        lines.push_back(line);
        if (code != 1 || line.rfind("vaelet-mnist: error: ", 0) == 0) errors.push_back(line);
    }
    REQUIRE(errors.size() == 1);
    if (alone) CHECK(lines.size() == 1);
    for (const auto& w : words) CHECK_MESSAGE(errors[0].find(w) != std::string::npos, "missing: " << w);
}

}  // namespace cli
