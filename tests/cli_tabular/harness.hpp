// tests/cli_tabular/harness.hpp — what the vaelet-tabular tests need on top of tests/cli_harness.hpp: run
// vaelet-tabular, and write a tiny customer table (two well-separated groups and a few outliers).
//
//   tab::TempDir dir;  tab::write_customers(dir / "c.csv");
//   tab::Result r = tab::run({"train", "--csv", (dir / "c.csv").string(), "--out", (dir / "run").string()});
//   CHECK(r.code == 0);  auto rows = tab::read_csv(dir / "run" / "metrics.csv");
#pragma once

#include <doctest/doctest.h>

#include "../cli_harness.hpp"

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#ifndef VAELET_TABULAR
#error "compile with -DVAELET_TABULAR=\"path/to/vaelet-tabular\" (tests/cli_tabular/CMakeLists.txt does)"
#endif

namespace tab {

using namespace cli_harness;

/// Runs vaelet-tabular with `args` and waits for it.
inline Result run(const Args& args) {
    return run_program(VAELET_TABULAR, args);
}

/// Small and fast training settings; one thread and a fixed seed, so runs are bit-identical.
inline Args small_model() {
    return {"--hidden", "16", "--latent", "2", "--batch", "32", "--threads", "1", "--seed", "7", "--ignore", "group,flag"};
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

/// check_one_message for vaelet-tabular, whose own errors are lines "vaelet-tabular: error: ...".
inline void check_one_message(const Result& r, int code, const std::vector<std::string>& words, bool alone = true) {
    cli_harness::check_one_message("vaelet-tabular", r, code, words, alone);
}

}  // namespace tab
