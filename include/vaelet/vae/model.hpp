// vaelet/vae/model.hpp — the VAE: Gaussian encoder, reparameterized sampler, decoder and likelihood, with
// evaluation helpers. Optionally conditional: a one-hot label is fed to the encoder and the decoder.
//
//   vaelet::Rng rng(1);
//   vaelet::Vae<float> vae(vaelet::VaeConfig{}, rng);          // 784-400-20, as PyTorch's example
//   vaelet::Matrix<float> x_hat = vae.reconstruct(batch);                           // σ(decoder(μ(x)))
//   vaelet::Matrix<float> images = vae.generate(64, rng);                           // decode z ~ N(0, I)
#pragma once

#include "vaelet/vae/decoder.hpp"
#include "vaelet/vae/encoder.hpp"
#include "vaelet/vae/likelihood.hpp"
#include "vaelet/vae/sampler.hpp"

#include <optional>
#include <string>
#include <vector>

namespace vaelet {

struct VaeConfig {
    Index input = 784;                 // features per example
    std::vector<Index> hidden{400};    // encoder trunk widths; the decoder mirrors them
    Index latent = 20;
    Activation activation = Activation::relu;
    LikelihoodKind likelihood = LikelihoodKind::bernoulli;
    double sigma = 1.0;                // σ of a fixed Gaussian likelihood, or the start of a learned one
    Index conditions = 0;              // > 0: a conditional VAE with a one-hot condition of this many classes
    TabularLayout tabular;             // the column layout when likelihood == tabular (input = tabular.width())

    /// Throws config_error naming the bad field.
    void validate() const {
        auto positive = [](Index v, const char* field) {
            if (v < 1) throw config_error(std::string("VAE config: ") + field + " must be at least 1, got " + std::to_string(v));
        };
        positive(input, "input");
        positive(latent, "latent");
        for (Index h : hidden) positive(h, "hidden width");
        if (conditions < 0) throw config_error("VAE config: conditions must be 0 or more");
        if (!(sigma > 0)) throw config_error("VAE config: sigma must be positive");
        if (likelihood == LikelihoodKind::tabular) {
            tabular.validate();
            if (tabular.width() != input)
                throw config_error("VAE config: the tabular layout has " + std::to_string(tabular.width()) +
                                   " columns but input is " + std::to_string(input) + "; set input = tabular.width()");
        }
    }
};

/// The per-row results of one pass through the model, all on the tape.
template <class T>
struct VaeForward {
    Posterior<T> q;  // μ and log σ² of q(z|x)
    Var<T> eps;      // the noise used for z
    Var<T> z;        // z = μ + σ ⊙ ε
    Var<T> out;      // decoder output: logits or means
};

template <class T>
class Vae {
public:
    Vae(const VaeConfig& config, Rng& rng) : config_((config.validate(), config)) {
        const Index c = config.conditions;
        std::vector<Index> reversed(config.hidden.rbegin(), config.hidden.rend());
        encoder_ = GaussianEncoder<T>(config.input + c, config.hidden, config.latent, config.activation, rng);
        decoder_ = Decoder<T>(config.latent + c, reversed, config.input, config.activation, rng);
        likelihood_ = config.likelihood == LikelihoodKind::tabular
                          ? Likelihood<T>(config.tabular, config.sigma)
                          : Likelihood<T>(config.likelihood, config.input, config.sigma);
    }

    Vae(const Vae&) = delete;  // parameter lists and tapes point into the model
    Vae& operator=(const Vae&) = delete;

    // ---- building blocks on a tape (training) ----

    /// q(z|x); `c` is the one-hot condition (n × conditions) of a conditional model, else ignored.
    Posterior<T> encode(Tape<T>& tape, const Var<T>& x, const Var<T>* c = nullptr) {
        return encoder_(tape, with_condition(x, c));
    }
    Var<T> decode(Tape<T>& tape, const Var<T>& z, const Var<T>* c = nullptr) {
        return decoder_(tape, with_condition(z, c));
    }
    /// Encode, sample z with the reparameterization trick, decode.
    VaeForward<T> forward(Tape<T>& tape, const Var<T>& x, Rng& rng, const Var<T>* c = nullptr) {
        VaeForward<T> f;
        f.q = encode(tape, x, c);
        f.z = reparameterize(f.q.mu, f.q.logvar, rng, &f.eps);
        f.out = decode(tape, f.z, c);
        return f;
    }

    // ---- evaluation helpers (no gradient; they reuse an internal tape, so calls allocate little) ----

    /// μ and log σ² of q(z|x), each n × latent.
    void encode(const Matrix<T>& x, Matrix<T>& mu, Matrix<T>& logvar, const Matrix<T>* c = nullptr) {
        begin_inference();
        auto cv = condition_var(c);
        Posterior<T> q = encode(tape_, tape_.constant(x), cv ? &*cv : nullptr);
        mu = q.mu.value();
        logvar = q.logvar.value();
    }
    /// The mean of p(x|z) for each row of z.
    Matrix<T> decode(const Matrix<T>& z, const Matrix<T>* c = nullptr) {
        begin_inference();
        auto cv = condition_var(c);
        return likelihood_.mean(decode(tape_, tape_.constant(z), cv ? &*cv : nullptr).value());
    }
    /// Reconstruction through the posterior mean (deterministic), or through a sample z ~ q(z|x) with `rng`.
    Matrix<T> reconstruct(const Matrix<T>& x, const Matrix<T>* c = nullptr, Rng* rng = nullptr) {
        begin_inference();
        auto cv = condition_var(c);
        const Var<T>* cp = cv ? &*cv : nullptr;
        Posterior<T> q = encode(tape_, tape_.constant(x), cp);
        const Var<T> z = rng ? reparameterize(q.mu, q.logvar, *rng) : q.mu;
        return likelihood_.mean(decode(tape_, z, cp).value());
    }
    /// n new examples: decode z ~ N(0, I).
    Matrix<T> generate(Index n, Rng& rng, const Matrix<T>* c = nullptr) {
        return decode(sample_prior<T>(n, config_.latent, rng), c);
    }

    // ---- parameters ----

    /// In order: encoder.fc1.weight, encoder.fc1.bias, …, encoder.fc21.*, encoder.fc22.*, decoder.fc3.*, …,
    /// decoder.fc4.*, [decoder.log_sigma]. Without the "encoder."/"decoder." prefix these are exactly the names
    /// of PyTorch's examples/vae model (fc1, fc21, fc22, fc3, fc4) for the 784-400-20 configuration.
    ParameterList<T> named_parameters() {
        ParameterList<T> list;
        encoder_.collect_parameters(list, "encoder.");
        decoder_.collect_parameters(list, "decoder.");
        likelihood_.collect_parameters(list, "decoder.");
        return list;
    }

    Index parameter_count() {
        Index n = 0;
        for (auto& p : named_parameters()) n += p.param->size();
        return n;
    }

    const VaeConfig& config() const { return config_; }
    Likelihood<T>& likelihood() { return likelihood_; }
    GaussianEncoder<T>& encoder() { return encoder_; }
    Decoder<T>& decoder() { return decoder_; }

private:
    Var<T> with_condition(const Var<T>& v, const Var<T>* c) {
        if (config_.conditions == 0) return v;
        if (!c) throw config_error("conditional VAE: a one-hot condition of " + std::to_string(config_.conditions) +
                                   " classes is required");
        if (c->cols() != config_.conditions)
            throw shape_error("conditional VAE: condition is " + shape_string(c->value()) + " but the model expects " +
                              std::to_string(config_.conditions) + " columns");
        return concat_cols(v, *c);
    }
    void begin_inference() {
        tape_.reset();
        tape_.set_grad_enabled(false);
    }
    std::optional<Var<T>> condition_var(const Matrix<T>* c) {
        if (!c) return std::nullopt;
        return tape_.constant(*c);
    }

    VaeConfig config_;
    GaussianEncoder<T> encoder_;
    Decoder<T> decoder_;
    Likelihood<T> likelihood_;
    Tape<T> tape_;  // for the evaluation helpers
};

/// A one-hot n × classes matrix from integer labels.
template <class T, class Labels>
Matrix<T> one_hot(const Labels& labels, Index classes) {
    Matrix<T> m = Matrix<T>::Zero(static_cast<Index>(labels.size()), classes);
    for (Index i = 0; i < m.rows(); ++i) {
        const auto label = static_cast<Index>(labels[static_cast<std::size_t>(i)]);
        if (label < 0 || label >= classes)
            throw config_error("one_hot: label " + std::to_string(label) + " at row " + std::to_string(i) +
                               " is outside [0, " + std::to_string(classes) + ")");
        m(i, label) = T(1);
    }
    return m;
}

}  // namespace vaelet
