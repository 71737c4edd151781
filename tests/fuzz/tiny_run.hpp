// tests/fuzz/tiny_run.hpp — the tiny training run whose checkpoints seed fuzz_checkpoint (make_corpus writes
// them) and whose Trainer the target loads them into; both must use the same sizes, so they live here.
//
//   vaelet::Rng rng(1);
//   vaelet::Vae<float> vae(vaelet::fuzz::tiny_config().model.value(), rng);
//   vaelet::Trainer<float> trainer(vae, vaelet::fuzz::tiny_data(), vaelet::fuzz::tiny_config().train);
#pragma once

#include "vaelet/train/checkpoint.hpp"

#include <cstdint>
#include <vector>

namespace vaelet::fuzz {

/// A 4-3-2 VAE on 2×2 images, batches of 2.
inline RunConfig tiny_config() {
    RunConfig c;
    c.model->input = 4;
    c.model->hidden = {3};
    c.model->latent = 2;
    c.train.epochs = 2;
    c.train.batch = 2;
    return c;
}

/// Three labelled 2×2 images: three examples, so an epoch's shuffle draws rng.below(3), which is not a power
/// of two (the case where a broken random state could loop).
inline const Dataset& tiny_data() {
    static const Dataset data(std::vector<std::uint8_t>{0, 64, 128, 255, 255, 0, 0, 255, 10, 20, 30, 40}, 2, 2,
                              std::vector<std::uint8_t>{0, 1, 2});
    return data;
}

}  // namespace vaelet::fuzz
