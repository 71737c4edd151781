// The subcommands of vaelet-mnist; main.cpp parses flags into these structs and calls one of the run_* functions.
#pragma once

#include "../common/train_flags.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace mnist {

/// The common flags (examples/common/train_flags.hpp) with their defaults as PyTorch's VAE example has them
/// (10 epochs, batch 128, 784-400-20), plus the image data and the choice of the MLP or the conv VAE.
struct TrainArgs : examples::TrainFlags {
    std::string data;
    std::string arch = "mlp";                 // mlp | conv (vaelet/vae/conv_vae.hpp)
    std::vector<long> conv_channels{32, 64};  // --arch conv: output channels of conv1, conv2, …
    bool conv_channels_given = false;         // --conv-channels was on the command line
    bool hidden_given = false;                // --hidden was on the command line (conv: fc1's width, default 256)
    std::string likelihood = "bernoulli";
    double sigma = 1.0;
    bool conditional = false;
    std::vector<int> exclude_digits;
    long limit = 0;  // use only the first N training images (0: all)
    bool distributed = false;  // train data-parallel in an MPI job (mpirun -np P vaelet-mnist train --distributed)
};

struct ToolArgs {
    std::string ckpt, arch, data, out, in, split = "test", digit = "all";
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
int run_export(const ToolArgs& args);


}  // namespace mnist
