/// \file
/// vaelet/vae/conv_vae.hpp — the standard small convolutional VAE for images (issue #14), ready made: two stride-2
/// convolutions down to 64×7×7, a 256-wide Linear layer, μ and log σ² of 20 dimensions, and the mirror image back to
/// Bernoulli logits of 1×28×28. Its parameters carry the names of bench/pytorch_conv_vae.py's ConvVAE, so weights
/// move both ways; it is a Vae like any other, so the Trainer, IWAE, scoring and model files take it unchanged.
///
///     vaelet::Rng rng(1);
///     vaelet::Vae<float> vae(vaelet::conv_vae_parts<float>(vaelet::ConvVaeConfig{}, rng));   // 1×28×28, latent 20
///     vaelet::Matrix<float> x_hat = vae.reconstruct(batch);      // batch: n × 784, one image per row, NCHW order
///
/// Layers, for ConvVaeConfig's defaults (every convolution has kernel 4, stride 2, padding 1, so halves or doubles
/// the image):
///
///     encoder  conv1 Conv2d(1,32) ReLU → 32×14×14, conv2 Conv2d(32,64) ReLU → 64×7×7, Flatten,
///              fc1 Linear(3136,256) ReLU, GaussianHead fc21/fc22 Linear(256,20) → [μ | log σ²]
///     decoder  fc3 Linear(20,256) ReLU, fc4 Linear(256,3136) ReLU, Unflatten 64×7×7,
///              deconv1 ConvTranspose2d(64,32) ReLU → 32×14×14, deconv2 ConvTranspose2d(32,1) → 1×28×28 logits
///
/// A conditional model (conditions > 0) feeds its one-hot condition past the convolutions (BypassTail) into fc1,
/// whose input grows to 3136 + conditions, and with z into fc3 (20 + conditions inputs).
/// The parameter names are these layer names under "encoder."/"decoder." (encoder.conv1.weight, …,
/// decoder.deconv2.bias); without the prefixes they are the state_dict names of PyTorch's ConvVAE, and the names a
/// model file holds, as for the MLP and PyTorch's examples/vae.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/bypass.hpp"
#include "vaelet/nn/conv.hpp"
#include "vaelet/nn/shape.hpp"
#include "vaelet/vae/model.hpp"

#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// The sizes of the conv VAE; the defaults are issue #14's model for 28×28 grey images.
struct ConvVaeConfig {
    Index channels = 1;  ///< the image: channels × height × width, one example per row in NCHW order
    Index height = 28;   ///< image height in pixels, divisible by 2^(number of convolutions)
    Index width = 28;    ///< image width in pixels, divisible by 2^(number of convolutions)
    std::vector<Index> conv_channels{32, 64};  ///< output channels of conv1, conv2, …; each halves height and width
    Index hidden = 256;                        ///< width of fc1 (and fc3)
    Index latent = 20;                         ///< dimensions of z
    LikelihoodKind likelihood = LikelihoodKind::bernoulli;  ///< p(x|z) over the pixels
    double sigma = 1.0;    ///< σ of a fixed Gaussian likelihood, or the start of a learned one
    Index conditions = 0;  ///< 0, or a conditional VAE with a one-hot condition of this many classes
    std::string prior = "standard";  ///< "standard" N(0, I), "vamp" (vae/vamp_prior.hpp), "two_layer" (vae/two_layer_prior.hpp)
    Index pseudo_inputs = 500;       ///< the VampPrior's K
    Index latent2 = 10;              ///< the two-layer prior's z₂ dimensions
    std::vector<Index> hidden2{64};  ///< the two-layer prior's MLP widths
    Index flow_steps = 0;            ///< 0, or a posterior flow of this many IAF steps (vae/flow.hpp)
    Index flow_hidden = 128;         ///< the hidden units of each IAF step's MADE

    /// Calls f(name, member) for every field, in order: the one list that a program writing the config to a file
    /// (vaelet-mnist's checkpoints) and reading it back goes through, as VaeConfig::fields.
    template <class Self, class F>
    static void fields(Self& c, F&& f) {
        f("channels", c.channels);
        f("height", c.height);
        f("width", c.width);
        f("conv_channels", c.conv_channels);
        f("hidden", c.hidden);
        f("latent", c.latent);
        f("likelihood", c.likelihood);
        f("sigma", c.sigma);
        f("conditions", c.conditions);
        f("prior", c.prior, false);  // added after the first checkpoints, which had the standard prior
        f("pseudo_inputs", c.pseudo_inputs, false);
        f("latent2", c.latent2, false);
        f("hidden2", c.hidden2, false);
        f("flow_steps", c.flow_steps, false);
        f("flow_hidden", c.flow_hidden, false);
    }

    /// Features per example, channels·height·width.
    Index input() const { return channels * height * width; }
    /// The height after the last convolution: height divided by 2 per convolution.
    Index code_height() const { return height >> conv_channels.size(); }
    /// The width after the last convolution: width divided by 2 per convolution.
    Index code_width() const { return width >> conv_channels.size(); }
    /// The features the encoder flattens: the last convolution's channels × code_height × code_width.
    Index code_size() const { return conv_channels.back() * code_height() * code_width(); }

    /// Throws config_error naming the bad field: sizes must be positive, and height and width divisible by
    /// 2^convolutions so that the decoder's transposed convolutions give back the image's exact size.
    void validate() const {
        auto positive = [](Index v, const std::string& field) {
            if (v < 1)
                throw config_error("conv VAE config: " + field + " must be at least 1, got " + std::to_string(v));
        };
        positive(channels, "channels");
        positive(height, "height");
        positive(width, "width");
        positive(hidden, "hidden");
        positive(latent, "latent");
        if (conditions < 0) throw config_error("conv VAE config: conditions must be 0 or more");
        if (!(sigma > 0)) throw config_error("conv VAE config: sigma must be positive");
        check_prior_choice("conv VAE config", *this);
        check_flow_choice("conv VAE config", flow_steps, flow_hidden);
        if (likelihood == LikelihoodKind::tabular)
            throw config_error("conv VAE config: the likelihood of images is bernoulli or gaussian, not tabular");
        if (conv_channels.empty()) throw config_error("conv VAE config: conv_channels needs at least one convolution");
        for (Index c : conv_channels) positive(c, "each of conv_channels");
        for (const auto& [side, name] : {std::pair{height, "height"}, std::pair{width, "width"}}) {
            Index rest = side;
            for (std::size_t k = 0; k < conv_channels.size(); ++k, rest /= 2)
                if (rest % 2 != 0)
                    throw config_error("conv VAE config: " + std::string(name) + " " + std::to_string(side) +
                                       " must be divisible by 2 per convolution (" +
                                       std::to_string(conv_channels.size()) + " convolutions)");
        }
    }
};

/// The encoder: conv1, conv2, … (kernel 4, stride 2, padding 1), each with a ReLU, Flatten, fc1 with a ReLU, then a
/// GaussianHead (fc21, fc22). Input n × (config.input() + conditions), output n × 2·latent read as [μ | log σ²].
template <class T>
Sequential<T> conv_encoder(const ConvVaeConfig& config, Rng& rng) {
    config.validate();
    Sequential<T> convs;
    Index channels = config.channels, height = config.height, width = config.width;
    for (std::size_t k = 0; k < config.conv_channels.size(); ++k) {
        const Index out = config.conv_channels[k];
        convs.add("conv" + std::to_string(k + 1), Conv2d<T>(channels, out, 4, 2, 1, height, width, rng));
        convs.add(Activation::relu);
        channels = out;
        height /= 2;
        width /= 2;
    }
    convs.add(Flatten<T>());
    Sequential<T> net;
    if (config.conditions > 0) {
        net.add("", BypassTail<T>(config.conditions, std::move(convs)));
    } else {
        net = std::move(convs);
    }
    net.add("fc1", Linear<T>(config.code_size() + config.conditions, config.hidden, rng)).add(Activation::relu);
    net.add("", GaussianHead<T>(config.hidden, config.latent, rng));
    return net;
}

/// The decoder, the encoder's mirror image: fc3 and fc4 with ReLUs, Unflatten to the code's C×H×W, then deconv1,
/// deconv2, … (transposed convolutions, kernel 4, stride 2, padding 1) with a ReLU between them. Input
/// n × (latent + conditions), output n × config.input(): the likelihood's parameters (Bernoulli logits, or means).
template <class T>
Sequential<T> conv_decoder(const ConvVaeConfig& config, Rng& rng) {
    config.validate();
    Sequential<T> net;
    net.add("fc3", Linear<T>(config.latent + config.conditions, config.hidden, rng)).add(Activation::relu);
    net.add("fc4", Linear<T>(config.hidden, config.code_size(), rng)).add(Activation::relu);
    Index height = config.code_height(), width = config.code_width();
    net.add(Unflatten<T>(config.conv_channels.back(), height, width));
    // The encoder's channels backwards, ending at the image's.
    std::vector<Index> channels(config.conv_channels.rbegin(), config.conv_channels.rend());
    channels.push_back(config.channels);
    for (std::size_t k = 0; k + 1 < channels.size(); ++k) {
        net.add("deconv" + std::to_string(k + 1),
                ConvTranspose2d<T>(channels[k], channels[k + 1], 4, 2, 1, height, width, rng));
        if (k + 2 < channels.size()) net.add(Activation::relu);  // the last layer gives logits
        height *= 2;
        width *= 2;
    }
    return net;
}

/// The conv VAE of `config` as parts: conv_encoder, conv_decoder and the likelihood over the pixels (Bernoulli by
/// default).
///
///     vaelet::ConvVaeConfig small;  small.height = small.width = 8;  small.conv_channels = {4, 8};
///     vaelet::Vae<double> vae(vaelet::conv_vae_parts<double>(small, rng));
template <class T>
VaeParts<T> conv_vae_parts(const ConvVaeConfig& config, Rng& rng) {
    VaeParts<T> parts;
    parts.encoder = module_ptr(conv_encoder<T>(config, rng));
    parts.decoder = module_ptr(conv_decoder<T>(config, rng));
    parts.likelihood = Likelihood<T>(config.likelihood, config.input(), config.sigma);
    parts.latent = config.latent;
    parts.conditions = config.conditions;
    parts.prior = make_prior<T>(config, config.input(), Activation::relu, rng);
    parts.flow = make_flow<T>(config.flow_steps, config.flow_hidden, config.latent, rng);
    return parts;
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_CONV_VAE_TEMPLATES(prefix, T) \
    prefix template VaeParts<T> conv_vae_parts<T>(const ConvVaeConfig&, Rng&);
VAELET_EXTERN_TEMPLATES(VAELET_CONV_VAE_TEMPLATES)

}  // namespace vaelet
