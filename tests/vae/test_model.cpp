#include "vaelet/optim/adam.hpp"
#include "vaelet/vae/architecture.hpp"
#include "vaelet/vae/elbo.hpp"
#include "vaelet/vae/model.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using namespace vaelet;

TEST_CASE("the 784-400-20 VAE's parameters carry PyTorch's example names and shapes") {
    Rng rng(1);
    Vae<float> vae(VaeConfig{}, rng);
    const std::vector<std::pair<std::string, std::pair<Index, Index>>> expected = {
        {"encoder.fc1.weight", {400, 784}}, {"encoder.fc1.bias", {1, 400}},
        {"encoder.fc21.weight", {20, 400}}, {"encoder.fc21.bias", {1, 20}},
        {"encoder.fc22.weight", {20, 400}}, {"encoder.fc22.bias", {1, 20}},
        {"decoder.fc3.weight", {400, 20}},  {"decoder.fc3.bias", {1, 400}},
        {"decoder.fc4.weight", {784, 400}}, {"decoder.fc4.bias", {1, 784}}};
    auto params = vae.named_parameters();
    REQUIRE(params.size() == expected.size());
    for (std::size_t k = 0; k < expected.size(); ++k) {
        CHECK(params[k].name == expected[k].first);
        CHECK(params[k].param->value.rows() == expected[k].second.first);
        CHECK(params[k].param->value.cols() == expected[k].second.second);
    }
    CHECK(vae.parameter_count() == 784 * 400 + 400 + 2 * (400 * 20 + 20) + 20 * 400 + 400 + 400 * 784 + 784);
}

TEST_CASE("deeper trunks, learned sigma and conditions add the parameters they need") {
    Rng rng(1);
    VaeConfig config;
    config.input = 10;
    config.hidden = {8, 6};
    config.latent = 2;
    config.likelihood = LikelihoodKind::gaussian_learned_per_dim;
    config.conditions = 3;
    Vae<double> vae(config, rng);
    std::vector<std::string> names;
    for (auto& p : vae.named_parameters()) names.push_back(p.name);
    const std::vector<std::string> expected = {
        "encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc1_2.weight", "encoder.fc1_2.bias",
        "encoder.fc21.weight", "encoder.fc21.bias", "encoder.fc22.weight", "encoder.fc22.bias",
        "decoder.fc3.weight", "decoder.fc3.bias", "decoder.fc3_2.weight", "decoder.fc3_2.bias",
        "decoder.fc4.weight", "decoder.fc4.bias", "decoder.log_sigma"};
    CHECK(names == expected);
    auto params = vae.named_parameters();
    CHECK(params[0].param->value.cols() == 13);   // 10 features + 3 condition columns
    CHECK(params[8].param->value.cols() == 5);    // 2 latents + 3 condition columns
    CHECK(params[8].param->value.rows() == 6);    // the decoder mirrors the encoder: 6 then 8
    CHECK(params[14].param->value.cols() == 10);

    Matrix<double> x = Matrix<double>::Random(4, 10);
    std::vector<int> labels = {0, 2, 1, 2};
    Matrix<double> c = one_hot<double>(labels, 3);
    CHECK(vae.reconstruct(x, c).rows() == 4);
    Matrix<double> c5 = one_hot<double>(std::vector<int>{0, 1, 2, 0, 1}, 3);
    CHECK(vae.generate(5, rng, c5).rows() == 5);
    CHECK_THROWS_WITH_AS(vae.generate(5, rng), doctest::Contains("condition"), config_error);
}

TEST_CASE("bad configurations name the field") {
    Rng rng(1);
    VaeConfig config;
    config.latent = 0;
    CHECK_THROWS_WITH_AS(Vae<float>(config, rng), doctest::Contains("latent"), config_error);
    config = VaeConfig{};
    config.hidden = {400, 0};
    CHECK_THROWS_WITH_AS(Vae<float>(config, rng), doctest::Contains("hidden"), config_error);
}

TEST_CASE_TEMPLATE("evaluation helpers: encode, decode, reconstruct with μ or a sample, generate", T, float, double) {
    Rng rng(5);
    VaeConfig config;
    config.input = 6;
    config.hidden = {5};
    config.latent = 2;
    Vae<T> vae(config, rng);
    Matrix<T> x = Matrix<T>::Random(3, 6).cwiseAbs();
    Matrix<T> mu, logvar;
    vae.encode(x, mu, logvar);
    CHECK(mu.rows() == 3);
    CHECK(logvar.cols() == 2);
    const Matrix<T> through_mu = vae.decode(mu);
    CHECK(vae.reconstruct(x) == through_mu);                  // deterministic through μ
    CHECK(through_mu.minCoeff() > T(0));
    CHECK(through_mu.maxCoeff() < T(1));                      // Bernoulli means
    Rng sample_rng(9);
    CHECK(vae.reconstruct(x, std::nullopt, &sample_rng) != through_mu);
    CHECK(vae.generate(4, rng).rows() == 4);
}

namespace {

/// The MLP VAE as the library computed it before models were composed of modules, written out with ops: the same
/// layers, initialised in the same order, the same forward pass and loss.
template <class T>
struct LonghandVae {
    Linear<T> fc1, fc21, fc22, fc3, fc4;
    LonghandVae(Index input, Index hidden, Index latent, Rng& rng)
        : fc1(input, hidden, rng), fc21(hidden, latent, rng), fc22(hidden, latent, rng), fc3(latent, hidden, rng),
          fc4(hidden, input, rng) {}

    ParameterList<T> named_parameters() {
        ParameterList<T> list;
        for (auto [name, layer] : {std::pair{"fc1", &fc1}, {"fc21", &fc21}, {"fc22", &fc22}, {"fc3", &fc3}, {"fc4", &fc4}})
            layer->collect_parameters(list, std::string(name) + ".");
        return list;
    }

    Var<T> loss(Tape<T>& tape, const Var<T>& x, Rng& rng, double free_bits) {
        const Var<T> h = relu(fc1(tape, x));
        const Var<T> mu = fc21(tape, h), logvar = fc22(tape, h);
        const Var<T> z = reparameterize(mu, logvar, rng);
        const Var<T> recon = -(-bce_with_logits_per_row(fc4(tape, relu(fc3(tape, z))), x));
        const Var<T> kl = gaussian_kl(mu, logvar);
        const Var<T> kl_term = free_bits > 0 ? sum(clamp_min(mean_per_col(kl), T(free_bits))) : sum(kl) / T(kl.rows());
        return mean(recon) + kl_term * T(1);
    }
};

}  // namespace

TEST_CASE_TEMPLATE("the composed MLP VAE of a VaeConfig trains bit-identically to the VAE written out with ops", T,
                   float, double) {
    for (const double free_bits : {0.0, 0.3}) {
        CAPTURE(free_bits);
        VaeConfig config;
        config.input = 12;
        config.hidden = {7};
        config.latent = 3;
        Rng init_a(11), init_b(11);
        Vae<T> composed(config, init_a);
        LonghandVae<T> longhand(12, 7, 3, init_b);
        auto params_a = composed.named_parameters();
        auto params_b = longhand.named_parameters();
        REQUIRE(params_a.size() == params_b.size());
        for (std::size_t k = 0; k < params_a.size(); ++k) CHECK(params_a[k].param->value == params_b[k].param->value);

        Adam<T> adam_a(params_a), adam_b(params_b);
        Rng data_rng(5), noise_a(7), noise_b(7);
        Tape<T> tape_a, tape_b;
        ElboOptions options;
        options.free_bits = free_bits;
        for (int step = 0; step < 25; ++step) {
            Matrix<T> x(8, 12);
            data_rng.fill_uniform(x, 0.0, 1.0);
            tape_a.reset();
            tape_b.reset();
            const auto terms = elbo(composed, tape_a, tape_a.constant(x), noise_a, options);
            const Var<T> loss_b = longhand.loss(tape_b, tape_b.constant(x), noise_b, free_bits);
            tape_a.backward(terms.loss);
            tape_b.backward(loss_b);
            adam_a.step_and_zero_grad();
            adam_b.step_and_zero_grad();
        }
        for (std::size_t k = 0; k < params_a.size(); ++k) {
            CAPTURE(params_a[k].name);
            CHECK(params_a[k].param->value == params_b[k].param->value);
        }
    }
}

TEST_CASE("a VAE composed of a user's own modules: parameters, shapes and its architecture rebuilt") {
    Rng rng(2);
    Sequential<double> encoder, decoder;
    encoder.add("fc1", Linear<double>(6, 5, rng)).add(Activation::softplus).add("head", Linear<double>(5, 4, rng));
    decoder.add("fc1", Linear<double>(2, 5, rng)).add(Activation::tanh).add("out", Linear<double>(5, 6, rng));
    Vae<double> vae(std::move(encoder), std::move(decoder), Likelihood<double>(LikelihoodKind::gaussian_learned, 6, 0.5),
                    /*latent=*/2);
    CHECK(vae.input() == 6);
    CHECK(vae.latent() == 2);
    std::vector<std::string> names;
    for (auto& p : vae.named_parameters()) names.push_back(p.name);
    CHECK(names == std::vector<std::string>{"encoder.fc1.weight", "encoder.fc1.bias", "encoder.head.weight",
                                            "encoder.head.bias", "decoder.fc1.weight", "decoder.fc1.bias",
                                            "decoder.out.weight", "decoder.out.bias", "decoder.log_sigma"});
    const Matrix<double> x = Matrix<double>::Random(3, 6);
    Matrix<double> mu, logvar;
    vae.encode(x, mu, logvar);
    CHECK(mu.cols() == 2);
    CHECK(vae.generate(4, rng).cols() == 6);

    const ModuleSpec arch = architecture(vae);
    Rng other(8);
    auto copy = build_vae<double>(arch, other);
    CHECK(architecture(*copy) == arch);
    CHECK(copy->likelihood().kind() == LikelihoodKind::gaussian_learned);
    CHECK(copy->likelihood().sigma() == 0.5);

    // An encoder whose output is not 2 x latent wide is named with the fix.
    Sequential<double> narrow, dec2;
    narrow.add(Linear<double>(6, 3, rng));
    dec2.add(Linear<double>(2, 6, rng));
    Vae<double> wrong(std::move(narrow), std::move(dec2), Likelihood<double>(LikelihoodKind::bernoulli, 6), 2);
    CHECK_THROWS_WITH_AS(wrong.encode(x, mu, logvar), doctest::Contains("needs 4 columns"), shape_error);
}

TEST_CASE("the architecture of a tabular and a conditional MLP VAE round-trips") {
    VaeConfig config;
    config.input = 7;
    config.hidden = {6, 4};
    config.latent = 2;
    config.conditions = 3;
    config.likelihood = LikelihoodKind::tabular;
    config.tabular = TabularLayout{2, {3, 2}};
    Rng rng(1);
    Vae<float> vae(config, rng);
    const ModuleSpec arch = architecture(vae);
    auto copy = build_vae<float>(arch, rng);
    CHECK(architecture(*copy) == arch);
    CHECK(copy->likelihood().layout() == TabularLayout{2, {3, 2}});
    CHECK(copy->conditions() == 3);
    std::vector<std::string> a, b;
    for (auto& p : vae.named_parameters()) a.push_back(p.name);
    for (auto& p : copy->named_parameters()) b.push_back(p.name);
    CHECK(a == b);
}
