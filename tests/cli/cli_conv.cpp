// vaelet-mnist train --arch conv (issue #14): the conv VAE trains, resumes bit-identically, is conditional on
// request, every tool takes its checkpoint, a PyTorch ConvVAE state_dict is a --ckpt, and bad flags are one error.
#include "harness.hpp"

#include "vaelet/io/safetensors.hpp"
#include "vaelet/train/checkpoint.hpp"

#include <map>
#include <set>

using namespace cli;

namespace {

/// A conv VAE small enough for a test: 1×28×28 → 4×14×14 → 8×7×7 → 16 → latent 4, one thread, seeded.
Args small_conv() {
    return {"--arch", "conv", "--conv-channels", "4", "8", "--hidden", "16", "--latent", "4",
            "--batch", "32", "--threads", "1", "--seed", "7"};
}

/// A conv run of 2 epochs on the tiny data of trained_run(), made once per process.
struct ConvRun {
    TempDir dir;
    fs::path out = dir / "conv", ckpt = out / "checkpoint.safetensors";
    ConvRun() {
        const Result r = run(concat({"train", "--data", trained_run().data.string(), "--out", out.string(), "--epochs",
                                     "2"}, small_conv()));
        INFO(r.output);
        REQUIRE(r.code == 0);
    }
};

const ConvRun& conv_run() {
    static const ConvRun r;
    return r;
}


}  // namespace

TEST_CASE("train --arch conv: a conv VAE under PyTorch's ConvVAE names, and 1 epoch then --resume equals 2 straight") {
    const ConvRun& c = conv_run();
    check_metrics(c.out / "metrics.csv", 2);
    CHECK(png_size(c.out / "samples_epoch02.png") == grid_size(64, 8));
    CHECK(png_size(c.out / "reconstructions.png") == grid_size(64, 8));

    const vaelet::RunConfig config = vaelet::read_checkpoint_config(c.ckpt.string());
    CHECK_FALSE(config.model);  // not an MLP: the conv VAE's sizes are in extra["conv"]
    const vaelet::ConvVaeConfig conv = vaelet::conv_vae_config_from_json(config.extra.at("conv"), "test");
    CHECK(conv.conv_channels == std::vector<vaelet::Index>{4, 8});
    CHECK(conv.hidden == 16);
    const std::map<std::string, std::vector<std::int64_t>> expected{
        {"conv1.weight", {4, 1, 4, 4}},   {"conv1.bias", {4}},   {"conv2.weight", {8, 4, 4, 4}},
        {"conv2.bias", {8}},              {"fc1.weight", {16, 392}}, {"fc1.bias", {16}},
        {"fc21.weight", {4, 16}},         {"fc21.bias", {4}},    {"fc22.weight", {4, 16}},
        {"fc22.bias", {4}},               {"fc3.weight", {16, 4}}, {"fc3.bias", {16}},
        {"fc4.weight", {392, 16}},        {"fc4.bias", {392}},   {"deconv1.weight", {8, 4, 4, 4}},
        {"deconv1.bias", {4}},            {"deconv2.weight", {4, 1, 4, 4}}, {"deconv2.bias", {1}}};
    std::map<std::string, std::vector<std::int64_t>> weights;
    const vaelet::SafeTensors st = vaelet::load_safetensors(c.ckpt.string());
    for (const auto& [name, tensor] : st.tensors())
        if (expected.count(name)) weights[name] = tensor.shape;
    CHECK(weights == expected);

    TempDir dir;
    const std::string out = (dir / "resumed").string(), data = trained_run().data.string();
    Result r = run(concat({"train", "--data", data, "--out", out, "--epochs", "1"}, small_conv()));
    REQUIRE(r.code == 0);
    r = run({"train", "--data", data, "--out", out, "--resume", "--epochs", "2", "--threads", "1"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("resuming " + out + " at epoch 2 (step 10)") != std::string::npos);
    check_same_run(dir / "resumed", c.out);
}

TEST_CASE("every tool takes a conv checkpoint: sample, reconstruct, interpolate, encode, score, eval, compress, anomaly") {
    const fs::path ckpt = conv_run().ckpt;
    const std::string data = trained_run().data.string();
    TempDir dir;
    run_tool("sample", ckpt, {"--out", (dir / "s.png").string(), "--n", "10"});
    CHECK(png_size(dir / "s.png") == grid_size(10, 4));
    run_tool("reconstruct", ckpt, {"--data", data, "--out", (dir / "r.png").string(), "--n", "5"});
    CHECK(png_size(dir / "r.png") == grid_size(10, 5));
    run_tool("interpolate", ckpt, {"--data", data, "--out", (dir / "i.png").string(), "--n", "2", "--steps", "4"});
    CHECK(png_size(dir / "i.png") == grid_size(8, 4));
    run_tool("encode", ckpt, {"--data", data, "--out", (dir / "z.csv").string()});
    CHECK(read_csv(dir / "z.csv").size() == 101);
    run_tool("score", ckpt, {"--data", data, "--out", (dir / "scores.csv").string()});
    const auto scores = read_csv(dir / "scores.csv");
    REQUIRE(scores.size() == 101);
    CHECK(finite_number(scores[1][2]) > 0);
    const Result eval = run_tool("eval", ckpt, {"--data", data, "--k", "20", "--iwae-k", "5", "--limit", "20"});
    CHECK(eval.output.find("NLL, importance sampled (k=20)") != std::string::npos);
    run_tool("compress", ckpt, {"--data", data, "--out", (dir / "z.vlc").string()});
    run_tool("decompress", ckpt, {"--in", (dir / "z.vlc").string(), "--out", (dir / "d.png").string()});
    CHECK(png_size(dir / "d.png").width > 0);
    run_tool("generate", ckpt, {"--out", (dir / "gen").string(), "--n", "7"});
    CHECK(vaelet::read_idx_images(dir / "gen" / "train-images-idx3-ubyte").size() == 7);
    const Result anomaly =
        run_tool("anomaly", ckpt, {"--data", data, "--digit", "3", "--out", (dir / "a.png").string()});
    CHECK(anomaly.output.find("AUROC") != std::string::npos);
    CHECK(tmp_files(dir.path()).empty());
}

TEST_CASE("train --arch conv --conditional: generate --digit draws the asked class from a conditional conv VAE") {
    TempDir dir;
    const std::string data = trained_run().data.string(), out = (dir / "cond").string();
    const Result r = run(concat({"train", "--data", data, "--out", out, "--epochs", "1", "--conditional"}, small_conv()));
    INFO(r.output);
    REQUIRE(r.code == 0);
    const vaelet::SafeTensors st = vaelet::load_safetensors(out + "/checkpoint.safetensors");
    CHECK(st.at("fc1.weight").shape == std::vector<std::int64_t>{16, 392 + 10});  // the label joins the flat code
    CHECK(st.at("fc3.weight").shape == std::vector<std::int64_t>{16, 4 + 10});
    const fs::path ckpt = fs::path(out) / "checkpoint.safetensors";
    run_tool("generate", ckpt, {"--out", (dir / "threes").string(), "--n", "6", "--digit", "3"});
    const vaelet::Dataset threes = vaelet::load_mnist((dir / "threes").string(), "train");
    REQUIRE(threes.size() == 6);
    for (vaelet::Index i = 0; i < 6; ++i) CHECK(int(threes.label(i)) == 3);
    run_tool("score", ckpt, {"--data", data, "--out", (dir / "scores.csv").string()});
    CHECK(read_csv(dir / "scores.csv").size() == 101);
}

TEST_CASE("a PyTorch ConvVAE state_dict is a --ckpt: its sizes read off the tensors, scores as its checkpoint") {
    const fs::path ckpt = conv_run().ckpt;
    const std::string data = trained_run().data.string();
    TempDir dir;
    auto vae = vaelet::load_model<float>(ckpt.string());
    vaelet::SafeTensors st;  // the weights alone, as PyTorch's torch.save(state_dict) → safetensors has them
    vaelet::save_parameters(st, vaelet::file_parameters(*vae));
    const fs::path sd = dir / "conv_state_dict.safetensors";
    vaelet::save_safetensors(sd.string(), st);

    run_tool("score", ckpt, {"--data", data, "--out", (dir / "a.csv").string()});
    run_tool("score", sd, {"--data", data, "--out", (dir / "b.csv").string()});
    CHECK(read_file(dir / "a.csv") == read_file(dir / "b.csv"));
    run_tool("sample", sd, {"--out", (dir / "s.png").string(), "--n", "4"});
    CHECK(png_size(dir / "s.png") == grid_size(4, 2));

    const Result arch = run({"sample", "--ckpt", sd.string(), "--out", (dir / "x.png").string(), "--arch", "latent=4"});
    check_one_message(arch, 1, {"holds a conv VAE", "conv1.weight", "leave it out"});
}

TEST_CASE("train --arch: a bad architecture or a flag of the other one is one error naming the flag") {
    TempDir dir;
    const std::string data = trained_run().data.string();
    const auto train = [&](const Args& extra) {
        return run(concat({"train", "--data", data, "--out", (dir / "run").string(), "--epochs", "1"}, extra));
    };
    check_one_message(train({"--arch", "resnet"}), 1, {"--arch is \"resnet\"", "mlp or conv"});
    check_one_message(train({"--arch", "conv", "--hidden", "32", "16"}), 1, {"--arch conv has one hidden layer"});
    check_one_message(train({"--conv-channels", "8", "16"}), 1, {"--conv-channels is for --arch conv"});
    check_one_message(train({"--arch", "conv", "--conv-channels", "4", "8", "16"}), 1,
                      {"height 28 must be divisible by 2 per convolution", "--conv-channels 3 values"});
    check_one_message(train({"--arch", "conv", "--likelihood", "tabular"}), 1, {"--likelihood tabular is for tables"});
    CHECK_FALSE(fs::exists(dir / "run"));
}
