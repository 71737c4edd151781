/// \file
/// vaelet/vae/score.hpp — per-example scores of a trained VAE: the negative ELBO (how unlikely the model finds an
/// example; high = anomalous) and the reconstruction error through the posterior mean.
///
///     vaelet::Rng rng(1);
///     auto s = vaelet::score_examples(vae, x, rng);      // s.neg_elbo, s.recon_error: n×1, nats
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/vae/elbo.hpp"

namespace vaelet {

/// The per-example scores of score_examples(), n×1 each, in nats; high means the model finds the example unlikely.
struct ExampleScores {
    Matrix<double> neg_elbo;     ///< −ELBO = E_q[−log p(x|z)] + KL(q ‖ p), the expectation over `samples` draws
    Matrix<double> recon_error;  ///< −log p(x | z = the code of x: μ(x), or its image through a flow): deterministic
};

/// Scores every row of x (n × input). `conditions` (n × classes one-hot) for a conditional model.
template <class T>
ExampleScores score_examples(Vae<T>& vae, const Matrix<T>& x, Rng& rng, int samples = 1,
                             const typename Vae<T>::ConditionMatrix& conditions = std::nullopt) {
    if (samples < 1) throw config_error("score: samples must be at least 1, got " + std::to_string(samples));
    Tape<T> tape;
    NoGrad<T> guard(tape);
    const Var<T> xv = tape.constant(x);
    typename Vae<T>::Condition c;
    if (conditions) c = tape.constant(*conditions);

    ExampleScores s;
    s.neg_elbo = Matrix<double>::Zero(x.rows(), 1);
    VaeForward<T> f;
    f.q = vae.encode(tape, xv, c);
    for (int k = 0; k < samples; ++k) {
        vae.sample(f, rng);
        s.neg_elbo -= vae.likelihood().log_prob(tape, vae.decode(tape, f.z, c), xv).value().template cast<double>();
        s.neg_elbo += sum_per_row(vae.kl_per_dim(f, rng)).value().template cast<double>();
    }
    s.neg_elbo /= double(samples);
    s.recon_error = -vae.likelihood().log_prob(tape, vae.decode(tape, vae.code(f.q), c), xv).value().template cast<double>();
    return s;
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_SCORE_TEMPLATES(prefix, T) \
    prefix template ExampleScores score_examples<T>(Vae<T>&, const Matrix<T>&, Rng&, int, const typename Vae<T>::ConditionMatrix&);
VAELET_EXTERN_TEMPLATES(VAELET_SCORE_TEMPLATES)

}  // namespace vaelet
