/// \file
/// vaelet/vae/model.hpp — the VAE composed of parts: an encoder module giving μ and log σ², the reparameterized
/// sampler, a decoder module, a likelihood and a prior; with evaluation helpers. Optionally conditional: a one-hot
/// label is fed to the encoder and the decoder. VaeConfig is the ready-made MLP composition.
///
/// \code
///     vaelet::Rng rng(1);
///     vaelet::Vae<float> vae(vaelet::VaeConfig{}, rng);          // 784-400-20, as PyTorch's example
///     vaelet::Vae<float> own(std::move(my_encoder), std::move(my_decoder), likelihood, /*latent=*/20);
///     vaelet::Matrix<float> x_hat = vae.reconstruct(batch);                           // σ(decoder(μ(x)))
///     vaelet::Matrix<float> images = vae.generate(64, rng);                           // decode z ~ N(0, I)
///     vaelet::Matrix<float> sevens = cvae.generate(8, rng, vaelet::one_hot<float>(std::vector<int>(8, 7), 10));
/// \endcode
#pragma once

#include "vaelet/core/one_hot.hpp"  // conditions are one-hot labels
#include "vaelet/core/extern_templates.hpp"
#include "vaelet/vae/decoder.hpp"
#include "vaelet/vae/encoder.hpp"
#include "vaelet/vae/flow.hpp"
#include "vaelet/vae/likelihood.hpp"
#include "vaelet/vae/prior.hpp"
#include "vaelet/vae/sampler.hpp"
#include "vaelet/vae/priors.hpp"

#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace vaelet {

/// The ready-made MLP VAE's settings (mlp_vae_parts); the defaults are PyTorch's example, 784-400-20 with ReLU and
/// a Bernoulli likelihood. validate() checks them.
struct VaeConfig {
    Index input = 784;                 ///< features per example
    std::vector<Index> hidden{400};    ///< encoder trunk widths; the decoder mirrors them
    Index latent = 20;                 ///< dimensions of z
    Activation activation = Activation::relu;  ///< after each trunk layer, in the encoder and the decoder
    LikelihoodKind likelihood = LikelihoodKind::bernoulli;  ///< p(x|z)
    double sigma = 1.0;                ///< σ of a fixed Gaussian likelihood, or the start of a learned one
    Index conditions = 0;              ///< 0, or a conditional VAE with a one-hot condition of this many classes
    std::string prior = "standard";    ///< "standard" N(0, I), "vamp" (vae/vamp_prior.hpp), "two_layer" (vae/two_layer_prior.hpp)
    Index pseudo_inputs = 500;         ///< the VampPrior's K
    Index latent2 = 10;                ///< the two-layer prior's z₂ dimensions
    std::vector<Index> hidden2{64};    ///< the two-layer prior's MLP widths (q(z₂|z₁); p(z₁|z₂) mirrors them)
    Index flow_steps = 0;              ///< 0, or a posterior flow of this many IAF steps (vae/flow.hpp)
    Index flow_hidden = 128;           ///< the hidden units of each IAF step's MADE
    TabularLayout tabular;             ///< the column layout when likelihood == tabular (input = tabular.width())

    /// Calls f(name, member) for every field but `tabular`, in order: the one list that model files and
    /// checkpoints write and read, and that parse_vae_config (train/model_file.hpp) accepts.
    template <class Self, class F>
    static void fields(Self& c, F&& f) {
        f("input", c.input);
        f("hidden", c.hidden);
        f("latent", c.latent);
        f("activation", c.activation);
        f("likelihood", c.likelihood);
        f("sigma", c.sigma);
        f("conditions", c.conditions);
        f("prior", c.prior, false);  // added after the first model files, which had the standard prior
        f("pseudo_inputs", c.pseudo_inputs, false);
        f("latent2", c.latent2, false);
        f("hidden2", c.hidden2, false);
        f("flow_steps", c.flow_steps, false);
        f("flow_hidden", c.flow_hidden, false);
    }

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
        check_prior_choice("VAE config", *this);
        check_flow_choice("VAE config", flow_steps, flow_hidden);
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
    Posterior<T> q;  ///< μ and log σ² of q(z|x) (of its Gaussian, before a posterior flow)
    Var<T> eps;      ///< the noise used for z
    Var<T> z;        ///< z = μ + σ ⊙ ε, or f(μ + σ ⊙ ε) through a posterior flow f
    Var<T> out;      ///< decoder output: logits or means
    Var<T> z0;       ///< with a posterior flow: μ + σ ⊙ ε, the flow's input (empty without one)
    Var<T> log_det;  ///< with a posterior flow: log |det ∂f/∂z₀| per row, n × 1 (empty without one)
};

/// The parts of a VAE, for the constructor that takes them all at once (load_model builds a model this way).
template <class T>
struct VaeParts {
    ModulePtr<T> encoder;      ///< n × (input + conditions) → n × 2·latent, read as [μ | log σ²]
    ModulePtr<T> decoder;      ///< n × (latent + conditions) → the likelihood's parameters, n × input
    Likelihood<T> likelihood;  ///< p(x|z); its width is the model's input width
    Index latent = 0;          ///< dimensions of z, at least 1
    Index conditions = 0;      ///< 0, or a conditional VAE's classes: a one-hot condition goes into the encoder and the decoder
    PriorPtr<T> prior;         ///< p(z); null means N(0, I)
    FlowPtr<T> flow;           ///< a posterior flow on the encoder's Gaussian sample; null means none
};

/// The MLP VAE of `config` as parts: mlp_encoder, mlp_decoder mirroring it, the configured likelihood and prior.
template <class T>
VaeParts<T> mlp_vae_parts(const VaeConfig& config, Rng& rng) {
    config.validate();
    const Index c = config.conditions;
    const std::vector<Index> reversed(config.hidden.rbegin(), config.hidden.rend());
    VaeParts<T> parts;
    parts.encoder = module_ptr(mlp_encoder<T>(config.input + c, config.hidden, config.latent, config.activation, rng));
    parts.decoder = module_ptr(mlp_decoder<T>(config.latent + c, reversed, config.input, config.activation, rng));
    parts.likelihood = config.likelihood == LikelihoodKind::tabular
                           ? Likelihood<T>(config.tabular, config.sigma)
                           : Likelihood<T>(config.likelihood, config.input, config.sigma);
    parts.latent = config.latent;
    parts.conditions = c;
    parts.prior = make_prior<T>(config, config.input, config.activation, rng);
    parts.flow = make_flow<T>(config.flow_steps, config.flow_hidden, config.latent, rng);
    return parts;
}

/// A VAE composed of parts: any encoder module, the reparameterized sampler, any decoder module, a likelihood and
/// a prior. Every tool — elbo, iwae_bound, estimate_log_likelihood, score_examples, Trainer, checkpoints,
/// save_model/load_model — takes a Vae, whatever its parts.
template <class T>
class Vae {
public:
    /// The parts, checked: the encoder and decoder must be there and the sizes positive.
    explicit Vae(VaeParts<T> parts)
        : encoder_(std::move(parts.encoder)), decoder_(std::move(parts.decoder)),
          likelihood_(std::move(parts.likelihood)), prior_(std::move(parts.prior)), flow_(std::move(parts.flow)),
          latent_(parts.latent),
          conditions_(parts.conditions) {
        if (!encoder_) throw config_error("VAE: the encoder is missing");
        if (!decoder_) throw config_error("VAE: the decoder is missing");
        if (latent_ < 1) throw config_error("VAE: latent must be at least 1, got " + std::to_string(latent_));
        if (conditions_ < 0) throw config_error("VAE: conditions must be 0 or more, got " + std::to_string(conditions_));
        if (!prior_) prior_ = std::make_unique<StandardNormalPrior<T>>();
        prior_->attach(*encoder_, likelihood_.width(), latent_, conditions_);
        if (flow_ && flow_->latent() != latent_)
            throw shape_error("VAE: the posterior flow maps " + std::to_string(flow_->latent()) +
                              " dimensions but the latent space has " + std::to_string(latent_));
    }

    /// A VAE of an encoder and a decoder (module values or ModulePtrs), a likelihood over `likelihood.width()`
    /// features and `latent` dimensions; the prior is N(0, I).
    ///
    /// \code
    ///     vaelet::Vae<float> vae(std::move(encoder), std::move(decoder),
    ///                            vaelet::Likelihood<float>(vaelet::LikelihoodKind::bernoulli, 784), /*latent=*/20);
    /// \endcode
    template <class E, class D, class = std::enable_if_t<!std::is_same_v<std::decay_t<E>, VaeConfig>>>
    Vae(E&& encoder, D&& decoder, Likelihood<T> likelihood, Index latent, Index conditions = 0)
        : Vae(VaeParts<T>{module_ptr(std::forward<E>(encoder)), module_ptr(std::forward<D>(decoder)),
                          std::move(likelihood), latent, conditions, nullptr, nullptr}) {}

    /// The MLP VAE of `config` (784-400-20 with ReLU and a Bernoulli likelihood, PyTorch's example, by default),
    /// its weights initialised from `rng`.
    Vae(const VaeConfig& config, Rng& rng) : Vae(mlp_vae_parts<T>(config, rng)) {}

    Vae(const Vae&) = delete;  ///< not copyable: parameter lists and tapes point into the model
    Vae& operator=(const Vae&) = delete;

    /// The one-hot condition (n × conditions) of a conditional model on a tape, or none. Every function that runs
    /// a model takes one — Vae's own and elbo, iwae_bound, … — and a conditional model needs it, an unconditional
    /// one ignores it. (A nested type, so that function templates deduce T from the model alone.)
    using Condition = std::optional<Var<T>>;
    /// The same condition as a matrix, for the evaluation helpers below, estimate_log_likelihood and score_examples.
    using ConditionMatrix = std::optional<Matrix<T>>;

    // ---- building blocks on a tape (training) ----

    /// q(z|x).
    Posterior<T> encode(Tape<T>& tape, const Var<T>& x, const Condition& c = std::nullopt) {
        return split_posterior(encoder_->forward(tape, with_condition(x, c)), latent_);
    }
    /// The decoder's output for z (n × latent): the likelihood's parameters, logits or means, n × input.
    Var<T> decode(Tape<T>& tape, const Var<T>& z, const Condition& c = std::nullopt) {
        return decoder_->forward(tape, with_condition(z, c));
    }
    /// z ~ q(z|x) for the posterior `f.q` by the reparameterization trick, through the posterior flow when there
    /// is one: fills f.eps and f.z (and f.z0, f.log_det).
    void sample(VaeForward<T>& f, Rng& rng) {
        f.z = reparameterize(f.q.mu, f.q.logvar, rng, &f.eps);
        if (!flow_) return;
        f.z0 = f.z;
        auto r = flow_->forward(f.z0.tape(), f.z0);
        f.z = r.z;
        f.log_det = r.log_det;
    }
    /// The deterministic code of q: μ, or the flow's image of μ.
    Var<T> code(const Posterior<T>& q) { return flow_ ? flow_->forward(q.mu.tape(), q.mu).z : q.mu; }
    /// log q(z|x) of the sample in `f` (n × 1): log N(z₀; μ, σ²) − log |det ∂f/∂z₀|, or without a flow log N(z; μ, σ²).
    Var<T> log_posterior(const VaeForward<T>& f) {
        return flow_ ? gaussian_log_density(f.z0, f.q.mu, f.q.logvar) - f.log_det
                     : gaussian_log_density(f.z, f.q.mu, f.q.logvar);
    }
    /// KL(q(z|x) ‖ p(z)) for the sample in `f`: the prior's kl_per_dim (closed form for N(0, I)), or with a
    /// posterior flow the one-sample estimate log q(z|x) − log p(z), n × 1. `rng` for a prior that draws noise.
    Var<T> kl_per_dim(const VaeForward<T>& f, Rng& rng) {
        return flow_ ? log_posterior(f) - prior_->log_prob(f.z, rng) : prior_->kl_per_dim(f.q, f.z, rng);
    }
    /// Encode, sample z with the reparameterization trick (and the flow), decode.
    VaeForward<T> forward(Tape<T>& tape, const Var<T>& x, Rng& rng, const Condition& c = std::nullopt) {
        VaeForward<T> f;
        f.q = encode(tape, x, c);
        sample(f, rng);
        f.out = decode(tape, f.z, c);
        return f;
    }

    // ---- evaluation helpers (no gradient; they reuse an internal tape, so calls allocate little) ----

    /// μ and log σ² of q(z|x), each n × latent; with a posterior flow, `mu` is the code (the flow's image of μ)
    /// and `logvar` the Gaussian's, before the flow.
    void encode(const Matrix<T>& x, Matrix<T>& mu, Matrix<T>& logvar, const ConditionMatrix& c = std::nullopt) {
        begin_inference();
        Posterior<T> q = encode(tape_, tape_.constant(x), condition_var(c));
        mu = code(q).value();
        logvar = q.logvar.value();
    }
    /// The mean of p(x|z) for each row of z.
    Matrix<T> decode(const Matrix<T>& z, const ConditionMatrix& c = std::nullopt) {
        begin_inference();
        return likelihood_.mean(decode(tape_, tape_.constant(z), condition_var(c))).value();
    }
    /// Reconstruction through the posterior's code (deterministic: μ, or its image through the flow), or through a
    /// sample z ~ q(z|x) with `rng`.
    Matrix<T> reconstruct(const Matrix<T>& x, const ConditionMatrix& c = std::nullopt, Rng* rng = nullptr) {
        begin_inference();
        const Condition cv = condition_var(c);
        VaeForward<T> f;
        f.q = encode(tape_, tape_.constant(x), cv);
        if (rng) sample(f, *rng);
        return likelihood_.mean(decode(tape_, rng ? f.z : code(f.q), cv)).value();
    }
    /// n new examples: decode z drawn from the prior.
    Matrix<T> generate(Index n, Rng& rng, const ConditionMatrix& c = std::nullopt) {
        return decode(prior_->sample(n, latent_, rng), c);
    }

    // ---- parameters ----

    /// The encoder's parameters under "encoder.", the decoder's and the likelihood's under "decoder.", a learned
    /// prior's under "prior.", a posterior flow's under "flow.". For the MLP of a VaeConfig, in order: encoder.fc1.weight, encoder.fc1.bias, …,
    /// encoder.fc21.*, encoder.fc22.*, decoder.fc3.*, …, decoder.fc4.*, [decoder.log_sigma]. Without the
    /// "encoder."/"decoder." prefix these are exactly the names of PyTorch's examples/vae model (fc1, fc21, fc22,
    /// fc3, fc4) for the 784-400-20 configuration.
    ParameterList<T> named_parameters() {
        ParameterList<T> list;
        encoder_->collect_parameters(list, "encoder.");
        decoder_->collect_parameters(list, "decoder.");
        likelihood_.collect_parameters(list, "decoder.");
        prior_->collect_parameters(list, "prior.");
        if (flow_) flow_->collect_parameters(list, "flow.");
        return list;
    }

    /// The number of scalars in named_parameters().
    Index parameter_count() {
        Index n = 0;
        for (auto& p : named_parameters()) n += p.param->size();
        return n;
    }

    /// Features per example (the likelihood's width).
    Index input() const { return likelihood_.width(); }
    /// Dimensions of z.
    Index latent() const { return latent_; }
    /// Classes of the one-hot condition; 0 for an unconditional model.
    Index conditions() const { return conditions_; }

    /// The encoder module, n × (input + conditions) → n × 2·latent.
    Module<T>& encoder() { return *encoder_; }
    /// The decoder module, n × (latent + conditions) → n × input.
    Module<T>& decoder() { return *decoder_; }
    /// p(x|z).
    Likelihood<T>& likelihood() { return likelihood_; }
    /// p(x|z).
    const Likelihood<T>& likelihood() const { return likelihood_; }
    /// p(z): the one given, or N(0, I).
    Prior<T>& prior() { return *prior_; }
    /// The posterior flow, or null.
    Flow<T>* flow() { return flow_.get(); }

private:
    Var<T> with_condition(const Var<T>& v, const Condition& c) {
        if (conditions_ == 0) return v;
        if (!c) throw config_error("conditional VAE: a one-hot condition of " + std::to_string(conditions_) +
                                   " classes is required");
        if (c->cols() != conditions_)
            throw shape_error("conditional VAE: condition is " + shape_string(c->value()) + " but the model expects " +
                              std::to_string(conditions_) + " columns");
        return concat_cols(v, *c);
    }
    void begin_inference() {
        tape_.reset();
        tape_.set_grad_enabled(false);
    }
    Condition condition_var(const ConditionMatrix& c) {
        if (!c) return std::nullopt;
        return tape_.constant(*c);
    }

    ModulePtr<T> encoder_, decoder_;
    Likelihood<T> likelihood_;
    PriorPtr<T> prior_;
    FlowPtr<T> flow_;
    Index latent_ = 0, conditions_ = 0;
    Tape<T> tape_;  // for the evaluation helpers
};

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_MODEL_TEMPLATES(prefix, T) \
    prefix template VaeParts<T> mlp_vae_parts<T>(const VaeConfig&, Rng&); \
    prefix template class Vae<T>;
VAELET_EXTERN_TEMPLATES(VAELET_MODEL_TEMPLATES)

}  // namespace vaelet
