// The model of a tool's --ckpt, for tools.cpp and uses.cpp.
#pragma once

#include "commands.hpp"

#include <vaelet/train/checkpoint.hpp>

#include <memory>

namespace mnist {

/// The model of --ckpt: a checkpoint of `train`, a model file (vaelet::save_model) or a PyTorch state_dict saved
/// as safetensors (its MLP read off the tensors, or from --arch "hidden=… latent=…"), and the run's settings the
/// pictures need: image shape (a checkpoint's, else square) and seed.
vaelet::TrainedModel<float> load_model(const ToolArgs& args);

}  // namespace mnist
