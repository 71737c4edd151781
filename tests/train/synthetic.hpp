// Tiny labelled image data for the training tests: 4 classes of 8×8 stripes and blocks, with pixel noise.
#pragma once

#include "vaelet/core/random.hpp"
#include "vaelet/data/dataset.hpp"

#include <cstdint>
#include <vector>

namespace vaelet::testing {

inline Dataset synthetic_images(Index n, std::uint64_t seed) {
    Rng rng(seed);
    const Index side = 8;
    std::vector<std::uint8_t> pixels, labels;
    for (Index i = 0; i < n; ++i) {
        const int label = int(i % 4);
        for (Index r = 0; r < side; ++r)
            for (Index c = 0; c < side; ++c) {
                const bool on = label == 0 ? r < 4 : label == 1 ? c < 4 : label == 2 ? (r + c) % 2 == 0 : (r >= 2 && r < 6 && c >= 2 && c < 6);
                const double v = (on ? 220.0 : 25.0) + 20.0 * rng.normal();
                pixels.push_back(std::uint8_t(v < 0 ? 0 : v > 255 ? 255 : v));
            }
        labels.push_back(std::uint8_t(label));
    }
    return Dataset(std::move(pixels), side, side, std::move(labels));
}

}  // namespace vaelet::testing
