// The trainer, checkpoints and IWAE on a model a user composed themselves, and the trainer's optimizers,
// schedules, callbacks and state (issue: composable models).
#include "../allocation_counter.hpp"
#include "synthetic.hpp"
#include "vaelet/nn/function.hpp"
#include "vaelet/train/checkpoint.hpp"
#include "vaelet/vae/iwae.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

using namespace vaelet;

namespace {

std::string composed_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("vaelet_test_composed_" + name)).string();
}

Var<float> swish(const Var<float>& x) { return x * sigmoid(x); }

/// 64 pixels → 24 (swish) → 12 (softplus) → [μ | log σ²] of 3 dimensions, and back: a model no VaeConfig makes.
std::unique_ptr<Vae<float>> hand_built(Rng& rng) {
    register_function<float>("swish", swish);
    Sequential<float> encoder, decoder;
    encoder.add("in", Linear<float>(64, 24, rng)).add(Function<float>("swish", swish));
    encoder.add("mid", Linear<float>(24, 12, rng)).add(Activation::softplus).add("head", Linear<float>(12, 6, rng));
    decoder.add("in", Linear<float>(3, 24, rng)).add(Function<float>("swish", swish)).add("out", Linear<float>(24, 64, rng));
    return std::make_unique<Vae<float>>(std::move(encoder), std::move(decoder),
                                        Likelihood<float>(LikelihoodKind::bernoulli, 64), /*latent=*/3);
}

VaeConfig small() {
    VaeConfig c;
    c.input = 64;
    c.hidden = {16};
    c.latent = 2;
    return c;
}

TrainOptions options() {
    TrainOptions o;
    o.epochs = 3;
    o.batch = 16;
    o.lr = 3e-3;
    o.seed = 4;
    return o;
}

std::vector<Matrix<float>> weights(Vae<float>& vae) {
    std::vector<Matrix<float>> w;
    for (auto& p : vae.named_parameters()) w.push_back(p.param->value);
    return w;
}

}  // namespace

TEST_CASE("a hand-built model trains with Trainer, resumes bit-identically from a checkpoint, and is scored by IWAE") {
    const Dataset train = testing::synthetic_images(120, 1), test = testing::synthetic_images(40, 2);
    RunConfig config;
    config.model.reset();  // no MLP: the checkpoint's architecture describes the model
    config.train = options();
    config.train.epochs = 6;
    config.train.lr = 1e-2;
    const std::string straight = composed_path("straight"), stopped = composed_path("stopped"), resumed = composed_path("resumed");

    Losses before, after;
    {
        Rng init(7);
        auto vae = hand_built(init);
        Trainer<float> t(*vae, train, config.train);
        before = t.evaluate(test);
        while (t.epoch() < config.train.epochs) t.train_epoch();
        after = t.evaluate(test);
        save_checkpoint(straight, t, {}, config);
    }
    CHECK(after.loss < before.loss - 5);  // it learned
    {
        Rng init(7);
        auto vae = hand_built(init);
        Trainer<float> t(*vae, train, config.train);
        t.train_epoch();
        std::atomic<bool> stop{false};
        int steps = 0;
        t.on_step([&](const StepReport&) { stop = ++steps == 2; });
        t.train_epoch(&stop);
        REQUIRE_FALSE(t.finished());
        save_checkpoint(stopped, t, {}, config);
    }
    {  // a fresh process: the model rebuilt from the file alone, then the run resumed
        auto vae = load_model<float>(stopped);
        CHECK(architecture(*vae).children[0].second.children[1].second.texts.at("name") == "swish");
        Trainer<float> t(*vae, train, read_checkpoint_config(stopped).train);
        load_checkpoint(stopped, t);
        while (t.epoch() < config.train.epochs) t.train_epoch();
        save_checkpoint(resumed, t, {}, config);
    }
    const SafeTensors a = load_safetensors(straight), b = load_safetensors(resumed);
    REQUIRE(a.tensors().size() == b.tensors().size());
    for (std::size_t k = 0; k < a.tensors().size(); ++k) {
        CAPTURE(a.tensors()[k].first);
        CHECK(a.tensors()[k].first == b.tensors()[k].first);
        CHECK(a.tensors()[k].second.bytes == b.tensors()[k].second.bytes);
    }
    CHECK(a.contains("encoder.in.weight"));  // "in.weight" is in both halves, so the names keep their prefixes
    CHECK(a.contains("optim.decoder.out.weight.exp_avg_sq"));

    // IWAE: the 50-sample bound lies above the ELBO (within noise) and both are finite.
    auto vae = load_model<float>(resumed);
    Matrix<float> x(test.size(), 64);
    for (Index i = 0; i < x.rows(); ++i)
        for (Index j = 0; j < 64; ++j) x(i, j) = float(test.image(i)[j]) / 255.0f;
    Rng rng(3);
    const Matrix<double> log_px = estimate_log_likelihood(*vae, x, 50, rng);
    CHECK(log_px.allFinite());
    const double nll = -log_px.mean();
    INFO("test -ELBO " << after.loss << ", IWAE-50 NLL " << nll);
    CHECK(nll < after.loss + 0.5);
    CHECK(nll > after.loss - 10);
    for (const auto& p : {straight, stopped, resumed}) std::filesystem::remove(p);
}

TEST_CASE("the trainer takes SGD with momentum, AdamW, or an optimizer of your own, and a cosine schedule") {
    const Dataset train = testing::synthetic_images(96, 3);
    for (const std::string name : {"sgd", "adamw", "adam"}) {
        CAPTURE(name);
        TrainOptions o = options();
        o.optimizer = name;
        o.lr = name == "sgd" ? 0.05 : 3e-3;
        o.momentum = name == "sgd" ? 0.9 : 0.0;
        o.weight_decay = name == "adamw" ? 0.01 : 0.0;
        o.schedule = "cosine";
        o.min_lr = o.lr / 10;
        Rng init(2);
        VaeConfig c;
        c.input = 64;
        c.hidden = {16};
        c.latent = 2;
        Vae<float> vae(c, init);
        Trainer<float> t(vae, train, o);
        CHECK(t.optimizer().name() == name);
        std::vector<double> lrs;
        t.on_step([&](const StepReport& r) { lrs.push_back(r.lr); });
        const auto history = t.fit();
        REQUIRE(history.size() == 3);
        CHECK(history.back().train.loss < history.front().train.loss);
        REQUIRE(lrs.size() == 18);  // 3 epochs of 6 batches
        CHECK(lrs.front() == doctest::Approx(o.lr));
        for (std::size_t k = 1; k < lrs.size(); ++k) CHECK(lrs[k] < lrs[k - 1]);
        CHECK(lrs.back() == doctest::Approx(cosine_annealing(o.lr, 18, 17, o.min_lr)));
        CHECK(t.optimizer().lr() == doctest::Approx(lrs.back()));
    }

    // An optimizer made by hand: the schedule starts from its learning rate.
    Rng init(2);
    Vae<float> vae(small(), init);
    SgdOptions sgd;
    sgd.lr = 0.02;
    sgd.nesterov = true;
    sgd.momentum = 0.5;
    Trainer<float> t(vae, train, options(), std::make_unique<Sgd<float>>(vae.named_parameters(), sgd));
    std::vector<double> lrs;
    t.on_step([&](const StepReport& r) { lrs.push_back(r.lr); });
    t.set_lr_schedule([](long step) { return 0.02 / double(step + 1); });
    t.train_epoch();
    REQUIRE(lrs.size() == 6);
    CHECK(lrs[0] == doctest::Approx(0.02));
    CHECK(lrs[5] == doctest::Approx(0.02 / 6));

    TrainOptions bad = options();
    bad.optimizer = "rmsprop";
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("optimizer \"rmsprop\""), config_error);
    bad = options();
    bad.momentum = 0.9;
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("momentum is SGD's"), config_error);
    bad = options();
    bad.schedule = "step";
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("schedule"), config_error);
    bad = options();
    bad.objective = "vr";
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("objective \"vr\" is not one of elbo, iwae"),
                         config_error);
    bad = options();
    bad.samples = 5;
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("samples is for the IWAE objective"),
                         config_error);
    bad.objective = "iwae";
    bad.samples = 0;
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("samples must be at least 1, got 0"),
                         config_error);
    bad = options();
    bad.dreg = true;
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("dreg is for the IWAE objective"),
                         config_error);
    bad.objective = "iwae";
    bad.free_bits = 0.5;
    CHECK_THROWS_WITH_AS(Trainer<float>(vae, train, bad), doctest::Contains("free_bits is for the ELBO"), config_error);
}

TEST_CASE("fit evaluates each epoch and stops when an epoch callback says so, and EarlyStopping waits `patience` epochs") {
    EarlyStopping early(2, 0.1);
    const auto report = [](double loss) {
        EpochReport r;
        r.train.loss = loss;
        return r;
    };
    CHECK(early(report(10)));
    CHECK(early(report(9.95)));   // not better by more than 0.1: 1 epoch waited
    CHECK(early(report(9)));      // better: the wait starts again
    CHECK(early(report(9)));
    CHECK_FALSE(early(report(9.5)));  // 2 epochs without improvement
    CHECK(early.best() == 9);
    CHECK_THROWS_AS(EarlyStopping(0), config_error);

    const Dataset train = testing::synthetic_images(64, 3), valid = testing::synthetic_images(32, 4);
    Rng init(2);
    Vae<float> vae(small(), init);
    TrainOptions o = options();
    o.epochs = 10;
    Trainer<float> t(vae, train, o);
    std::vector<int> seen;
    t.on_epoch([&](const EpochReport& r) {
        seen.push_back(r.epoch);
        CHECK(r.validation);
        CHECK(r.validation->loss == doctest::Approx(t.evaluate(valid).loss));
        return r.epoch < 4;
    });
    const auto history = t.fit(&valid);
    CHECK(history.size() == 4);
    CHECK(seen == std::vector<int>{1, 2, 3, 4});
    CHECK(t.epoch() == 4);
}

TEST_CASE("state() and restore(): one value that puts another trainer exactly where the first one is") {
    const Dataset train = testing::synthetic_images(80, 5);
    TrainOptions o = options();
    o.optimizer = "sgd";
    o.momentum = 0.9;
    o.lr = 0.02;
    Rng init_a(3), init_b(3);
    Vae<float> a(small(), init_a), b(small(), init_b);
    Trainer<float> ta(a, train, o), tb(b, train, o);
    std::atomic<bool> stop{false};
    int steps = 0;
    ta.train_epoch();
    ta.on_step([&](const StepReport&) { stop = ++steps == 3; });
    ta.train_epoch(&stop);
    REQUIRE(ta.in_epoch());
    tb.restore(ta.state());
    auto pa = a.named_parameters(), pb = b.named_parameters();
    for (std::size_t k = 0; k < pa.size(); ++k) pb[k].param->value = pa[k].param->value;
    CHECK(tb.step() == ta.step());
    CHECK(tb.in_epoch());
    stop = false;
    steps = -100;
    while (ta.epoch() < o.epochs) ta.train_epoch(&stop);
    while (tb.epoch() < o.epochs) tb.train_epoch();
    CHECK(weights(a) == weights(b));
    CHECK(ta.sums().recon == tb.sums().recon);

    // Another optimizer's state does not fit, and nothing changes.
    Vae<float> c(small(), init_a);
    Trainer<float> tc(c, train, options());  // Adam
    const long before = tc.step();
    CHECK_THROWS_WITH_AS(tc.restore(ta.state()), doctest::Contains("optimizer buffers"), config_error);
    CHECK(tc.step() == before);
}

TEST_CASE("a warmed-up epoch of a composed model through the Trainer makes no heap allocation") {
    const Dataset train = testing::synthetic_images(96, 6);  // 6 batches of 16: every step has the same shapes
    for (const std::string optimizer : {"adam", "sgd"}) {
        CAPTURE(optimizer);
        Rng init(5);
        auto vae = hand_built(init);
        TrainOptions o = options();
        o.optimizer = optimizer;
        o.lr = 1e-3;
        o.momentum = optimizer == "sgd" ? 0.9 : 0.0;
        o.free_bits = 0.05;
        o.clip_norm = 100;
        o.schedule = "cosine";
        Trainer<float> t(*vae, train, o);
        long seen = 0;
        t.on_step([&](const StepReport& r) { seen = r.step; });
        testing::allocations = 0;
        testing::counting = true;  // the cold first epoch must allocate: the counter sees the trainer's allocations
        t.train_epoch();
        testing::counting = false;
        CHECK(testing::allocations.load() > 0);
        t.train_epoch();
        testing::allocations = 0;
        testing::counting = true;
        t.train_epoch();
        testing::counting = false;
        CHECK(seen == 18);
        CHECK(testing::allocations.load() == 0);
    }
}

TEST_CASE("β-TCVAE through the Trainer: each epoch's losses carry the KL's split, which adds up to the KL") {
    const Dataset train = testing::synthetic_images(96, 1);
    Rng init(2);
    Vae<float> vae(small(), init);
    TrainOptions o = options();
    o.objective = "tcvae";
    o.beta = 4;
    o.warmup_epochs = 1;
    Trainer<float> t(vae, train, o);
    std::vector<Losses> epochs;
    for (int e = 0; e < 3; ++e) epochs.push_back(t.train_epoch());
    for (const Losses& l : epochs) {
        REQUIRE(l.kl_split.has_value());
        const KlSplit& k = *l.kl_split;
        CHECK(k.mutual_information + k.total_correlation + k.dimension_kl == doctest::Approx(l.kl).epsilon(1e-4));
        CHECK(k.total_correlation > -1.0);  // an estimate near or above 0, not a sign error of log(N·M)
    }
    CHECK(epochs.back().loss < epochs.front().loss);
    o.objective = "elbo";
    CHECK_FALSE(Trainer<float>(vae, train, o).train_epoch().kl_split.has_value());  // only β-TCVAE splits

    o.objective = "tcvae";
    CHECK_THROWS_WITH_AS(o.validate(2), doctest::Contains("objective tcvae estimates the aggregate posterior"),
                         config_error);
    o.free_bits = 0.5;
    CHECK_THROWS_WITH_AS(o.validate(), doctest::Contains("the tcvae objective has no per-dimension KL"), config_error);
}
