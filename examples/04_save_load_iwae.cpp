// examples/04_save_load_iwae.cpp — train the ready-made MLP VAE, save it, load it back, and estimate log p(x) by
// importance sampling (the IWAE bound), which tightens towards log p(x) as the number of samples k grows.
#include <vaelet/vaelet.hpp>

#include <cstdio>
#include <iostream>

int main() {
    using T = float;
    vaelet::Rng rng(11);
    // 600 rows of 16 features in [0, 1]: two prototypes plus noise; the last 100 rows are held out.
    vaelet::Matrix<T> data(600, 16);
    for (vaelet::Index i = 0; i < data.rows(); ++i)
        for (vaelet::Index j = 0; j < data.cols(); ++j)
            data(i, j) = T((j < 8) == (i % 2 == 0) ? 0.9 : 0.1) + T(0.05 * rng.normal());
    data = data.cwiseMax(T(0)).cwiseMin(T(1));
    const vaelet::Dataset train(data.topRows(500));
    const vaelet::Matrix<T> test = data.bottomRows(100);

    vaelet::VaeConfig config;  // PyTorch's example MLP, sized for these data
    config.input = 16;
    config.hidden = {32};
    config.latent = 2;
    vaelet::Vae<T> vae(config, rng);
    vaelet::TrainOptions options;
    options.epochs = 15;
    options.batch = 50;
    options.lr = 1e-2;
    vaelet::Trainer<T> trainer(vae, train, options);
    trainer.fit();

    // One file: the weights (safetensors, PyTorch's names) and the architecture; written atomically.
    const std::string path = "example04_model.safetensors";
    vaelet::save_model(path, vae);
    std::unique_ptr<vaelet::Vae<T>> loaded = vaelet::load_model<T>(path);
    std::remove(path.c_str());
    const bool same = loaded->reconstruct(test) == vae.reconstruct(test);
    std::cout << "saved and loaded: " << (same ? "same reconstructions" : "DIFFERENT reconstructions") << '\n';

    // log p(x) ≥ IWAE_k ≥ ELBO (k = 1): the estimate rises with k, per test row, in nats.
    double previous = -1e300;
    bool rising = true;
    for (vaelet::Index k : {1, 10, 100, 1000}) {
        vaelet::Rng sampling(5);
        const double mean = vaelet::estimate_log_likelihood(*loaded, test, k, sampling).mean();
        std::cout << "k = " << k << ":  log p(x) >= " << mean << '\n';
        rising = rising && mean > previous - 0.05;  // up to the estimate's noise
        previous = mean;
    }
    return same && rising ? 0 : 1;
}
