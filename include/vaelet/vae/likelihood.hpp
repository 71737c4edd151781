// vaelet/vae/likelihood.hpp — p(x|z) given the decoder's output: Bernoulli with logits, or Gaussian with a fixed
// σ, a learned global σ, or a learned σ per output dimension. Densities are in nats with all constants.
//
//   vaelet::Likelihood<float> lik(vaelet::LikelihoodKind::bernoulli, 784);
//   auto log_px = lik.log_prob(tape, decoder_out, x);   // n×1: log p(x_i | z_i)
//   vaelet::Matrix<float> mean = lik.mean(decoder_out.value());   // σ(logits) or the Gaussian mean
//
// The likelihood is the model's choice of noise, kept apart from the decoder network: the same decoder can sit
// under any of them, and only the learned-σ kinds add a parameter ("decoder.log_sigma").
#pragma once

#include "vaelet/core/ops.hpp"
#include "vaelet/nn/parameter.hpp"

#include <cmath>
#include <string>

namespace vaelet {

enum class LikelihoodKind {
    bernoulli,                  // x ∈ [0, 1] (need not be binary); decoder output = logits
    gaussian_fixed,             // N(mean, σ²) with σ given
    gaussian_learned,           // N(mean, σ²) with one learned σ
    gaussian_learned_per_dim,   // N(mean, diag σ²) with one learned σ per output dimension
};

inline const char* likelihood_name(LikelihoodKind k) {
    switch (k) {
        case LikelihoodKind::bernoulli: return "bernoulli";
        case LikelihoodKind::gaussian_fixed: return "gaussian";
        case LikelihoodKind::gaussian_learned: return "gaussian_learned";
        case LikelihoodKind::gaussian_learned_per_dim: return "gaussian_learned_per_dim";
    }
    return "?";
}

inline LikelihoodKind parse_likelihood(const std::string& name) {
    for (LikelihoodKind k : {LikelihoodKind::bernoulli, LikelihoodKind::gaussian_fixed, LikelihoodKind::gaussian_learned,
                             LikelihoodKind::gaussian_learned_per_dim})
        if (name == likelihood_name(k)) return k;
    throw config_error("unknown likelihood '" + name +
                       "'; use bernoulli, gaussian, gaussian_learned or gaussian_learned_per_dim");
}

template <class T>
class Likelihood {
public:
    Likelihood() = default;

    /// `dims` output dimensions; `sigma` is the fixed σ, or the initial σ of a learned one.
    Likelihood(LikelihoodKind kind, Index dims, double sigma = 1.0) : kind_(kind), sigma_(sigma) {
        if (!(sigma > 0)) throw config_error("likelihood: sigma must be positive, got " + std::to_string(sigma));
        if (kind == LikelihoodKind::gaussian_learned) log_sigma_ = Parameter<T>(1, 1);
        if (kind == LikelihoodKind::gaussian_learned_per_dim) log_sigma_ = Parameter<T>(1, dims, /*vector=*/true);
        log_sigma_.value.setConstant(T(std::log(sigma)));
    }

    /// log p(x|z) for each row, n×1, from the decoder output `out` (logits or means) and the data `x`.
    Var<T> log_prob(Tape<T>& tape, const Var<T>& out, const Var<T>& x) {
        constexpr double half_log_2pi = 0.91893853320467274178;
        switch (kind_) {
            case LikelihoodKind::bernoulli:
                return -sum_per_row(bce_with_logits(out, x));
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
        }
        throw config_error("likelihood: unknown kind");
    }

    /// The mean of p(x|z): σ(logits) for Bernoulli, the decoder output itself for Gaussians.
    Matrix<T> mean(const Matrix<T>& out) const {
        if (kind_ == LikelihoodKind::bernoulli) return (T(1) / (T(1) + (-out.array()).exp())).matrix();
        return out;
    }

    void collect_parameters(ParameterList<T>& list, const std::string& prefix) {
        if (learned()) list.push_back({prefix + "log_sigma", &log_sigma_});
    }

    LikelihoodKind kind() const { return kind_; }
    bool learned() const {
        return kind_ == LikelihoodKind::gaussian_learned || kind_ == LikelihoodKind::gaussian_learned_per_dim;
    }
    double sigma() const { return sigma_; }

private:
    LikelihoodKind kind_ = LikelihoodKind::bernoulli;
    double sigma_ = 1.0;
    Parameter<T> log_sigma_{1, 1};
};

}  // namespace vaelet
