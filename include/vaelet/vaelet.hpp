/// \file
/// vaelet/vaelet.hpp — everything in one include. The pieces that need an optional dependency come in when the
/// build found it: safetensors, model files and checkpoints with nlohmann_json (VAELET_HAVE_JSON), PNG output with stb
/// (VAELET_HAVE_STB); gzip IDX files with zlib (VAELET_HAVE_ZLIB) inside data/idx.hpp; MPI data-parallel training
/// with the vaelet::mpi target (VAELET_HAVE_MPI).
///
///     #include <vaelet/vaelet.hpp>
///     vaelet::Rng rng(1);
///     vaelet::Vae<float> vae(vaelet::VaeConfig{}, rng);
#pragma once

#include "vaelet/version.hpp"

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/conv.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/gradcheck.hpp"
#include "vaelet/core/matrix.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/core/tape.hpp"
#include "vaelet/core/threads.hpp"

#include "vaelet/nn/activation.hpp"
#include "vaelet/nn/build.hpp"
#include "vaelet/nn/bypass.hpp"
#include "vaelet/nn/conv.hpp"
#include "vaelet/nn/function.hpp"
#include "vaelet/nn/linear.hpp"
#include "vaelet/nn/mlp.hpp"
#include "vaelet/nn/module.hpp"
#include "vaelet/nn/parameter.hpp"
#include "vaelet/nn/sequential.hpp"
#include "vaelet/nn/shape.hpp"

#include "vaelet/optim/adam.hpp"
#include "vaelet/optim/clip.hpp"
#include "vaelet/optim/schedule.hpp"
#include "vaelet/optim/sgd.hpp"

#include "vaelet/vae/architecture.hpp"
#include "vaelet/vae/conv_vae.hpp"
#include "vaelet/vae/decoder.hpp"
#include "vaelet/vae/density.hpp"
#include "vaelet/vae/elbo.hpp"
#include "vaelet/vae/encoder.hpp"
#include "vaelet/vae/flow.hpp"
#include "vaelet/vae/iwae.hpp"
#include "vaelet/vae/likelihood.hpp"
#include "vaelet/vae/model.hpp"
#include "vaelet/vae/prior.hpp"
#include "vaelet/vae/priors.hpp"
#include "vaelet/vae/sampler.hpp"
#include "vaelet/vae/score.hpp"
#include "vaelet/vae/tcvae.hpp"
#include "vaelet/vae/two_layer_prior.hpp"
#include "vaelet/vae/vamp_prior.hpp"

#include "vaelet/data/batcher.hpp"
#include "vaelet/data/csv.hpp"
#include "vaelet/data/dataset.hpp"
#include "vaelet/data/idx.hpp"
#include "vaelet/data/tabular.hpp"

#include "vaelet/io/latent_file.hpp"
#if defined(VAELET_HAVE_JSON)
#include "vaelet/io/safetensors.hpp"
#include "vaelet/io/safetensors_parameters.hpp"
#include "vaelet/train/checkpoint.hpp"
#include "vaelet/train/model_file.hpp"
#endif
#if defined(VAELET_HAVE_STB)
#include "vaelet/io/image.hpp"
#include "vaelet/io/plot.hpp"
#endif

#include "vaelet/parallel/communicator.hpp"
#if defined(VAELET_HAVE_MPI)
#include "vaelet/parallel/mpi.hpp"
#endif

#include "vaelet/stats/cluster_scores.hpp"
#include "vaelet/stats/image_quality.hpp"
#include "vaelet/stats/kmeans.hpp"
#include "vaelet/stats/pca.hpp"
#include "vaelet/stats/roc.hpp"

#include "vaelet/train/metrics.hpp"
#include "vaelet/train/nan_guard.hpp"
#include "vaelet/train/progress.hpp"
#include "vaelet/train/trainer.hpp"
