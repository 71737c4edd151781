// The subcommands of vaelet-mnist; main.cpp parses flags into these structs and calls one of the run_* functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mnist {

struct TrainArgs {
    std::string data, out;
    int epochs = 10;
    bool epochs_given = false;  // --epochs was on the command line (with --resume it replaces the stored total)
    long batch = 128;
    long latent = 20;
    std::vector<long> hidden{400};
    double lr = 1e-3, beta = 1.0, warmup_epochs = 0.0, free_bits = 0.0, clip_norm = 0.0;
    std::string likelihood = "bernoulli";
    double sigma = 1.0;
    std::uint64_t seed = 1;
    int threads = 0;
    bool resume = false, skip_nonfinite = false, conditional = false;
    std::vector<int> exclude_digits;
    long limit = 0;  // use only the first N training images (0: all)
};

struct ToolArgs {
    std::string ckpt, data, out, in, split = "test", digit = "all";
    long n = 64, k = 5000, iwae_k = 50, limit = 0, grid = 20, steps = 10;
    std::uint64_t seed = 1;
    int threads = 0;
};

int run_train(const TrainArgs& args);
int run_sample(const ToolArgs& args);
int run_reconstruct(const ToolArgs& args);
int run_interpolate(const ToolArgs& args);
int run_manifold(const ToolArgs& args);
int run_encode(const ToolArgs& args);
int run_score(const ToolArgs& args);
int run_eval(const ToolArgs& args);
int run_compress(const ToolArgs& args);
int run_decompress(const ToolArgs& args);
int run_generate(const ToolArgs& args);
int run_classify(const ToolArgs& args);
int run_anomaly(const ToolArgs& args);


}  // namespace mnist
