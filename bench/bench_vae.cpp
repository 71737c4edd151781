// bench/bench_vae.cpp — whole training steps and inference of the canonical 784-400-20 VAE (PyTorch's
// examples/vae model), and the same training step derived by hand in plain Eigen, so the tape's cost stays visible;
// and the conv VAE of issue #14 (vae/conv_vae.hpp), batch 128.
//
//   vaelet_bench --benchmark_filter='vae_'                      # all of them
//   vaelet_bench --benchmark_filter='vae_train|vae_reference'   # tape vs hand-derived, batches 1 … 512
//   vaelet_bench --benchmark_filter='vae_conv'                  # the conv VAE
//
// One training step = forward + backward + Adam, on random binary-ish images. items/s = images per second.
// vae_train_epoch is the user's figure: whole epochs through Trainer over 60,000 uint8 images (Fashion-MNIST's
// size), with shuffling, batch assembly and the NaN guard — what `vaelet-mnist train` reports as images/s.
// Threads: whatever Eigen is set to (OMP_NUM_THREADS); the label says. Times are wall-clock (real time), the figure a
// user sees; run on a quiet machine.
#include "vaelet/optim/adam.hpp"
#include "vaelet/train/trainer.hpp"
#include "vaelet/vae/conv_vae.hpp"
#include "vaelet/vae/elbo.hpp"

#include <benchmark/benchmark.h>

#include <cmath>
#include <string>

namespace {

using vaelet::Index;
using T = float;
using Mat = vaelet::Matrix<T>;

Mat random_images(Index n, std::uint64_t seed) {
    vaelet::Rng rng(seed);
    Mat x(n, 784);
    rng.fill_uniform(x, 0.0, 1.0);
    return (x.array() > T(0.8)).cast<T>().matrix();  // ~20% ink, like MNIST
}

void label(benchmark::State& state, Index batch) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
    state.SetLabel("eigen threads " + std::to_string(Eigen::nbThreads()));
}

// ---- vaelet: the library's training step -------------------------------------------------------------------------

void vae_train_step(benchmark::State& state) {
    const Index batch = state.range(0);
    vaelet::Rng rng(1);
    vaelet::Vae<T> vae(vaelet::VaeConfig{}, rng);
    vaelet::Adam<T> adam(vae.named_parameters(), vaelet::AdamOptions{1e-3});
    vaelet::Tape<T> tape;
    const Mat x = random_images(batch, 2);
    for (auto _ : state) {
        tape.reset();
        const auto terms = vaelet::elbo(vae, tape, tape.constant(x), rng);
        tape.backward(terms.loss);
        adam.step_and_zero_grad();
        benchmark::DoNotOptimize(terms.loss.value().data());
    }
    label(state, batch);
}
BENCHMARK(vae_train_step)->Arg(1)->Arg(16)->Arg(128)->Arg(512)->UseRealTime()->Unit(benchmark::kMicrosecond);

void vae_train_epoch(benchmark::State& state) {
    const Index batch = state.range(0), images = 60000;
    vaelet::Rng rng(1);
    std::vector<std::uint8_t> pixels(std::size_t(images) * 784);
    for (auto& p : pixels) p = rng.below(5) == 0 ? std::uint8_t(155 + rng.below(101)) : std::uint8_t(0);
    const vaelet::Dataset data(std::move(pixels), 28, 28);  // 28 × 28 images
    vaelet::Vae<T> vae(vaelet::VaeConfig{}, rng);
    vaelet::TrainOptions options;
    options.batch = batch;
    options.epochs = 1 << 30;
    vaelet::Trainer<T> trainer(vae, data, options);
    for (auto _ : state) benchmark::DoNotOptimize(trainer.train_epoch().loss);
    label(state, images);
}
BENCHMARK(vae_train_epoch)->Arg(128)->UseRealTime()->Unit(benchmark::kMillisecond);

void vae_inference(benchmark::State& state) {
    const Index batch = state.range(0);
    vaelet::Rng rng(1);
    vaelet::Vae<T> vae(vaelet::VaeConfig{}, rng);
    const Mat x = random_images(batch, 2);
    for (auto _ : state) {
        const Mat& r = vae.reconstruct(x);  // encode → μ → decode, no gradient
        benchmark::DoNotOptimize(r.data());
    }
    label(state, batch);
}
BENCHMARK(vae_inference)->Arg(1)->Arg(128)->UseRealTime()->Unit(benchmark::kMicrosecond);

// ---- the conv VAE of issue #14 (vae/conv_vae.hpp), as bench/pytorch_vae.py --arch conv ---------------------------

void vae_conv_train_step(benchmark::State& state) {
    const Index batch = state.range(0);
    vaelet::Rng rng(1);
    vaelet::Vae<T> vae(vaelet::conv_vae_parts<T>(vaelet::ConvVaeConfig{}, rng));
    vaelet::Adam<T> adam(vae.named_parameters(), vaelet::AdamOptions{1e-3});
    vaelet::Tape<T> tape;
    const Mat x = random_images(batch, 2);
    for (auto _ : state) {
        tape.reset();
        const auto terms = vaelet::elbo(vae, tape, tape.constant(x), rng);
        tape.backward(terms.loss);
        adam.step_and_zero_grad();
        benchmark::DoNotOptimize(terms.loss.value().data());
    }
    label(state, batch);
}
BENCHMARK(vae_conv_train_step)->Arg(128)->UseRealTime()->Unit(benchmark::kMillisecond);

void vae_conv_inference(benchmark::State& state) {
    const Index batch = state.range(0);
    vaelet::Rng rng(1);
    vaelet::Vae<T> vae(vaelet::conv_vae_parts<T>(vaelet::ConvVaeConfig{}, rng));
    const Mat x = random_images(batch, 2);
    for (auto _ : state) {
        const Mat& r = vae.reconstruct(x);  // encode → μ → decode, no gradient
        benchmark::DoNotOptimize(r.data());
    }
    label(state, batch);
}
BENCHMARK(vae_conv_inference)->Arg(1)->Arg(128)->UseRealTime()->Unit(benchmark::kMicrosecond);

// ---- the same step derived by hand: no tape, no fusion beyond what Eigen gives -----------------------------------

struct Layer {
    Mat W, b, gW, gb, mW, vW, mb, vb;
    Layer(Index in, Index out, vaelet::Rng& rng) : W(out, in), b(1, out) {
        const double bound = 1.0 / std::sqrt(double(in));
        rng.fill_uniform(W, -bound, bound);
        rng.fill_uniform(b, -bound, bound);
        for (Mat* m : {&gW, &mW, &vW}) m->setZero(out, in);
        for (Mat* m : {&gb, &mb, &vb}) m->setZero(1, out);
    }
    void forward(const Mat& x, Mat& y) const {
        y.noalias() = x * W.transpose();
        y.rowwise() += b.row(0);
    }
    /// g is ∂L/∂y; fills gW, gb and (when dx is given) ∂L/∂x.
    void backward(const Mat& x, const Mat& g, Mat* dx) {
        gW.noalias() = g.transpose() * x;
        gb = g.colwise().sum();
        if (dx) dx->noalias() = g * W;
    }
    static void adam(Mat& p, const Mat& g, Mat& m, Mat& v, double lr, long t) {
        const T b1 = T(0.9), b2 = T(0.999), eps = T(1e-8);
        m.array() = b1 * m.array() + (1 - b1) * g.array();
        v.array() = b2 * v.array() + (1 - b2) * g.array().square();
        const T step = T(lr / (1 - std::pow(0.9, double(t))));
        const T bc2 = T(std::sqrt(1 - std::pow(0.999, double(t))));
        p.array() -= step * m.array() / (v.array().sqrt() / bc2 + eps);
    }
    void update(double lr, long t) {
        adam(W, gW, mW, vW, lr, t);
        adam(b, gb, mb, vb, lr, t);
    }
};

void vae_reference_step(benchmark::State& state) {
    const Index batch = state.range(0);
    vaelet::Rng rng(1);
    Layer fc1(784, 400, rng), fc21(400, 20, rng), fc22(400, 20, rng), fc3(20, 400, rng), fc4(400, 784, rng);
    const Mat x = random_images(batch, 2);
    Mat h1, mu, logvar, eps(batch, 20), z, h3, logits, g_logits, g_h3, g_z, g_mu, g_logvar, g_h1, g_h1b;
    long t = 0;
    for (auto _ : state) {
        // forward
        fc1.forward(x, h1);
        h1 = h1.cwiseMax(T(0));
        fc21.forward(h1, mu);
        fc22.forward(h1, logvar);
        rng.fill_normal(eps);
        const Mat sigma = (T(0.5) * logvar.array()).exp().matrix();
        z = mu + sigma.cwiseProduct(eps);
        fc3.forward(z, h3);
        h3 = h3.cwiseMax(T(0));
        fc4.forward(h3, logits);
        const T n = T(batch);
        const T recon = ((logits.array().max(T(0)) - logits.array() * x.array() + (-logits.array().abs()).exp().log1p()).sum());
        const T kl = T(-0.5) * (T(1) + logvar.array() - mu.array().square() - logvar.array().exp()).sum();
        benchmark::DoNotOptimize((recon + kl) / n);
        // backward of (recon + kl) / n
        g_logits = ((T(1) / (T(1) + (-logits.array()).exp()) - x.array()) / n).matrix();
        fc4.backward(h3, g_logits, &g_h3);
        g_h3 = (h3.array() > T(0)).select(g_h3.array(), T(0)).matrix();
        fc3.backward(z, g_h3, &g_z);
        g_mu = g_z + mu / n;
        g_logvar = (g_z.array() * eps.array() * sigma.array() * T(0.5) + T(0.5) * (logvar.array().exp() - T(1)) / n).matrix();
        fc21.backward(h1, g_mu, &g_h1);
        fc22.backward(h1, g_logvar, &g_h1b);
        g_h1 = (h1.array() > T(0)).select((g_h1 + g_h1b).array(), T(0)).matrix();
        fc1.backward(x, g_h1, nullptr);
        ++t;
        for (Layer* l : {&fc1, &fc21, &fc22, &fc3, &fc4}) l->update(1e-3, t);
    }
    label(state, batch);
}
BENCHMARK(vae_reference_step)->Arg(1)->Arg(16)->Arg(128)->Arg(512)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
