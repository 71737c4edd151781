/// \file
/// vaelet/vae/likelihood.hpp — p(x|z) given the decoder's output: Bernoulli with logits, or Gaussian with a fixed
/// σ, a learned global σ, or a learned σ per output dimension, or "tabular" (a mixed table: Gaussians for the
/// numeric columns, a categorical per one-hot block). Densities are in nats with all constants.
///
///     vaelet::Likelihood<float> lik(vaelet::LikelihoodKind::bernoulli, 784);
///     auto log_px = lik.log_prob(tape, decoder_out, x);   // n×1: log p(x_i | z_i)
///     vaelet::Var<float> mean = lik.mean(decoder_out);   // σ(logits) or the Gaussian mean
///
/// The likelihood is the model's choice of noise, kept apart from the decoder network: the same decoder can sit
/// under any of them, and only the learned-σ kinds add a parameter ("decoder.log_sigma").
///
/// Tabular: x = [numeric columns (standardized) | one-hot block of categorical 1 | block 2 | …] as TabularLayout
/// (core/tabular_layout.hpp) describes and data/tabular.hpp produces. The decoder outputs the numeric means, then
/// one logit per category; log p(x|z) = Σ numeric log N(x | mean, σ²) with a learned σ per column + Σ blocks
/// Σ x ⊙ log softmax(logits).
///
///     vaelet::Likelihood<float> tab(vaelet::TabularLayout{3, {4, 2}});   // 3 numbers, categoricals of 4 and 2
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/core/tabular_layout.hpp"
#include "vaelet/nn/parameter.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace vaelet {

/// The noise model p(x|z) of a Likelihood, and what the decoder's output means under it.
enum class LikelihoodKind {
    bernoulli,                  ///< x ∈ [0, 1] (need not be binary); decoder output = logits
    gaussian_fixed,             ///< N(mean, σ²) with σ given
    gaussian_learned,           ///< N(mean, σ²) with one learned σ
    gaussian_learned_per_dim,   ///< N(mean, diag σ²) with one learned σ per output dimension
    tabular,                    ///< numeric columns: N(mean, σ²) with a learned σ per column; one-hot blocks: softmax
};

/// The kind's name in configs, flags and model files: "bernoulli", "gaussian" (fixed σ), "gaussian_learned",
/// "gaussian_learned_per_dim", "tabular".
inline const char* likelihood_name(LikelihoodKind k) {
    switch (k) {
        case LikelihoodKind::bernoulli: return "bernoulli";
        case LikelihoodKind::gaussian_fixed: return "gaussian";
        case LikelihoodKind::gaussian_learned: return "gaussian_learned";
        case LikelihoodKind::gaussian_learned_per_dim: return "gaussian_learned_per_dim";
        case LikelihoodKind::tabular: return "tabular";
    }
    return "?";
}

/// The kind that likelihood_name() gives `name`; config_error naming the choices for any other name.
inline LikelihoodKind parse_likelihood(const std::string& name) {
    for (LikelihoodKind k : {LikelihoodKind::bernoulli, LikelihoodKind::gaussian_fixed, LikelihoodKind::gaussian_learned,
                             LikelihoodKind::gaussian_learned_per_dim, LikelihoodKind::tabular})
        if (name == likelihood_name(k)) return k;
    throw config_error("unknown likelihood '" + name +
                       "'; use bernoulli, gaussian, gaussian_learned, gaussian_learned_per_dim or tabular");
}

/// p(x|z) given the decoder's output, a value type: the kind (LikelihoodKind), its width, σ and, for the kinds with
/// a learned σ, the parameter log σ that the Vae lists as "decoder.log_sigma".
template <class T>
class Likelihood {
public:
    /// Bernoulli of width 0, until assigned a real one (VaeParts starts from it).
    Likelihood() = default;

    /// `dims` output dimensions; `sigma` is the fixed σ, or the initial σ of a learned one. Not for `tabular`,
    /// which needs the constructor that takes its layout.
    Likelihood(LikelihoodKind kind, Index dims, double sigma = 1.0) : kind_(kind), sigma_(sigma), width_(dims) {
        if (dims < 1) throw config_error("likelihood: dims must be at least 1, got " + std::to_string(dims));
        if (!(sigma > 0)) throw config_error("likelihood: sigma must be positive, got " + std::to_string(sigma));
        if (kind == LikelihoodKind::tabular)
            throw config_error("likelihood: tabular needs the column layout; construct it from a TabularLayout");
        if (kind == LikelihoodKind::gaussian_learned) log_sigma_ = Parameter<T>(1, 1);
        if (kind == LikelihoodKind::gaussian_learned_per_dim) log_sigma_ = Parameter<T>(1, dims, /*vector=*/true);
        log_sigma_.value.setConstant(T(std::log(sigma)));
    }

    /// The tabular likelihood for `layout`; `sigma` is the initial σ of every numeric column.
    explicit Likelihood(const TabularLayout& layout, double sigma = 1.0)
        : kind_(LikelihoodKind::tabular), sigma_(sigma), width_(layout.width()), layout_(layout) {
        if (!(sigma > 0)) throw config_error("likelihood: sigma must be positive, got " + std::to_string(sigma));
        layout.validate();
        if (layout.numeric > 0) log_sigma_ = Parameter<T>(1, layout.numeric, /*vector=*/true);
        log_sigma_.value.setConstant(T(std::log(sigma)));
    }

    /// log p(x|z) for each row, n×1, from the decoder output `out` (logits or means) and the data `x`. `x` may
    /// also hold one row per block of k = out.rows() / x.rows() rows of `out`: the k samples of one example, laid
    /// out as importance sampling lays them (the Bernoulli likelihood then never copies the data k times).
    Var<T> log_prob(Tape<T>& tape, const Var<T>& out, const Var<T>& x) {
        if (kind_ != LikelihoodKind::bernoulli && x.rows() > 0 && x.rows() < out.rows() && out.rows() % x.rows() == 0)
            return log_prob(tape, out, repeat_rows(x, out.rows() / x.rows()));
        switch (kind_) {
            case LikelihoodKind::bernoulli:
                return -bce_with_logits_per_row(out, x);
            case LikelihoodKind::gaussian_fixed: {
                const T per_dim = T(std::log(sigma_) + half_log_2pi);
                return -sum_per_row(square(x - out) * T(0.5 / (sigma_ * sigma_))) - per_dim * T(x.cols());
            }
            case LikelihoodKind::gaussian_learned:
            case LikelihoodKind::gaussian_learned_per_dim: {
                // −[(x − m)²·e^(−2 log σ)/2 + log σ + ½ log 2π], the log σ row or scalar broadcast over the batch
                const Var<T> log_sigma = log_sigma_.on(tape);
                const Var<T> per_elem = square(x - out) * exp(log_sigma * T(-2)) * T(0.5) + log_sigma;
                return -sum_per_row(per_elem) - T(half_log_2pi) * T(x.cols());
            }
            case LikelihoodKind::tabular:
                return tabular_log_prob(tape, out, x);
        }
        throw config_error("likelihood: unknown kind");
    }

    /// The mean of p(x|z) on the tape: σ(logits) for Bernoulli, the decoder output itself for Gaussians; for
    /// tabular, the numeric means followed by each block's softmax probabilities. (The ONNX export traces this.)
    Var<T> mean(const Var<T>& out) const {
        if (kind_ == LikelihoodKind::bernoulli) return sigmoid(out);
        if (kind_ != LikelihoodKind::tabular) return out;
        require_width(out.cols());
        Var<T> m;
        if (layout_.numeric > 0) m = slice_cols(out, 0, layout_.numeric);
        Index start = layout_.numeric;
        for (Index size : layout_.categorical_sizes) {
            const Var<T> p = exp(log_softmax_per_row(slice_cols(out, start, size)));
            m = m.empty() ? p : concat_cols(m, p);
            start += size;
        }
        return m;
    }
    /// The same for a matrix of decoder outputs (it records on a tape of its own).
    Matrix<T> mean(const Matrix<T>& out) const {
        Tape<T> tape;
        tape.set_grad_enabled(false);
        return mean(tape.constant(out)).value();
    }

    /// Appends the learned log σ to `list` as `prefix` + "log_sigma", when there is one (learned()).
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) {
        if (learned()) list.push_back({prefix + "log_sigma", &log_sigma_});
    }

    /// Which noise model it is.
    LikelihoodKind kind() const { return kind_; }
    /// True when the likelihood has a learned σ ("decoder.log_sigma"): tabular has one when it has numeric columns.
    bool learned() const {
        return kind_ == LikelihoodKind::gaussian_learned || kind_ == LikelihoodKind::gaussian_learned_per_dim ||
               (kind_ == LikelihoodKind::tabular && layout_.numeric > 0);
    }
    /// The fixed σ, or the initial σ of a learned one (what a model file stores to rebuild the likelihood).
    double sigma() const { return sigma_; }
    /// σ as it is now: the exp of the learned log σ (1×1, 1×dims, or one per numeric column of a table), or the
    /// fixed σ as 1×1 for the Gaussian with fixed σ; empty (0×0) for Bernoulli.
    Matrix<T> current_sigma() const {
        if (learned()) return log_sigma_.value.array().exp().matrix();
        if (kind_ == LikelihoodKind::gaussian_fixed) return Matrix<T>::Constant(1, 1, T(sigma_));
        return Matrix<T>();
    }
    /// The features of x it models (the decoder's output width).
    Index width() const { return width_; }
    /// The column layout of a tabular likelihood (empty for the other kinds).
    const TabularLayout& layout() const { return layout_; }

private:
    void require_width(Index cols) const {
        if (cols != layout_.width())
            throw shape_error("tabular likelihood: " + std::to_string(cols) + " columns, but the layout has " +
                              std::to_string(layout_.width()) + " (" + std::to_string(layout_.numeric) +
                              " numeric + " + std::to_string(layout_.categorical_sizes.size()) + " one-hot blocks)");
    }

    Var<T> tabular_log_prob(Tape<T>& tape, const Var<T>& out, const Var<T>& x) {
        require_width(out.cols());
        require_width(x.cols());
        const Index k = layout_.numeric;
        Var<T> log_px;
        bool started = false;
        auto add_term = [&](const Var<T>& term) {
            log_px = started ? log_px + term : term;
            started = true;
        };
        if (k > 0) {  // as gaussian_learned_per_dim, on the numeric columns
            const Var<T> log_sigma = log_sigma_.on(tape);
            const Var<T> diff = slice_cols(x, 0, k) - slice_cols(out, 0, k);
            const Var<T> per_elem = square(diff) * exp(log_sigma * T(-2)) * T(0.5) + log_sigma;
            add_term(-sum_per_row(per_elem) - T(half_log_2pi) * T(k));
        }
        Index start = k;
        for (Index size : layout_.categorical_sizes) {  // log softmax picked out by the one-hot x
            add_term(sum_per_row(slice_cols(x, start, size) * log_softmax_per_row(slice_cols(out, start, size))));
            start += size;
        }
        return log_px;
    }

    LikelihoodKind kind_ = LikelihoodKind::bernoulli;
    double sigma_ = 1.0;
    Index width_ = 0;
    Parameter<T> log_sigma_{1, 1};
    TabularLayout layout_;
};

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_LIKELIHOOD_TEMPLATES(prefix, T) \
    prefix template class Likelihood<T>;
VAELET_EXTERN_TEMPLATES(VAELET_LIKELIHOOD_TEMPLATES)

}  // namespace vaelet
