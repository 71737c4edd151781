#include "synthetic.hpp"
#include "vaelet/train/checkpoint.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>

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
    c.model.input = 64;
    c.model.hidden = {16};
    c.model.latent = 3;
    c.train.epochs = 3;
    c.train.batch = 16;
    c.train.seed = 9;
    return c;
}

}  // namespace

TEST_CASE("a checkpoint taken mid-epoch resumes into a bit-identical run") {
    const Dataset train = testing::synthetic_images(100, 4);
    const RunConfig c = config();
    const std::string straight = temp_path("straight"), interrupted = temp_path("interrupted"), resumed = temp_path("resumed");

    {  // uninterrupted
        Rng init(c.train.seed);
        Vae<float> vae(c.model, init);
        Trainer<float> t(vae, train, c.train);
        while (t.epoch() < c.train.epochs) t.train_epoch();
        save_checkpoint(straight, t, {}, c);
    }
    {  // stopped after 3 steps of epoch 2
        Rng init(c.train.seed);
        Vae<float> vae(c.model, init);
        Trainer<float> t(vae, train, c.train);
        t.train_epoch();
        std::atomic<bool> stop{false};
        int steps = 0;
        t.train_epoch([&](long, double) { stop = ++steps == 3; }, &stop);
        CHECK_FALSE(t.finished());
        save_checkpoint(interrupted, t, {}, c);
    }
    {  // resumed from the file, with a fresh model and trainer
        const RunConfig loaded = read_checkpoint_config(interrupted);
        CHECK(loaded.model.latent == 3);
        CHECK(loaded.train.batch == 16);
        Rng init(1234);  // different initial weights: the checkpoint must overwrite them all
        Vae<float> vae(loaded.model, init);
        Trainer<float> t(vae, train, loaded.train);
        load_checkpoint(interrupted, t);
        CHECK(t.epoch() == 1);
        CHECK(t.in_epoch());
        while (t.epoch() < c.train.epochs) t.train_epoch();
        save_checkpoint(resumed, t, {}, c);
    }
    CHECK(file_bytes(straight) == file_bytes(resumed));

    auto model = load_model<float>(straight);
    CHECK(model->config().hidden == std::vector<Index>{16});
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
    Vae<float> vae(c.model, init);
    Trainer<float> t(vae, train, c.train);
    save_checkpoint(path, t, {}, c);

    RunConfig other = c;
    other.model.hidden = {8};
    Vae<float> small(other.model, init);
    Trainer<float> t2(small, train, other.train);
    CHECK_THROWS_WITH_AS(load_checkpoint(path, t2), doctest::Contains("fc1.weight"), io_error);

    SafeTensors plain;
    plain.put_vector<double>("x", {1.0});
    save_safetensors(path, plain);
    CHECK_THROWS_WITH_AS(read_checkpoint_config(path), doctest::Contains("not a vaelet checkpoint"), io_error);
    std::filesystem::remove(path);
}
