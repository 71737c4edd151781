#include "synthetic.hpp"
#include "vaelet/train/checkpoint.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <string>
#include <vector>

using namespace vaelet;

namespace {

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("vaelet_test_checkpoint_" + name)).string();
}

std::string file_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

RunConfig config() {
    RunConfig c;
    c.model->input = 64;
    c.model->hidden = {16};
    c.model->latent = 3;
    c.train.epochs = 3;
    c.train.batch = 16;
    c.train.seed = 9;
    return c;
}

}  // namespace

TEST_CASE("a checkpoint taken mid-epoch resumes into a bit-identical run, with the ELBO, IWAE and β-TCVAE") {
    const Dataset train = testing::synthetic_images(100, 4);
    RunConfig c = config();
    SUBCASE("the ELBO") {}
    SUBCASE("IWAE, k = 3, DReG") {
        c.train.objective = "iwae";
        c.train.samples = 3;
        c.train.dreg = true;
    }
    SUBCASE("β-TCVAE, β = 3") {
        c.train.objective = "tcvae";
        c.train.beta = 3;
    }
    const std::string straight = temp_path("straight"), interrupted = temp_path("interrupted"), resumed = temp_path("resumed");

    {  // uninterrupted
        Rng init(c.train.seed);
        Vae<float> vae(*c.model, init);
        Trainer<float> t(vae, train, c.train);
        while (t.epoch() < c.train.epochs) t.train_epoch();
        save_checkpoint(straight, t, {}, c);
    }
    {  // stopped after 3 steps of epoch 2
        Rng init(c.train.seed);
        Vae<float> vae(*c.model, init);
        Trainer<float> t(vae, train, c.train);
        t.train_epoch();
        std::atomic<bool> stop{false};
        int steps = 0;
        t.on_step([&](const vaelet::StepReport&) { stop = ++steps == 3; });
        t.train_epoch(&stop);
        CHECK_FALSE(t.finished());
        save_checkpoint(interrupted, t, {}, c);
    }
    {  // resumed from the file, with a fresh model and trainer
        const RunConfig loaded = read_checkpoint_config(interrupted);
        CHECK(loaded.model->latent == 3);
        CHECK(loaded.train.batch == 16);
        CHECK(loaded.train.objective == c.train.objective);
        CHECK(loaded.train.samples == c.train.samples);
        CHECK(loaded.train.dreg == c.train.dreg);
        Rng init(1234);  // different initial weights: the checkpoint must overwrite them all
        Vae<float> vae(*loaded.model, init);
        Trainer<float> t(vae, train, loaded.train);
        load_checkpoint(interrupted, t);
        CHECK(t.epoch() == 1);
        CHECK(t.in_epoch());
        while (t.epoch() < c.train.epochs) t.train_epoch();
        save_checkpoint(resumed, t, {}, c);
    }
    CHECK(file_bytes(straight) == file_bytes(resumed));

    auto model = load_model<float>(straight);
    CHECK(model->parameter_count() == (64 * 16 + 16) + 2 * (16 * 3 + 3) + (3 * 16 + 16) + (16 * 64 + 64));
    auto st = load_safetensors(straight);
    CHECK(st.contains("fc1.weight"));
    CHECK(st.contains("fc21.bias"));
    CHECK(st.contains("fc4.weight"));
    CHECK(st.contains("optim.fc1.weight.exp_avg"));
    CHECK(st.at("fc1.bias").shape == std::vector<std::int64_t>{16});
    for (const auto& p : {straight, interrupted, resumed}) std::filesystem::remove(p);
}

TEST_CASE("loading a checkpoint into another architecture or a non-checkpoint fails clearly") {
    const Dataset train = testing::synthetic_images(32, 4);
    const RunConfig c = config();
    const std::string path = temp_path("arch");
    Rng init(1);
    Vae<float> vae(*c.model, init);
    Trainer<float> t(vae, train, c.train);
    save_checkpoint(path, t, {}, c);

    RunConfig other = c;
    other.model->hidden = {8};
    Vae<float> small(*other.model, init);
    Trainer<float> t2(small, train, other.train);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, t2), doctest::Contains("fc1.weight"), io_error);

    SafeTensors plain;
    plain.put_vector<double>("x", {1.0});
    save_safetensors(path, plain);
    CHECK_THROWS_WITH_AS(read_checkpoint_config(path), doctest::Contains("not a vaelet checkpoint"), io_error);
    std::filesystem::remove(path);
}

// Found by fuzzing (tests/fuzz, docs/fuzzing.md): a damaged checkpoint must fail with an io_error, never with
// undefined behaviour, a huge allocation or a hang.
namespace {

// Rewrites the checkpoint at `path`, letting `edit` change its config JSON and `replace` give new tensors.
void rewrite(const std::string& path, const std::function<void(nlohmann::json&)>& edit,
             const std::map<std::string, std::vector<double>>& f64 = {},
             const std::map<std::string, std::vector<std::int64_t>>& i64 = {},
             const std::map<std::string, std::vector<std::uint64_t>>& u64 = {}) {
    const SafeTensors old = load_safetensors(path);
    SafeTensors st;
    st.metadata = old.metadata;
    nlohmann::json config = nlohmann::json::parse(old.metadata.at("config"));
    edit(config);
    st.metadata["config"] = config.dump();
    for (const auto& [name, t] : old.tensors()) {
        if (f64.count(name)) st.put_vector(name, f64.at(name));
        else if (i64.count(name)) st.put_vector(name, i64.at(name));
        else if (u64.count(name)) st.put_vector(name, u64.at(name));
        else st.put(name, t);
    }
    save_safetensors(path, st);
}

const auto unchanged = [](nlohmann::json&) {};

}  // namespace

TEST_CASE("a damaged config in a checkpoint is an io_error, not a cast of 1e300 or a model of any size") {
    const Dataset train = testing::synthetic_images(32, 4);
    const RunConfig c = config();
    const std::string original = temp_path("config_original"), path = temp_path("config_damaged");
    Rng init(1);
    Vae<float> vae(*c.model, init);
    Trainer<float> t(vae, train, c.train);
    save_checkpoint(original, t, {}, c);

    const auto damaged = [&](const std::function<void(nlohmann::json&)>& edit) {
        std::filesystem::copy_file(original, path, std::filesystem::copy_options::overwrite_existing);
        rewrite(path, edit);
        std::string message = "(no io_error)";
        try {
            read_checkpoint_config(path);
        } catch (const io_error& e) {
            message = e.what();
        }
        return message;
    };
    CHECK(damaged([](auto& j) { j["train"]["epochs"] = 1e300; }).find("train.epochs = 1e+300") != std::string::npos);
    CHECK(damaged([](auto& j) { j["model"]["input"] = 64.5; }).find("model.input = 64.5") != std::string::npos);
    CHECK(damaged([](auto& j) { j["model"]["hidden"] = nlohmann::json::array({16.0}); }).find("model.hidden") !=
          std::string::npos);
    CHECK(damaged([](auto& j) { j["train"]["seed"] = -1; }).find("train.seed = -1") != std::string::npos);
    // Sizes the file's weights cannot back: read_checkpoint_config refuses them, so load_model never builds them.
    CHECK(damaged([](auto& j) { j["model"]["hidden"] = nlohmann::json::array({100'000'000}); })
              .find("describes a model of at least") != std::string::npos);
    CHECK_THROWS_WITH_AS(load_trained_model<float>(path), doctest::Contains("describes a model of at least"), io_error);
    {  // a composed model (no MLP config) builds from its architecture, which a damaged file cannot inflate either
        SafeTensors st = load_safetensors(original);
        nlohmann::json run = nlohmann::json::parse(st.metadata.at("config"));
        run.erase("model");
        st.metadata["config"] = run.dump();
        std::string arch = st.metadata.at("architecture");
        const std::string fc1 = "\"in_features\":64,\"out_features\":16";
        REQUIRE(arch.find(fc1) != std::string::npos);
        arch.replace(arch.find(fc1), fc1.size(), "\"in_features\":64,\"out_features\":100000000");
        st.metadata["architecture"] = arch;
        save_safetensors(path, st);
        CHECK_THROWS_WITH_AS(load_model<float>(path), doctest::Contains("more weights than the file holds"), io_error);
    }
    CHECK(damaged([](auto& j) {
              j["model"]["input"] = std::int64_t(1) << 62;
              j["model"]["conditions"] = std::int64_t(1) << 62;  // input + conditions would overflow Index
          }).find("describes a model of at least") != std::string::npos);
    CHECK(damaged([](auto& j) { j["extra"] = nlohmann::json::parse(std::string(1000, '[') + std::string(1000, ']')); })
              .find("nests JSON more than 64 levels deep") != std::string::npos);
    CHECK(damaged(unchanged) == "(no io_error)");
    for (const auto& p : {original, path}) std::filesystem::remove(p);
}

TEST_CASE("damaged progress, random states or history in a checkpoint are io_errors") {
    const Dataset train = testing::synthetic_images(100, 4);
    const RunConfig c = config();
    const std::string original = temp_path("progress_original"), path = temp_path("progress_damaged");
    {
        Rng init(1);
        Vae<float> vae(*c.model, init);
        Trainer<float> t(vae, train, c.train);
        std::atomic<bool> stop{false};
        t.on_step([&](const vaelet::StepReport&) { stop = true; });
        t.train_epoch(&stop);  // one step into the epoch
        save_checkpoint(original, t, {}, c);
    }
    const auto load_damaged = [&](auto&&... replace) {
        std::filesystem::copy_file(original, path, std::filesystem::copy_options::overwrite_existing);
        rewrite(path, unchanged, replace...);
        Rng init(1);
        Vae<float> vae(*c.model, init);
        Trainer<float> t(vae, train, c.train);
        const Matrix<float> weights_before = t.parameters().front().param->value;
        std::string message = "(no io_error)";
        try {
            load_checkpoint(path, t);
            t.train_epoch();
        } catch (const io_error& e) {
            message = e.what();
            // A failed load changes nothing: the fresh trainer keeps its weights, optimizer and position.
            CHECK(t.parameters().front().param->value == weights_before);
            CHECK(t.optimizer().step_count() == 0);
            CHECK(t.epoch() == 0);
        }
        return message;
    };
    using F64 = std::map<std::string, std::vector<double>>;
    using I64 = std::map<std::string, std::vector<std::int64_t>>;
    using U64 = std::map<std::string, std::vector<std::uint64_t>>;
    CHECK(load_damaged(F64{}) == "(no io_error)");
    // An all-zero xoshiro state draws zeros forever: the epoch's shuffle (rng.below(100)) looped without end.
    CHECK(load_damaged(F64{}, I64{}, U64{{"rng.epoch_order", {0, 0, 0, 0}}}).find("all zeros") != std::string::npos);
    // Counts at their type's maximum overflowed (undefined behaviour) on the next epoch or step.
    constexpr auto max64 = std::numeric_limits<std::int64_t>::max();
    CHECK(load_damaged(F64{}, I64{{"progress", {INT_MAX, 5, 1, 1}}}).find("which no run reaches") != std::string::npos);
    CHECK(load_damaged(F64{}, I64{{"progress", {0, max64, 1, 1}}}).find("which no run reaches") != std::string::npos);
    CHECK(load_damaged(F64{}, I64{{"optim.step", {max64}}}).find("which no run reaches") != std::string::npos);
    // int(NaN) is undefined behaviour.
    CHECK(load_damaged(F64{{"history", {std::nan(""), 0, 0, 0, 0, 0, 0}}}).find("epoch number") != std::string::npos);
    for (const auto& p : {original, path}) std::filesystem::remove(p);
}

TEST_CASE("a checkpoint of vaelet 0.1 before composable models loads, and resumes into the run it would have made") {
    // tests/train/fixtures/make_v0_checkpoints.cpp wrote both with vaelet 4250c81: a 64-8-2 MLP, 3 epochs of batch
    // 16, stopped after 3 steps of epoch 2, and the same run straight through.
    const std::string dir = std::string(VAELET_TEST_SOURCE_DIR) + "/train/fixtures/";
    const RunConfig c = read_checkpoint_config(dir + "v0_interrupted.safetensors");
    REQUIRE(c.model);
    CHECK(c.model->hidden == std::vector<Index>{8});
    CHECK(c.train.optimizer == "adam");  // a field the old format did not have keeps its default
    const Dataset train = testing::synthetic_images(100, 4);
    Rng init(77);
    Vae<float> vae(*c.model, init);
    Trainer<float> t(vae, train, c.train);
    load_checkpoint(dir + "v0_interrupted.safetensors", t);
    CHECK(t.epoch() == 1);
    CHECK(t.in_epoch());
    while (t.epoch() < c.train.epochs) t.train_epoch();

    // The same weights as the old library's uninterrupted run: equal bit for bit in a build with the fixture's
    // flags (-march=x86-64-v3), and to float rounding in another (sums in another order).
    const auto straight = load_model<float>(dir + "v0_straight.safetensors");
    auto a = vae.named_parameters(), b = straight->named_parameters();
    REQUIRE(a.size() == b.size());
    for (std::size_t k = 0; k < a.size(); ++k) {
        CAPTURE(a[k].name);
        CHECK((a[k].param->value - b[k].param->value).cwiseAbs().maxCoeff() <= 1e-4f);
    }
    const SafeTensors old_file = load_safetensors(dir + "v0_straight.safetensors");
    const std::string path = temp_path("v0_resumed");
    save_checkpoint(path, t, {}, c);
    const SafeTensors new_file = load_safetensors(path);
    for (const auto& [name, tensor] : old_file.tensors()) {  // the same tensors, names and shapes
        CAPTURE(name);
        REQUIRE(new_file.contains(name));
        CHECK(new_file.at(name).shape == tensor.shape);
    }
    CHECK(new_file.tensors().size() == old_file.tensors().size());
    std::filesystem::remove(path);
}
