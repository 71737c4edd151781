// tests/cli_tabular/harness.hpp — what the vaelet-tabular tests need: run the program, write a tiny customer table
// (two well-separated groups and a few outliers), and read back what the program wrote.
//
//   tab::TempDir dir;  tab::write_customers(dir / "c.csv");
//   tab::Result r = tab::run({"train", "--csv", (dir / "c.csv").string(), "--out", (dir / "run").string()});
//   CHECK(r.code == 0);  auto rows = tab::read_csv(dir / "run" / "metrics.csv");
#pragma once

#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef VAELET_TABULAR
#error "compile with -DVAELET_TABULAR=\"path/to/vaelet-tabular\" (tests/cli_tabular/CMakeLists.txt does)"
#endif

namespace tab {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

/// A fresh directory under the system temp dir, removed with everything in it at scope exit.
class TempDir {
public:
    TempDir() {
        static int counter = 0;
        path_ = fs::temp_directory_path() /
                ("vaelet_cli_tabular_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
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

/// How a run of the program ended: its exit code and its stdout and stderr together.
struct Result {
    int code = -1;
    std::string output;
};

/// Runs vaelet-tabular with `args` and waits for it.
inline Result run(const Args& args) {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::dup2(fds[1], STDERR_FILENO);
        std::vector<char*> argv{const_cast<char*>(VAELET_TABULAR)};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(VAELET_TABULAR, argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    Result r;
    char buf[4096];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        r.output.append(buf, std::size_t(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1;
    return r;
}

inline Args concat(Args a, const Args& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

/// Small and fast training settings; one thread and a fixed seed, so runs are bit-identical.
inline Args small_model() {
    return {"--hidden", "16", "--latent", "2", "--batch", "32", "--threads", "1", "--seed", "7", "--ignore", "group,flag"};
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
    std::string text;
    for (auto row : read_csv(path)) {
        if (row.size() >= 2) row.resize(row.size() - 2);
        for (const auto& cell : row) text += cell + ",";
        text += "\n";
    }
    return text;
}

/// Names of the `*.tmp` files under `dir` (an atomic write that was left half done).
inline std::vector<std::string> tmp_files(const fs::path& dir) {
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(dir))
        if (entry.path().extension() == ".tmp") found.push_back(entry.path().string());
    return found;
}

/// A customer table: `rows` customers in two groups (even rows "low": spend ≈ 100, 2–4 visits, mostly in store;
/// odd rows "high": spend ≈ 500, 8–12 visits, web or app), then `outliers` rows unlike either (spend 2000,
/// no visits, channel store), flagged 1 in column `flag`. Columns: id, spend, visits, channel, group, flag.
inline void write_customers(const fs::path& path, int rows = 300, int outliers = 10) {
    std::uint32_t state = 2024;
    const auto uniform = [&] {
        state = state * 1664525u + 1013904223u;
        return double(state >> 8) / double(1u << 24);
    };
    std::string text = "id,spend,visits,channel,group,flag\n";
    char line[160];
    for (int i = 0; i < rows + outliers; ++i) {
        const bool outlier = i >= rows, high = i % 2 == 1;
        const double spend = outlier ? 2000 + 50 * uniform() : high ? 450 + 100 * uniform() : 80 + 40 * uniform();
        const int visits = outlier ? 0 : high ? 8 + int(5 * uniform()) : 2 + int(3 * uniform());
        const char* channel = outlier || (!high && uniform() < 0.8) ? "store" : uniform() < 0.5 ? "web" : "app";
        std::snprintf(line, sizeof line, "c%04d,%.2f,%d,%s,%s,%d\n", i + 1, spend, visits, channel,
                      outlier ? "odd" : high ? "high" : "low", outlier ? 1 : 0);
        text += line;
    }
    write_file(path, text);
}

/// A table and a run trained on it for 2 epochs, made once per process.
struct TrainedRun {
    TempDir dir;
    fs::path csv = dir / "customers.csv", out = dir / "run", ckpt = out / "checkpoint.safetensors";

    TrainedRun() {
        write_customers(csv);
        const Result r = run(concat({"train", "--csv", csv.string(), "--out", out.string(), "--epochs", "2"}, small_model()));
        INFO(r.output);
        REQUIRE(r.code == 0);
    }
};

inline const TrainedRun& trained_run() {
    static const TrainedRun t;
    return t;
}

/// Checks that a failed command exited with `code` and printed one error message containing every one of `words`:
/// a line "vaelet-tabular: error: ..." for the program's own errors (code 1), CLI11's one line (and its "Run with
/// --help" hint) for a parse error. With `alone`, that message is all the output.
inline void check_one_message(const Result& r, int code, const std::vector<std::string>& words, bool alone = true) {
    INFO("output:\n" << r.output);
    CHECK(r.code == code);
    std::vector<std::string> lines, errors;
    for (const auto& line : split(r.output, '\n')) {
        if (line.empty() || line.rfind("Run with --help", 0) == 0) continue;
        lines.push_back(line);
        if (code != 1 || line.rfind("vaelet-tabular: error: ", 0) == 0) errors.push_back(line);
    }
    REQUIRE(errors.size() == 1);
    if (alone) CHECK(lines.size() == 1);
    for (const auto& w : words) CHECK_MESSAGE(errors[0].find(w) != std::string::npos, "missing: " << w);
}

}  // namespace tab
