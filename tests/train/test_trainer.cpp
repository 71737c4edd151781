#include "synthetic.hpp"
#include "vaelet/train/trainer.hpp"

#include <doctest/doctest.h>

using namespace vaelet;

namespace {

VaeConfig trainer_config() {
    VaeConfig c;
    c.input = 64;
    c.hidden = {32};
    c.latent = 2;
    return c;
}

TrainOptions trainer_options() {
    TrainOptions o;
    o.epochs = 8;
    o.batch = 32;
    o.lr = 3e-3;
    o.seed = 5;
    return o;
}

}  // namespace

TEST_CASE("a small VAE learns synthetic images, and the same seed gives a bit-identical run") {
    const Dataset train = testing::synthetic_images(800, 1), test = testing::synthetic_images(200, 2);
    auto run = [&](std::vector<Matrix<float>>& weights) {
        Rng init(trainer_options().seed);
        Vae<float> vae(trainer_config(), init);
        Trainer<float> trainer(vae, train, trainer_options());
        const Losses before = trainer.evaluate(test);
        while (trainer.epoch() < trainer_options().epochs) trainer.train_epoch();
        const Losses after = trainer.evaluate(test);
        for (auto& p : vae.named_parameters()) weights.push_back(p.param->value);
        return std::make_pair(before, after);
    };
    std::vector<Matrix<float>> first, second;
    const auto losses = run(first);  // not a structured binding: clang 14 cannot capture one in INFO's lambda
    const Losses& before = losses.first;
    const Losses& after = losses.second;
    run(second);
    INFO("test -ELBO before " << before.loss << ", after " << after.loss << " (recon " << after.recon << ", kl "
                              << after.kl << ")");
    // 64 pixels near 0.1 or 0.86 with noise: a model that knows the class pattern needs well under 30 nats per
    // image; the untrained model pays about 64·log 2 ≈ 44.
    CHECK(before.loss > 40.0);
    CHECK(after.loss < 30.0);
    CHECK(after.kl > 0.5);  // the latent space is in use
    REQUIRE(first.size() == second.size());
    for (std::size_t k = 0; k < first.size(); ++k) CHECK(first[k] == second[k]);
}

TEST_CASE("choose_threads: the trainer times its steps, runs each on one thread or the most, and still learns") {
    const Dataset train = testing::synthetic_images(800, 1), test = testing::synthetic_images(200, 2);
    Rng init(trainer_options().seed);
    Vae<float> vae(trainer_config(), init);
    Trainer<float> trainer(vae, train, trainer_options());
    const ThreadChooser& chooser = trainer.choose_threads(2);
    CHECK(chooser.choosing() == threads_available);
    std::vector<int> counts;
    trainer.on_step([&](const StepReport&) { counts.push_back(threads()); });
    while (trainer.epoch() < trainer_options().epochs) trainer.train_epoch();
    CHECK(trainer.evaluate(test).loss < 30.0);  // as the test above, whatever counts it chose
    REQUIRE(counts.size() == 200);                // 8 epochs of 25 steps
    for (const int n : counts) CHECK((n == 1 || (threads_available && n == 2)));
    CHECK(counts.back() == chooser.threads());
    set_threads(1);
}

TEST_CASE("evaluate gives the same figure in any batch size, on the trainer's tape, and leaves training unchanged") {
    const Dataset train = testing::synthetic_images(96, 1), test = testing::synthetic_images(50, 2);
    Rng init(trainer_options().seed);
    Vae<float> vae(trainer_config(), init);
    Trainer<float> trainer(vae, train, trainer_options());
    trainer.train_epoch();
    // The noise is drawn row after row whatever the batches, so only the float sums' order differs.
    const Losses by_training_batch = trainer.evaluate(test), by_7 = trainer.evaluate(test, 12345, 7),
                 all_at_once = trainer.evaluate(test, 12345, 1000);
    CHECK(by_7.loss == doctest::Approx(by_training_batch.loss).epsilon(1e-5));
    CHECK(all_at_once.loss == doctest::Approx(by_training_batch.loss).epsilon(1e-5));
    CHECK(trainer.evaluate(test, 1).loss != by_training_batch.loss);  // another seed, other noise
    CHECK_THROWS_WITH_AS(trainer.evaluate(test, 12345, -1), doctest::Contains("batch must be 0"), config_error);

    // Evaluating between epochs does not move the run: same weights as a run that never evaluated.
    Rng init2(trainer_options().seed);
    Vae<float> twin(trainer_config(), init2);
    Trainer<float> quiet(twin, train, trainer_options());
    quiet.train_epoch();
    trainer.train_epoch();
    quiet.train_epoch();
    const auto a = vae.named_parameters(), b = twin.named_parameters();
    for (std::size_t k = 0; k < a.size(); ++k) CHECK(a[k].param->value == b[k].param->value);
}

TEST_CASE("β warm-up rises linearly per step and KL-free training errors are caught") {
    const Dataset train = testing::synthetic_images(64, 3);
    Rng init(1);
    Vae<float> vae(trainer_config(), init);
    TrainOptions o = trainer_options();
    o.warmup_epochs = 2;
    o.beta = 0.5;
    Trainer<float> trainer(vae, train, o);  // 2 batches per epoch, so warm-up lasts 4 steps
    CHECK(trainer.beta() == doctest::Approx(0.0));
    trainer.train_epoch();
    CHECK(trainer.beta() == doctest::Approx(0.25));
    trainer.train_epoch();
    CHECK(trainer.beta() == doctest::Approx(0.5));
    trainer.train_epoch();
    CHECK(trainer.beta() == doctest::Approx(0.5));

    TrainOptions bad = trainer_options();
    bad.batch = 0;
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("batch must be at least 1"), config_error);
    const Dataset wrong = testing::synthetic_images(10, 1).head(10);
    VaeConfig other = trainer_config();
    other.input = 100;
    Rng r(1);
    Vae<float> mismatched(other, r);
    CHECK_THROWS_WITH_AS(Trainer<float>(mismatched, train, trainer_options()), doctest::Contains("features"), shape_error);
}

TEST_CASE("a non-finite loss stops training with the step and op named, or skips the batch when asked") {
    const Dataset train = testing::synthetic_images(64, 3);
    Rng init(1);
    Vae<float> vae(trainer_config(), init);
    vae.named_parameters()[0].param->value(0, 0) = std::numeric_limits<float>::quiet_NaN();
    Trainer<float> strict(vae, train, trainer_options());
    CHECK_THROWS_WITH_AS(strict.train_epoch(), doctest::Contains("step 1"), numeric_error);
    CHECK_THROWS_WITH_AS(strict.train_epoch(), doctest::Contains("encoder.fc1.weight"), numeric_error);

    TrainOptions lenient = trainer_options();
    lenient.skip_non_finite = true;
    Trainer<float> skipping(vae, train, lenient);
    skipping.train_epoch();
    CHECK(skipping.finished());
    CHECK(skipping.sums().skipped_batches == 2);
    CHECK(skipping.step() == 0);
}
