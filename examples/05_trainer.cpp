// examples/05_trainer.cpp — the Trainer: AdamW with decoupled weight decay, a cosine learning-rate schedule, a β
// warm-up, a per-step callback, and early stopping on a validation set.
#include <vaelet/vaelet.hpp>

#include <cstdio>
#include <iostream>

int main() {
    using T = float;
    vaelet::Rng rng(3);
    // 1,200 rows of 20 features in [0, 1]: four prototypes plus noise; 1,000 to train on, 200 to validate.
    vaelet::Matrix<T> data(1200, 20);
    for (vaelet::Index i = 0; i < data.rows(); ++i)
        for (vaelet::Index j = 0; j < data.cols(); ++j)
            data(i, j) = T(j / 5 == i % 4 ? 0.9 : 0.1) + T(0.05 * rng.normal());
    data = data.cwiseMax(T(0)).cwiseMin(T(1));
    const vaelet::Dataset train(data.topRows(1000)), validation(data.bottomRows(200));

    vaelet::VaeConfig config;
    config.input = 20;
    config.hidden = {64};
    config.latent = 3;
    vaelet::Vae<T> vae(config, rng);

    vaelet::TrainOptions options;
    options.epochs = 60;             // at most: early stopping usually ends sooner
    options.batch = 100;
    options.optimizer = "adamw";
    options.lr = 5e-3;
    options.weight_decay = 1e-4;     // decoupled from the gradient (AdamW)
    options.schedule = "cosine";     // lr falls from 5e-3 to min_lr over the 60 epochs
    options.min_lr = 1e-4;
    options.warmup_epochs = 5;       // β rises from 0 to 1 over the first 5 epochs
    vaelet::Trainer<T> trainer(vae, train, options);

    long steps = 0;
    trainer.on_step([&](const vaelet::StepReport&) { ++steps; });
    trainer.on_epoch([](const vaelet::EpochReport& r) {
        std::printf("epoch %2d  train %.3f  validation %.3f nats\n", r.epoch, r.train.loss, r.validation->loss);
        return true;  // go on
    });
    vaelet::EarlyStopping stopping(/*patience=*/4, /*min_delta=*/0.01);
    trainer.on_epoch([&](const vaelet::EpochReport& r) { return stopping(r); });

    const std::vector<vaelet::EpochReport> history = trainer.fit(&validation);
    std::cout << history.size() << " epochs, " << steps << " steps, best validation -ELBO " << stopping.best()
              << " nats, final lr " << trainer.lr() << '\n';
    const bool learned = stopping.best() < history.front().validation->loss - 2;  // the floor here is ~6.5 nats
    return learned && int(history.size()) < options.epochs ? 0 : 1;                // and it stopped early
}
