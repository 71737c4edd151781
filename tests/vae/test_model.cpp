#include "vaelet/vae/model.hpp"

#include <doctest/doctest.h>

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
    CHECK(vae.reconstruct(x, &c).rows() == 4);
    Matrix<double> c5 = one_hot<double>(std::vector<int>{0, 1, 2, 0, 1}, 3);
    CHECK(vae.generate(5, rng, &c5).rows() == 5);
    CHECK_THROWS_WITH_AS(vae.generate(5, rng), doctest::Contains("condition"), config_error);
    CHECK_THROWS_AS(one_hot<double>(std::vector<int>{3}, 3), config_error);
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
    CHECK(vae.reconstruct(x, nullptr, &sample_rng) != through_mu);
    CHECK(vae.generate(4, rng).rows() == 4);
}
