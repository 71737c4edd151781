// vaelet/vaelet.hpp — everything in one include.
//
//   #include <vaelet/vaelet.hpp>
//   vaelet::Rng rng(1);
//   vaelet::Vae<float> vae(vaelet::VaeConfig{}, rng);
#pragma once

#include "vaelet/version.hpp"

#include "vaelet/core/error.hpp"
#include "vaelet/core/gradcheck.hpp"
#include "vaelet/core/matrix.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/core/tape.hpp"

#include "vaelet/nn/activation.hpp"
#include "vaelet/nn/linear.hpp"
#include "vaelet/nn/mlp.hpp"
#include "vaelet/nn/parameter.hpp"

#include "vaelet/optim/adam.hpp"
#include "vaelet/optim/clip.hpp"
#include "vaelet/optim/schedule.hpp"
#include "vaelet/optim/sgd.hpp"

#include "vaelet/vae/decoder.hpp"
#include "vaelet/vae/elbo.hpp"
#include "vaelet/vae/encoder.hpp"
#include "vaelet/vae/iwae.hpp"
#include "vaelet/vae/likelihood.hpp"
#include "vaelet/vae/model.hpp"
#include "vaelet/vae/sampler.hpp"
#include "vaelet/vae/score.hpp"
