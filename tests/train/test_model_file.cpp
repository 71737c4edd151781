// save_model / load_model: vaelet's own model files (MLP and composed models), and a plain PyTorch state_dict of
// the canonical VAE, written by PyTorch itself (fixtures/make_torch_state_dict.py), that loads with its sizes read
// off the tensors and scores as PyTorch scored it; bad or mismatched files are one io_error naming the tensor.
#include "vaelet/train/model_file.hpp"
#include "vaelet/nn/function.hpp"
#include "vaelet/vae/score.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using namespace vaelet;

namespace {

using vaelet::testing::TempDir;

const std::string fixtures = std::string(VAELET_TEST_SOURCE_DIR) + "/train/fixtures/";
const std::string torch_state_dict = fixtures + "torch_state_dict.safetensors";
const std::string torch_test_set = fixtures + "torch_test_set.safetensors";

template <class T>
std::vector<std::string> names(Vae<T>& vae) {
    std::vector<std::string> n;
    for (auto& p : vae.named_parameters()) n.push_back(p.name);
    return n;
}

/// doctest's Contains of a std::string (it takes a C string).
doctest::Contains says(const std::string& text) {
    return doctest::Contains(text.c_str());
}

/// A mean test −ELBO in nats per example and its Monte-Carlo standard error.
struct Estimate {
    double mean = 0, standard_error = 0;
};

/// vaelet's mean −ELBO over the rows of x, each row's the mean of `draws` single draws of z; its standard error as
/// the fixture's: the rows are fixed, so only the draws vary, and the mean's variance is Σᵢ varᵢ / draws / n².
template <class T>
Estimate neg_elbo(Vae<T>& vae, const Matrix<T>& x, int draws, std::uint64_t seed) {
    Rng rng(seed);
    Eigen::ArrayXd sum = Eigen::ArrayXd::Zero(x.rows()), sum_sq = Eigen::ArrayXd::Zero(x.rows());
    for (int k = 0; k < draws; ++k) {
        const Eigen::ArrayXd d = score_examples(vae, x, rng, 1).neg_elbo.col(0).array();
        sum += d;
        sum_sq += d.square();
    }
    const Eigen::ArrayXd mean = sum / draws;
    const Eigen::ArrayXd var = (sum_sq - draws * mean.square()) / (draws - 1);
    return {mean.mean(), std::sqrt(var.sum() / draws) / double(x.rows())};
}

/// The state_dict fixture's tensors, with `edit` applied to the list (name, tensor), written to `path`.
template <class F>
void rewrite_state_dict(const std::string& path, F&& edit) {
    const SafeTensors from = load_safetensors(torch_state_dict);
    std::vector<std::pair<std::string, Tensor>> tensors = from.tensors();
    edit(tensors);
    SafeTensors st;
    for (auto& [name, t] : tensors) st.put(name, t);
    save_safetensors(path, st);
}

/// The MLP of the fixture, as a user who knows it would write it.
VaeConfig fixture_config() {
    return parse_vae_config("input=64 hidden=32 latent=4");
}

/// x·σ(1.702·x), the quick GELU: a function of the user's own, which model files store by name.
Var<double> quick_gelu(const Var<double>& x) { return x * sigmoid(x * 1.702); }

}  // namespace

TEST_CASE("model_file: a state_dict PyTorch wrote loads with its sizes read off the tensors, bit for bit") {
    const SafeTensors st = load_safetensors(torch_state_dict);
    REQUIRE(st.metadata.empty());  // a plain state_dict: nothing says what model it is
    auto vae = load_model<float>(torch_state_dict);
    CHECK(vae->input() == 64);
    CHECK(vae->latent() == 4);
    CHECK(vae->conditions() == 0);
    CHECK(vae->likelihood().kind() == LikelihoodKind::bernoulli);
    // hidden {32}: one trunk layer each side, 32 wide; and the PyTorch layout (weight out×in) read as it is.
    CHECK(names(*vae) == std::vector<std::string>{"encoder.fc1.weight", "encoder.fc1.bias", "encoder.fc21.weight",
                                                  "encoder.fc21.bias", "encoder.fc22.weight", "encoder.fc22.bias",
                                                  "decoder.fc3.weight", "decoder.fc3.bias", "decoder.fc4.weight",
                                                  "decoder.fc4.bias"});
    for (auto& p : file_parameters(*vae)) {
        CAPTURE(p.name);
        CHECK(p.param->value == st.get_matrix<float>(p.name));
    }
    CHECK(vae->named_parameters()[0].param->value.rows() == 32);
    CHECK(vae->named_parameters()[0].param->value.cols() == 64);
}

TEST_CASE("model_file: the PyTorch state_dict scores PyTorch's test loss, within its Monte-Carlo noise") {
    const SafeTensors test = load_safetensors(torch_test_set);
    const Matrix<float> x = test.get_matrix<float>("x");
    const std::vector<double> torch_recon = test.get_vector<double>("recon_error");
    const Estimate torch{std::stod(test.metadata.at("neg_elbo_mean")), std::stod(test.metadata.at("neg_elbo_stderr"))};
    const int draws = std::stoi(test.metadata.at("samples_per_example"));
    REQUIRE(x.rows() == Index(torch_recon.size()));
    REQUIRE(x.cols() == 64);
    auto vae = load_model<float>(torch_state_dict);

    // −log p(x | z = μ) is deterministic: the same float32 network as PyTorch's, so equal up to float rounding in
    // another summation order (measured: 2.4e-7 relative at worst; a wrong weight is ≫ the 1e-5 allowed).
    Rng unused(1);
    const ExampleScores s = score_examples(*vae, x, unused, 1);
    for (Index i = 0; i < x.rows(); ++i) {
        CAPTURE(i);
        CHECK(s.recon_error(i, 0) == doctest::Approx(torch_recon[std::size_t(i)]).epsilon(1e-5));
    }

    // The −ELBO needs draws of z: vaelet's own, as many per example as PyTorch took. The two estimates are
    // independent, so their difference has standard error √(se_torch² + se_vaelet²); 4 of those are exceeded by
    // chance with probability 6·10⁻⁵, while any error in the model (a layer, the activation, the KL) moves the
    // figure by nats (checked below: tanh in place of ReLU scores 36.6, 1.8 nats off).
    const Estimate ours = neg_elbo(*vae, x, draws, 2024);
    const double tolerance = 4 * std::sqrt(torch.standard_error * torch.standard_error +
                                           ours.standard_error * ours.standard_error);
    MESSAGE("test -ELBO: PyTorch " << torch.mean << " +- " << torch.standard_error << ", vaelet " << ours.mean
                                   << " +- " << ours.standard_error << " nats/example; tolerance " << tolerance);
    CHECK(tolerance < 0.1);  // the check below means something only if the noise is small
    CHECK(std::abs(ours.mean - torch.mean) <= tolerance);

    auto tanh_model = load_model<float>(torch_state_dict, parse_vae_config("activation=tanh", fixture_config()));
    const Estimate wrong = neg_elbo(*tanh_model, x, draws, 2024);
    CHECK(std::abs(wrong.mean - torch.mean) > 10 * tolerance);
}

TEST_CASE("model_file: a double model reads the F32 state_dict only with FloatCast::allow") {
    CHECK_THROWS_WITH_AS(load_model<double>(torch_state_dict),
                         says(torch_state_dict + ": tensor fc1.weight is F32 but the model is F64; load "
                                           "with FloatCast::allow to convert"),
                         io_error);
    LoadModelOptions options;
    options.cast = FloatCast::allow;
    auto wide = load_model<double>(torch_state_dict, options);
    auto narrow = load_model<float>(torch_state_dict);
    const auto w = wide->named_parameters();
    const auto n = narrow->named_parameters();
    REQUIRE(w.size() == n.size());
    for (std::size_t k = 0; k < w.size(); ++k) {
        CAPTURE(w[k].name);
        CHECK(w[k].name == n[k].name);
        CHECK(w[k].param->value == n[k].param->value.cast<double>());  // float → double is exact
    }
}

TEST_CASE("model_file: the state_dict loads with its architecture given, and with vaelet's prefixed names") {
    TempDir dir;
    const Matrix<float> x = load_safetensors(torch_test_set).get_matrix<float>("x").topRows(16);
    auto inferred = load_model<float>(torch_state_dict);
    const Matrix<float> expected = inferred->reconstruct(x);

    auto given = load_model<float>(torch_state_dict, fixture_config());
    CHECK(given->reconstruct(x) == expected);

    // bench/pytorch_vae.py `train --out` names the tensors as vaelet's model does (encoder.fc1.weight, …).
    const std::string prefixed = dir / "prefixed.safetensors";
    rewrite_state_dict(prefixed, [](auto& tensors) {
        for (auto& entry : tensors) {
            const bool encoder = entry.first.rfind("fc1", 0) == 0 || entry.first.rfind("fc2", 0) == 0;
            entry.first = (encoder ? "encoder." : "decoder.") + entry.first;
        }
    });
    REQUIRE(load_safetensors(prefixed).contains("encoder.fc21.bias"));
    REQUIRE(load_safetensors(prefixed).contains("decoder.fc3.weight"));
    CHECK(load_model<float>(prefixed)->reconstruct(x) == expected);
    CHECK(load_model<float>(prefixed, fixture_config())->reconstruct(x) == expected);
    CHECK_THROWS_WITH_AS(load_model<float>(prefixed, parse_vae_config("input=64 hidden=16 latent=4")),
                         doctest::Contains("tensor encoder.fc1.weight has shape [32, 64] but the architecture given "
                                           "for it expects [16, 64]"),
                         io_error);
}

TEST_CASE("model_file: a state_dict that does not match is one io_error naming the tensor and the fix") {
    TempDir dir;
    SUBCASE("an architecture given with other layer sizes, smaller or larger") {
        for (const char* hidden : {"16", "64", "100000000"}) {
            CAPTURE(hidden);
            CHECK_THROWS_WITH_AS(
                load_model<float>(torch_state_dict, parse_vae_config(std::string("hidden=") + hidden, fixture_config())),
                says(torch_state_dict + ": tensor fc1.weight has shape [32, 64] but the architecture given "
                                  "for it expects [" + hidden + ", 64]; correct the architecture given in "
                                  "LoadModelOptions::architecture, or leave it out to read the sizes off the tensors"),
                io_error);
        }
        CHECK_THROWS_WITH_AS(load_model<float>(torch_state_dict, parse_vae_config("latent=3", fixture_config())),
                             doctest::Contains("tensor fc21.weight has shape [4, 32] but the architecture given for it "
                                               "expects [3, 32]"),
                             io_error);
        // Matching shapes, but one layer more than the file has.
        CHECK_THROWS_WITH_AS(load_model<float>(torch_state_dict, parse_vae_config("hidden=32,32", fixture_config())),
                             says(torch_state_dict + ": tensor fc1_2.weight is missing (the architecture "
                                               "given for it expects shape [32, 32]); correct the architecture"),
                             io_error);
    }
    SUBCASE("a tensor missing") {
        const std::string path = dir / "no_fc22.safetensors";
        rewrite_state_dict(path, [](auto& tensors) {
            const auto fc22 = [](const auto& e) { return e.first == "fc22.weight"; };
            tensors.erase(std::find_if(tensors.begin(), tensors.end(), fc22));
        });
        CHECK_THROWS_WITH_AS(load_model<float>(path),
                             says(path + ": tensor fc22.weight is missing (the model expects shape [4, 32]); "
                                               "was it saved from a different model?"),
                             io_error);
        CHECK_THROWS_WITH_AS(load_model<float>(path, fixture_config()),
                             says(path + ": tensor fc22.weight is missing (the architecture given for it "
                                               "expects shape [4, 32])"),
                             io_error);
        const std::string no_fc1 = dir / "no_fc1.safetensors";
        rewrite_state_dict(no_fc1, [](auto& tensors) { tensors.erase(tensors.begin()); });
        CHECK_THROWS_WITH_AS(load_model<float>(no_fc1),
                             doctest::Contains("no tensor fc1.weight, so this is not a vaelet model file nor a "
                                               "state_dict of PyTorch's example VAE"),
                             io_error);
    }
    SUBCASE("a tensor the model does not have (state_dicts load strictly)") {
        const std::string path = dir / "extra.safetensors";
        rewrite_state_dict(path, [](auto& tensors) {
            Tensor t = tensors.front().second;
            tensors.emplace_back("fc5.weight", t);
        });
        CHECK_THROWS_WITH_AS(load_model<float>(path),
                             says(path + ": tensors the model does not have: fc5.weight"), io_error);
    }
}

TEST_CASE("model_file: save_model then load_model gives the MLP back: outputs, names and weights") {
    TempDir dir;
    VaeConfig c = parse_vae_config("input=12 hidden=10,8 latent=3 activation=tanh likelihood=gaussian_learned_per_dim "
                                   "sigma=0.7");
    Rng rng(5);
    Vae<float> vae(c, rng);
    const std::string path = dir / "mlp.safetensors";
    save_model(path, vae);
    const SafeTensors st = load_safetensors(path);
    CHECK(st.metadata.at("format") == model_format);
    CHECK(st.contains("fc1_2.weight"));  // the file's names are PyTorch's, without encoder./decoder.
    CHECK(st.contains("log_sigma"));

    auto loaded = load_model<float>(path);
    CHECK(names(*loaded) == names(vae));
    const auto a = vae.named_parameters(), b = loaded->named_parameters();
    for (std::size_t k = 0; k < a.size(); ++k) CHECK(a[k].param->value == b[k].param->value);
    Matrix<float> x(5, 12);
    Rng data(9);
    data.fill_normal(x);
    CHECK(loaded->reconstruct(x) == vae.reconstruct(x));
    Matrix<float> mu_a, logvar_a, mu_b, logvar_b;
    vae.encode(x, mu_a, logvar_a);
    loaded->encode(x, mu_b, logvar_b);
    CHECK(mu_a == mu_b);
    CHECK(logvar_a == logvar_b);
    CHECK(loaded->likelihood().kind() == LikelihoodKind::gaussian_learned_per_dim);
    CHECK(architecture(*loaded) == architecture(vae));
}

namespace {

/// 10 features → 8 (quick GELU) → 6 (tanh) → [μ | log σ²] of 3, and back through 8 (quick GELU): no VaeConfig.
std::unique_ptr<Vae<double>> composed(Rng& rng, const std::string& function) {
    Sequential<double> encoder, decoder;
    encoder.add("in", Linear<double>(10, 8, rng)).add(Function<double>(function, quick_gelu));
    encoder.add("mid", Linear<double>(8, 6, rng)).add(Activation::tanh).add("head", Linear<double>(6, 6, rng));
    decoder.add("in", Linear<double>(3, 8, rng)).add(Function<double>(function, quick_gelu));
    decoder.add("out", Linear<double>(8, 10, rng));
    return std::make_unique<Vae<double>>(std::move(encoder), std::move(decoder),
                                         Likelihood<double>(LikelihoodKind::bernoulli, 10), /*latent=*/3);
}

}  // namespace

TEST_CASE("model_file: save_model then load_model gives a composed model back, its Function registered") {
    TempDir dir;
    register_function<double>("model_file_quick_gelu", quick_gelu);
    Rng rng(7);
    auto vae = composed(rng, "model_file_quick_gelu");
    const std::string path = dir / "composed.safetensors";
    save_model(path, *vae);
    CHECK(load_safetensors(path).contains("encoder.in.weight"));  // "in" on both sides: the full names

    auto loaded = load_model<double>(path);
    CHECK(names(*loaded) == names(*vae));
    CHECK(architecture(*loaded) == architecture(*vae));
    Matrix<double> x(4, 10);
    Rng data(3);
    data.fill_uniform(x, 0, 1);
    CHECK(loaded->reconstruct(x) == vae->reconstruct(x));
    Matrix<double> mu_a, logvar_a, mu_b, logvar_b;
    vae->encode(x, mu_a, logvar_a);
    loaded->encode(x, mu_b, logvar_b);
    CHECK(mu_a == mu_b);
    CHECK(logvar_a == logvar_b);
}

TEST_CASE("model_file: a composed model whose Function is not registered is an io_error telling to register it") {
    TempDir dir;
    Rng rng(7);
    auto vae = composed(rng, "model_file_never_registered");
    const std::string path = dir / "unregistered.safetensors";
    save_model(path, *vae);
    CHECK_THROWS_WITH_AS(load_model<double>(path),
                         says(path + ": the model uses the function \"model_file_never_registered\", which "
                                           "this program does not know; call vaelet::register_function<T>("
                                           "\"model_file_never_registered\", …) before loading it"),
                         io_error);
}

TEST_CASE("model_file: parse_vae_config reads field=value pairs over a base, and names what does not parse") {
    VaeConfig base;
    base.input = 64;
    const VaeConfig c = parse_vae_config("hidden=512,256  latent=32 activation=tanh likelihood=gaussian sigma=0.5", base);
    CHECK(c.input == 64);  // kept from the base
    CHECK(c.hidden == std::vector<Index>{512, 256});
    CHECK(c.latent == 32);
    CHECK(c.activation == Activation::tanh);
    CHECK(c.likelihood == LikelihoodKind::gaussian_fixed);
    CHECK(c.sigma == 0.5);
    CHECK(parse_vae_config("").input == VaeConfig{}.input);
    CHECK(parse_vae_config("conditions=10").conditions == 10);

    CHECK_THROWS_WITH_AS(parse_vae_config("hidden=16 depth=3"),
                         doctest::Contains("architecture: no field \"depth\"; the fields are input, hidden, latent"),
                         config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("hidden=16 tanh"),
                         doctest::Contains("architecture \"hidden=16 tanh\": \"tanh\" is not field=value"), config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("latent="), doctest::Contains("\"latent=\" is not field=value"), config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("=4"), doctest::Contains("\"=4\" is not field=value"), config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("latent=four"), doctest::Contains("architecture: latent=four is not a number"),
                         config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("hidden=16,x"), doctest::Contains("hidden=16,x is not a number"), config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("latent=2.5"), doctest::Contains("latent=2.5 is not a whole number"),
                         config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("sigma=1e"), doctest::Contains("sigma=1e is not a number"), config_error);
    CHECK_THROWS_WITH_AS(parse_vae_config("activation=swish"), doctest::Contains("swish"), config_error);
}

TEST_CASE("an architecture given for a file that describes its own model is refused") {
    Rng rng(1);
    VaeConfig c;
    c.input = 6;
    c.hidden = {4};
    c.latent = 2;
    Vae<float> vae(c, rng);
    const std::string path = (std::filesystem::temp_directory_path() / "vaelet_test_model_file_own.safetensors").string();
    save_model(path, vae);
    CHECK_THROWS_WITH_AS(load_model<float>(path, c), doctest::Contains("only for a state_dict"), config_error);
    CHECK(load_model<float>(path)->parameter_count() == vae.parameter_count());
    std::filesystem::remove(path);
}
