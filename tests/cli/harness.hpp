// tests/cli/harness.hpp — what the vaelet-mnist tests need on top of tests/cli_harness.hpp: run vaelet-mnist
// (waiting, or in the background to signal it), write tiny MNIST-style IDX data, and read PNG sizes.
//
//   cli::TempDir dir;  cli::write_digits(dir / "data", 300, 100);
//   cli::Result r = cli::run({"train", "--data", (dir / "data").string(), "--out", (dir / "run").string()});
//   CHECK(r.code == 0);  CHECK(cli::png_size(dir / "run" / "loss.png") == cli::Size{640, 400});
#pragma once

#include <doctest/doctest.h>

#include "../cli_harness.hpp"
#include "vaelet/data/idx.hpp"

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#ifndef VAELET_MNIST
#error "compile with -DVAELET_MNIST=\"path/to/vaelet-mnist\" (tests/cli/CMakeLists.txt does)"
#endif

namespace cli {

using namespace cli_harness;

/// Runs vaelet-mnist with `args` and waits for it.
inline Result run(const Args& args) {
    return run_program(VAELET_MNIST, args);
}

/// vaelet-mnist started in the background with `args`, to signal it.
inline Process spawn(const Args& args) {
    return Process(VAELET_MNIST, args);
}

/// Small and fast training settings; the same seed and one thread, so runs are bit-identical.
inline Args small_model() {
    return {"--hidden", "32", "--latent", "4", "--batch", "32", "--threads", "1", "--seed", "7"};
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

/// Trains small_model() with `flags` for one epoch in `resumed`, resumes it to two epochs, and checks that it is the
/// run `straight` (two epochs in one go, same flags), byte for byte.
inline void check_resumes_into(const fs::path& data, const fs::path& resumed, const Args& flags, const fs::path& straight) {
    Result r = run(concat(concat({"train", "--data", data.string(), "--out", resumed.string(), "--epochs", "1"}, small_model()),
                          flags));
    REQUIRE(r.code == 0);
    r = run({"train", "--data", data.string(), "--out", resumed.string(), "--resume", "--epochs", "2", "--threads", "1"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    check_same_run(resumed, straight);
}

/// Runs `command` on the model file `ckpt` with one thread; the test fails (showing the output) unless it exits 0.
inline Result run_tool(const std::string& command, const fs::path& ckpt, const Args& args) {
    const Result r = run(concat({command, "--ckpt", ckpt.string(), "--threads", "1"}, args));
    INFO(command << " output:\n" << r.output);
    REQUIRE(r.code == 0);
    return r;
}

/// check_one_message for vaelet-mnist, whose own errors are lines "vaelet-mnist: error: ...".
inline void check_one_message(const Result& r, int code, const std::vector<std::string>& words, bool alone = true) {
    cli_harness::check_one_message("vaelet-mnist", r, code, words, alone);
}

}  // namespace cli
