/// \file
/// vaelet/vae/tcvae.hpp — β-TCVAE (Chen et al., 2018): the ELBO's KL split into the index-code mutual information,
/// the total correlation of the aggregate posterior and the dimension-wise KL, each with its own weight; a large
/// weight on the total correlation alone asks for independent latent dimensions (disentangling) without pressing on
/// the other two.
///
///     vaelet::TcvaeOptions opt;  opt.beta = 6;  opt.dataset_size = train.size();
///     auto terms = vaelet::tcvae(vae, tape, x, rng, opt);     // terms.loss; terms.mutual_information, …, n × 1
///     tape.backward(terms.loss);
///
/// With z ~ q(z|x) per row, q(z) = (1/N) Σₙ q(z|xₙ) the aggregate posterior over the N training examples and q(z_d)
/// its marginals, for each row:
///
///     mutual information   log q(z|x) − log q(z)
///     total correlation    log q(z) − Σ_d log q(z_d)
///     dimension-wise KL    Σ_d log q(z_d) − log p(z)
///
/// which add up to the one-sample KL, log q(z|x) − log p(z). q(z) and q(z_d) are estimated from the M rows of the
/// batch as q(zᵢ) ≈ Σⱼ wᵢⱼ q(zᵢ|xⱼ), and the same per dimension, with the weights of
///
///     minibatch-weighted sampling ("mws", the paper's Appendix C.1 and its code): wᵢⱼ = 1/(N·M) for all j;
///     stratified weights ("stratified"): 1/N for the row's own example, (N − 1)/(N·(M − 1)) for each of the others.
///
/// The two give the same gradient up to the weight of a row's own term. MWS's weights sum to 1/N, not 1: its log q(z)
/// is log N too low, so its mutual information reads log N and its total correlation (D − 1)·log N higher than the
/// quantities (its dimension-wise KL D·log N lower) — constants that do not change the gradient but make the logged
/// values hard to read. The stratified weights sum to 1, estimate each density without bias, and are exact when
/// the batch is the whole data set (N = M). The estimates need the whole batch, so a data-parallel trainer refuses
/// this objective.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/vae/density.hpp"
#include "vaelet/vae/elbo.hpp"

#include <cmath>
#include <string>

namespace vaelet {

/// The settings of tcvae(): the three weights, the data set's size and the estimator of q(z).
struct TcvaeOptions {
    double alpha = 1.0;       ///< weight of the mutual information
    double beta = 1.0;        ///< weight of the total correlation (the β of β-TCVAE; the paper often takes 6)
    double gamma = 1.0;       ///< weight of the dimension-wise KL
    Index dataset_size = 0;   ///< N, the examples the aggregate posterior is over (0: the batch is the data set)
    std::string estimator = "mws";  ///< "mws" (minibatch-weighted sampling) or "stratified" (see above)
};

namespace detail {

/// log wᵢⱼ of the estimator, M × M, in a constant node of `tape` (its buffer reused from step to step).
template <class T>
Var<T> aggregate_log_weights(Tape<T>& tape, const std::string& estimator, Index m, Index n) {
    Node<T>& node = tape.push(Op::constant);
    if (estimator == "mws") {
        node.value.setConstant(m, m, T(-std::log(double(n) * double(m))));
    } else {
        node.value.setConstant(m, m, m > 1 ? T(std::log(double(n - 1) / (double(n) * double(m - 1)))) : T(0));
        node.value.diagonal().setConstant(T(-std::log(double(n))));
    }
    return tape.last();
}

}  // namespace detail

/// The β-TCVAE loss of one pass on batch `x`: mean(recon) + α·mean(MI) + β·mean(TC) + γ·mean(dim-KL). Its terms'
/// kl (and kl_per_dim, n × 1) is the one-sample KL that the three split.
template <class T>
ElboTerms<T> tcvae(Vae<T>& vae, Tape<T>& tape, const Var<T>& x, Rng& rng, const TcvaeOptions& options = {},
                   const typename Vae<T>::Condition& condition = std::nullopt) {
    for (const auto& [weight, name] : {std::pair{options.alpha, "alpha"}, std::pair{options.beta, "beta"},
                                       std::pair{options.gamma, "gamma"}})
        if (!(weight >= 0) || !std::isfinite(weight))
            throw config_error(std::string("β-TCVAE: ") + name + " must be 0 or more, got " + std::to_string(weight));
    if (x.cols() != vae.input())
        throw shape_error("β-TCVAE: the batch is " + shape_string(x.value()) + " but the model expects " +
                          std::to_string(vae.input()) + " features per row");
    if (options.estimator != "mws" && options.estimator != "stratified")
        throw config_error("β-TCVAE: estimator \"" + options.estimator + "\" is not one of mws, stratified");
    if (vae.flow())
        throw config_error("β-TCVAE: its estimates of q(z) are mixtures of the encoder's Gaussians, which a posterior "
                           "flow reshapes; use β-TCVAE without a flow");
    const Index m = x.rows(), n = options.dataset_size > 0 ? options.dataset_size : m;
    if (n < m)
        throw config_error("β-TCVAE: dataset_size is " + std::to_string(n) + ", smaller than the batch of " +
                           std::to_string(m) + "; give the number of training examples");
    ElboTerms<T> terms;
    VaeForward<T>& f = terms.forward;
    f = vae.forward(tape, x, rng, condition);
    const Posterior<T>& q = f.q;
    const Var<T> log_w = detail::aggregate_log_weights(tape, options.estimator, m, n);
    // log q(zᵢ): the weighted mixture over the batch of the joint densities; log q(zᵢ_d): the same per dimension.
    const Var<T> log_qz = log_sum_exp_per_row(pairwise_gaussian_log_density(f.z, q.mu, q.logvar) + log_w);
    Var<T> log_qz_marginals;
    for (Index d = 0; d < f.z.cols(); ++d) {
        const Var<T> table = pairwise_gaussian_log_density(slice_cols(f.z, d, 1), slice_cols(q.mu, d, 1),
                                                           slice_cols(q.logvar, d, 1));
        const Var<T> log_qzd = log_sum_exp_per_row(table + log_w);
        log_qz_marginals = d == 0 ? log_qzd : log_qz_marginals + log_qzd;
    }
    const Var<T> log_qz_x = sample_log_density(q.logvar, f.eps);
    terms.mutual_information = log_qz_x - log_qz;
    terms.total_correlation = log_qz - log_qz_marginals;
    terms.dimension_kl = log_qz_marginals - vae.prior().log_prob(f.z, rng);
    terms.recon = -vae.likelihood().log_prob(tape, f.out, x);
    terms.kl = terms.mutual_information + terms.total_correlation + terms.dimension_kl;
    terms.kl_per_dim = terms.kl;
    terms.loss = mean(terms.recon) + mean(terms.mutual_information) * T(options.alpha) +
                 mean(terms.total_correlation) * T(options.beta) + mean(terms.dimension_kl) * T(options.gamma);
    return terms;
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_TCVAE_TEMPLATES(prefix, T) \
    prefix template ElboTerms<T> tcvae<T>(Vae<T>&, Tape<T>&, const Var<T>&, Rng&, const TcvaeOptions&, const typename Vae<T>::Condition&);
VAELET_EXTERN_TEMPLATES(VAELET_TCVAE_TEMPLATES)

}  // namespace vaelet
