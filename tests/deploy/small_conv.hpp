// tests/deploy/small_conv.hpp — the small conv VAE that the deploy tests export and compare.
#pragma once

#include "vaelet/vae/conv_vae.hpp"

namespace vaelet::testing {

/// 2×8×12 images (not square, so height and width cannot be swapped unnoticed), convolutions of 4 and 6 channels.
inline ConvVaeConfig small_conv() {
    ConvVaeConfig c;
    c.channels = 2;
    c.height = 8;
    c.width = 12;
    c.conv_channels = {4, 6};
    c.hidden = 16;
    c.latent = 3;
    return c;
}

}  // namespace vaelet::testing
