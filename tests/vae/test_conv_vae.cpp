// The conv VAE of vae/conv_vae.hpp: PyTorch's names and shapes, its whole loss gradient-checked, and the tools that
// take any Vae (Trainer, checkpoints, model files, IWAE, scoring) on a small one of 1×8×8 images.
#include "../temp_dir.hpp"
#include "../train/synthetic.hpp"
#include "vaelet/core/gradcheck.hpp"
#include "vaelet/core/one_hot.hpp"
#include "vaelet/train/checkpoint.hpp"
#include "vaelet/vae/conv_vae.hpp"
#include "vaelet/vae/iwae.hpp"
#include "vaelet/vae/score.hpp"
#include "whole_gradient.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <utility>
#include <vector>

using namespace vaelet;
using vaelet::testing::TempDir;

namespace {

/// 1×8×8 images → 2×4×4 → 3×2×2 → 5 → latent 2, and back: the default model's layers at a size a test can afford.
ConvVaeConfig tiny() {
    ConvVaeConfig c;
    c.height = c.width = 8;
    c.conv_channels = {2, 3};
    c.hidden = 5;
    c.latent = 2;
    return c;
}

/// The dataset's images as rows in [0, 1].
Matrix<float> pixels(const Dataset& d) {
    Matrix<float> x(d.size(), 64);
    for (Index i = 0; i < x.rows(); ++i)
        for (Index j = 0; j < 64; ++j) x(i, j) = float(d.image(i)[j]) / 255.0f;
    return x;
}

TrainOptions options() {
    TrainOptions o;
    o.epochs = 10;
    o.batch = 16;
    o.lr = 1e-2;
    o.seed = 4;
    return o;
}

}  // namespace

TEST_CASE("the conv VAE's parameters carry the names and shapes of PyTorch's ConvVAE state_dict") {
    Rng rng(1);
    Vae<float> vae(conv_vae_parts<float>(ConvVaeConfig{}, rng));
    using Shape = std::vector<Index>;
    const std::vector<std::pair<std::string, Shape>> expected = {
        {"encoder.conv1.weight", {32, 1, 4, 4}},    {"encoder.conv1.bias", {32}},
        {"encoder.conv2.weight", {64, 32, 4, 4}},   {"encoder.conv2.bias", {64}},
        {"encoder.fc1.weight", {256, 3136}},        {"encoder.fc1.bias", {256}},
        {"encoder.fc21.weight", {20, 256}},         {"encoder.fc21.bias", {20}},
        {"encoder.fc22.weight", {20, 256}},         {"encoder.fc22.bias", {20}},
        {"decoder.fc3.weight", {256, 20}},          {"decoder.fc3.bias", {256}},
        {"decoder.fc4.weight", {3136, 256}},        {"decoder.fc4.bias", {3136}},
        {"decoder.deconv1.weight", {64, 32, 4, 4}}, {"decoder.deconv1.bias", {32}},
        {"decoder.deconv2.weight", {32, 1, 4, 4}},  {"decoder.deconv2.bias", {1}}};
    const auto params = vae.named_parameters();
    REQUIRE(params.size() == expected.size());
    SafeTensors st;  // the shapes as a file (and PyTorch) holds them
    save_parameters(st, params);
    Index count = 0;
    for (std::size_t k = 0; k < expected.size(); ++k) {
        CAPTURE(expected[k].first);
        CHECK(params[k].name == expected[k].first);
        CHECK(st.at(expected[k].first).shape ==
              std::vector<std::int64_t>(expected[k].second.begin(), expected[k].second.end()));
        Index numel = 1;
        for (Index d : expected[k].second) numel *= d;
        count += numel;
    }
    CHECK(vae.parameter_count() == count);  // 1,690,005 as PyTorch counts it
    CHECK(vae.input() == 784);
    CHECK(vae.latent() == 20);

    Matrix<float> x(2, 784);
    rng.fill_uniform(x, 0, 1);
    Matrix<float> mu, logvar;
    vae.encode(x, mu, logvar);
    CHECK(mu.rows() == 2);
    CHECK(mu.cols() == 20);
    CHECK(logvar.cols() == 20);
    const Matrix<float> x_hat = vae.reconstruct(x);
    CHECK(x_hat.rows() == 2);
    CHECK(x_hat.cols() == 784);
    CHECK((x_hat.array() > 0).all());  // Bernoulli means, σ(logits)
    CHECK((x_hat.array() < 1).all());
}

TEST_CASE("the conv VAE's sizes follow its config, and a bad config names the field") {
    ConvVaeConfig c = tiny();
    c.channels = 3;
    c.height = 16;
    c.conv_channels = {4, 6, 8};
    Rng rng(2);
    Vae<double> vae(conv_vae_parts<double>(c, rng));
    CHECK(vae.input() == 3 * 16 * 8);
    CHECK(c.code_size() == 8 * 2 * 1);
    const auto params = vae.named_parameters();
    SafeTensors st;
    save_parameters(st, params);
    CHECK(params[4].name == "encoder.conv3.weight");
    CHECK(st.at("encoder.conv3.weight").shape == std::vector<std::int64_t>{8, 6, 4, 4});
    CHECK(params.back().name == "decoder.deconv3.bias");
    CHECK(st.at("decoder.deconv3.bias").shape == std::vector<std::int64_t>{3});
    CHECK(vae.generate(2, rng).cols() == 3 * 16 * 8);

    ConvVaeConfig odd = tiny();
    odd.width = 6;  // 6 → 3 → 1.5: two convolutions need a multiple of 4
    CHECK_THROWS_WITH_AS(conv_vae_parts<float>(odd, rng), doctest::Contains("width 6 must be divisible by 2"),
                         config_error);
    ConvVaeConfig none = tiny();
    none.conv_channels.clear();
    CHECK_THROWS_WITH_AS(conv_vae_parts<float>(none, rng), doctest::Contains("conv_channels"), config_error);
    ConvVaeConfig flat = tiny();
    flat.hidden = 0;
    CHECK_THROWS_WITH_AS(conv_vae_parts<float>(flat, rng), doctest::Contains("hidden must be at least 1"),
                         config_error);
}

TEST_CASE("the conv VAE's whole ELBO gradient checks against every parameter, in double") {
    Rng init(3);
    Vae<double> vae(conv_vae_parts<double>(tiny(), init));
    Matrix<double> x(3, 64);
    init.fill_uniform(x, 0.0, 1.0);
    auto params = vae.named_parameters();
    auto f = [&](Tape<double>& tape) {
        Rng noise(11);  // the same ε every evaluation
        return elbo(vae, tape, tape.constant(x), noise).loss;
    };
    const auto report = gradcheck_parameters<double>(f, params);
    INFO(report.describe() << " in " << (report.input >= 0 ? params[std::size_t(report.input)].name : ""));
    CHECK(report.ok);
    CHECK(report.entries_checked == vae.parameter_count());
}

TEST_CASE("the conv VAE trains with the Trainer and resumes bit-identically from a checkpoint") {
    const Dataset train = vaelet::testing::synthetic_images(96, 1), test = vaelet::testing::synthetic_images(32, 2);
    TempDir dir;
    RunConfig config;
    config.model.reset();  // no MLP: the checkpoint's architecture describes the model
    config.train = options();
    const std::string straight = dir / "straight.safetensors", stopped = dir / "stopped.safetensors",
                      resumed = dir / "resumed.safetensors";
    Losses before, after;
    {
        Rng init(7);
        Vae<float> vae(conv_vae_parts<float>(tiny(), init));
        Trainer<float> t(vae, train, config.train);
        before = t.evaluate(test);
        while (t.epoch() < config.train.epochs) t.train_epoch();
        after = t.evaluate(test);
        save_checkpoint(straight, t, {}, config);
    }
    INFO("test loss " << before.loss << " → " << after.loss);
    CHECK(after.loss < before.loss - 2);  // 44.0 → 40.1 here; pixel noise puts the floor near 23
    {
        Rng init(7);
        Vae<float> vae(conv_vae_parts<float>(tiny(), init));
        Trainer<float> t(vae, train, config.train);
        t.train_epoch();
        std::atomic<bool> stop{false};
        int steps = 0;
        t.on_step([&](const StepReport&) { stop = ++steps == 2; });
        t.train_epoch(&stop);
        REQUIRE_FALSE(t.finished());
        save_checkpoint(stopped, t, {}, config);
    }
    {  // as a fresh process would: the model rebuilt from the file alone, then the run resumed
        auto vae = load_model<float>(stopped);
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
    CHECK(a.contains("deconv1.weight"));  // the names are unique without encoder./decoder.: PyTorch's state_dict
    CHECK(a.at("deconv1.weight").shape == std::vector<std::int64_t>{3, 2, 4, 4});

    // IWAE and scoring take it as any Vae: the 20-sample bound lies above the ELBO (within noise).
    auto vae = load_model<float>(resumed);
    const Matrix<float> x = pixels(test);
    Rng rng(3);
    const Matrix<double> log_px = estimate_log_likelihood(*vae, x, 20, rng);
    CHECK(log_px.allFinite());
    CHECK(-log_px.mean() < after.loss + 0.5);
    const ExampleScores s = score_examples(*vae, x, rng);
    CHECK(s.neg_elbo.rows() == x.rows());
    CHECK(s.neg_elbo.allFinite());
    CHECK(s.neg_elbo.mean() == doctest::Approx(after.loss).epsilon(0.05));
}

TEST_CASE("the conv VAE goes through save_model and load_model bit for bit") {
    TempDir dir;
    Rng rng(5);
    Vae<float> vae(conv_vae_parts<float>(tiny(), rng));
    const std::string path = dir / "conv.safetensors";
    save_model(path, vae);
    const SafeTensors st = load_safetensors(path);
    CHECK(st.contains("conv1.weight"));
    CHECK(st.at("conv1.weight").shape == std::vector<std::int64_t>{2, 1, 4, 4});

    auto loaded = load_model<float>(path);
    CHECK(architecture(*loaded) == architecture(vae));
    const auto a = vae.named_parameters(), b = loaded->named_parameters();
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
        CHECK(a[k].name == b[k].name);
        CHECK(a[k].param->value == b[k].param->value);
    }
    Matrix<float> x(4, 64);
    rng.fill_uniform(x, 0, 1);
    CHECK(loaded->reconstruct(x) == vae.reconstruct(x));
    Matrix<float> mu_a, logvar_a, mu_b, logvar_b;
    vae.encode(x, mu_a, logvar_a);
    loaded->encode(x, mu_b, logvar_b);
    CHECK(mu_a == mu_b);
    CHECK(logvar_a == logvar_b);
}

TEST_CASE("PyTorch's ConvVAE weights load into the conv VAE by their state_dict names and compute PyTorch's outputs") {
    // fixtures/make_conv_vae_fixture.py: bench/pytorch_vae.py's ConvVAE(side=8, conv_channels=(2, 3), hidden=5,
    // latent=2) in float64, its state_dict, a fixed x and ε, and what PyTorch computed from them.
    const SafeTensors st = load_safetensors(std::string(VAELET_TEST_SOURCE_DIR) + "/vae/fixtures/conv_vae.safetensors");
    Rng rng(1);
    Vae<double> vae(conv_vae_parts<double>(tiny(), rng));
    ParameterList<double> state_dict = vae.named_parameters();  // under PyTorch's names: no encoder./decoder.
    for (auto& p : state_dict) p.name = p.name.substr(p.name.find('.') + 1);
    load_parameters(st, state_dict);

    const auto get = [&](const char* name) { return st.get_matrix<double>(name); };
    const Matrix<double> x = get("x"), eps = get("eps");
    Tape<double> tape;
    const Posterior<double> q = vae.encode(tape, tape.constant(x));
    CHECK((q.mu.value() - get("mu")).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((q.logvar.value() - get("logvar")).cwiseAbs().maxCoeff() < 1e-12);
    const Matrix<double> z = q.mu.value().array() + (0.5 * q.logvar.value().array()).exp() * eps.array();
    const Var<double> logits = vae.decode(tape, tape.constant(z));
    CHECK((logits.value() - get("logits")).cwiseAbs().maxCoeff() < 1e-12);
    const Var<double> loss = (sum(bce_with_logits(logits, tape.constant(x))) + sum(gaussian_kl(q.mu, q.logvar))) /
                             double(x.rows());
    CHECK(loss.item() == doctest::Approx(get("loss")(0, 0)).epsilon(1e-12));

    // The other way: vaelet's model file holds exactly that state_dict's names and shapes, so PyTorch's
    // load_state_dict takes it as it is.
    TempDir dir;
    save_model(dir / "conv.safetensors", vae);
    const SafeTensors saved = load_safetensors(dir / "conv.safetensors");
    std::size_t weights = 0;
    for (const auto& [name, tensor] : st.tensors()) {
        if (name.find('.') == std::string::npos) continue;  // x, eps, …: not weights
        ++weights;
        CAPTURE(name);
        REQUIRE(saved.contains(name));
        CHECK(saved.at(name).shape == tensor.shape);
        CHECK(saved.get_matrix<double>(name) == st.get_matrix<double>(name));
    }
    CHECK(weights == saved.tensors().size());
}

TEST_CASE("a conditional conv VAE feeds the one-hot label past the convolutions into fc1 and with z into fc3") {
    ConvVaeConfig c = tiny();
    c.conditions = 3;
    Rng init(6);
    Vae<double> vae(conv_vae_parts<double>(c, init));
    CHECK(vae.conditions() == 3);
    SafeTensors st;
    save_parameters(st, file_parameters(vae));
    CHECK(st.at("fc1.weight").shape == std::vector<std::int64_t>{5, 3 * 2 * 2 + 3});
    CHECK(st.at("fc3.weight").shape == std::vector<std::int64_t>{5, 2 + 3});
    CHECK(st.at("conv1.weight").shape == std::vector<std::int64_t>{2, 1, 4, 4});  // the image alone

    Matrix<double> x(3, 64);
    init.fill_uniform(x, 0.0, 1.0);
    const Matrix<double> labels = one_hot<double>(std::vector<int>{0, 2, 1}, 3);
    auto params = vae.named_parameters();
    const auto report = gradcheck_parameters<double>(
        [&](Tape<double>& tape) {
            Rng noise(11);
            return elbo(vae, tape, tape.constant(x), noise, {}, tape.constant(labels)).loss;
        },
        params);
    INFO(report.describe());
    CHECK(report.ok);

    // The label changes what is generated; the same label and seed give the same images.
    Rng a(1), b(1), d(1);
    const Matrix<double> zeros = vae.generate(2, a, one_hot<double>(std::vector<int>{0, 0}, 3));
    CHECK(vae.generate(2, b, one_hot<double>(std::vector<int>{0, 0}, 3)) == zeros);
    CHECK(vae.generate(2, d, one_hot<double>(std::vector<int>{2, 2}, 3)) != zeros);
    CHECK_THROWS_AS(vae.reconstruct(x), config_error);  // a conditional model needs its condition

    // The architecture rebuilds it: BypassTail is a built-in module type.
    TempDir dir;
    save_model(dir / "cond.safetensors", vae);
    auto loaded = load_model<double>(dir / "cond.safetensors");
    CHECK(loaded->reconstruct(x, labels) == vae.reconstruct(x, labels));
}

TEST_CASE("a conv VAE's state_dict alone rebuilds the model: its sizes read off the tensors, prefixed or not") {
    ConvVaeConfig c = tiny();
    c.channels = 2;
    c.height = c.width = 16;
    c.conv_channels = {3, 4, 5};
    c.conditions = 2;
    c.likelihood = LikelihoodKind::gaussian_learned;
    Rng init(8);
    Vae<float> vae(conv_vae_parts<float>(c, init));
    Matrix<float> x(2, vae.input());
    init.fill_uniform(x, 0.0f, 1.0f);
    const Matrix<float> labels = one_hot<float>(std::vector<int>{1, 0}, 2);
    TempDir dir;
    for (const bool prefixed : {false, true}) {
        CAPTURE(prefixed);
        SafeTensors st;  // a bare state_dict: no metadata at all
        save_parameters(st, prefixed ? vae.named_parameters() : file_parameters(vae));
        const std::string path = dir / "state_dict.safetensors";
        save_safetensors(path, st);
        auto loaded = load_model<float>(path);
        CHECK(architecture(*loaded) == architecture(vae));
        CHECK(loaded->reconstruct(x, labels) == vae.reconstruct(x, labels));
    }
    CHECK_THROWS_WITH_AS(load_model<float>(dir / "state_dict.safetensors", VaeConfig{}),
                         doctest::Contains("holds a conv VAE"), config_error);

    // A state_dict whose fc1 takes no square code of the last convolution's channels is an error naming fc1.
    SafeTensors odd;
    ParameterList<float> but_fc1 = file_parameters(vae);
    but_fc1.erase(std::find_if(but_fc1.begin(), but_fc1.end(), [](const auto& p) { return p.name == "fc1.weight"; }));
    save_parameters(odd, but_fc1);
    odd.put_matrix("fc1.weight", Matrix<float>::Zero(5, 6 * 5 + 2));  // 6 cells of 5 channels: no square
    save_safetensors(dir / "odd.safetensors", odd);
    CHECK_THROWS_WITH_AS(load_model<float>(dir / "odd.safetensors"), doctest::Contains("no square code"), io_error);
}

TEST_CASE("a conv VAE config goes to JSON and back, and the weights of a conv architecture count toward its size") {
    ConvVaeConfig c = tiny();
    c.conditions = 4;
    c.likelihood = LikelihoodKind::gaussian_fixed;
    c.sigma = 0.5;
    const ConvVaeConfig back = conv_vae_config_from_json(to_json(c), "test");
    CHECK(back.conv_channels == c.conv_channels);
    CHECK(back.conditions == 4);
    CHECK(back.likelihood == LikelihoodKind::gaussian_fixed);
    CHECK(back.sigma == 0.5);
    CHECK(to_json(back) == to_json(c));
    nlohmann::json bad = to_json(c);
    bad["height"] = 6;
    CHECK_THROWS_WITH_AS(conv_vae_config_from_json(bad, "run.safetensors"),
                         doctest::Contains("run.safetensors: conv VAE config: height 6"), io_error);
    bad.erase("latent");
    CHECK_THROWS_WITH_AS(conv_vae_config_from_json(bad, "run.safetensors"), doctest::Contains("conv.latent"), io_error);

    Rng rng(1);
    Vae<float> vae(conv_vae_parts<float>(ConvVaeConfig{}, rng));
    double biases = 0;
    for (const auto& p : vae.named_parameters())
        if (p.name.size() > 5 && p.name.compare(p.name.size() - 5, 5, ".bias") == 0) biases += double(p.param->size());
    CHECK(detail::min_weights(architecture(vae)) == double(vae.parameter_count()) - biases);
}

TEST_CASE("the conv VAE takes the model family's parts: a VampPrior and a flow posterior, checked end to end and saved") {
    TempDir dir;
    ConvVaeConfig c = tiny();
    c.prior = "vamp";
    c.pseudo_inputs = 3;
    c.flow_steps = 1;
    c.flow_hidden = 4;
    Rng rng(6);
    Vae<double> vae(conv_vae_parts<double>(c, rng));
    CHECK(vae.flow() != nullptr);
    CHECK(dynamic_cast<VampPrior<double>*>(&vae.prior()) != nullptr);
    Matrix<double> x(2, 64);
    rng.fill_uniform(x, 0.0, 1.0);
    testing::check_whole_gradient<double>(vae, [&](Tape<double>& tape) {
        Rng noise(3);
        return iwae(vae, tape, tape.constant(x), noise, {2}).loss;
    }, "conv VAE, VampPrior, IAF, IWAE-2");
    save_model(dir / "conv_family.safetensors", vae);
    auto loaded = load_model<double>(dir / "conv_family.safetensors");
    CHECK(architecture(*loaded) == architecture(vae));
    CHECK(loaded->reconstruct(x) == vae.reconstruct(x));
}
