// vaelet-mnist train: what a run writes, and that it is bit-identical when repeated or resumed (issue #4).
#include "harness.hpp"

#include "vaelet/io/safetensors.hpp"
#include "vaelet/train/checkpoint.hpp"

#include <set>

using namespace cli;

TEST_CASE("train: 2 epochs write metrics.csv, PNGs and a checkpoint with PyTorch's names") {
    const TrainedRun& t = trained_run();

    const auto metrics = check_metrics(t.out / "metrics.csv", 2);
    for (std::size_t epoch = 1; epoch <= 2; ++epoch)
        CHECK(finite_number(metrics[epoch][1]) > 0);  // a negative ELBO of binary images is positive

    // 64 samples and 32 test images above their reconstructions, 8 per row; the loss chart is 640x400.
    CHECK(png_size(t.out / "samples_epoch01.png") == grid_size(64, 8));
    CHECK(png_size(t.out / "samples_epoch02.png") == grid_size(64, 8));
    CHECK(png_size(t.out / "reconstructions.png") == grid_size(64, 8));
    CHECK(png_size(t.out / "loss.png") == Size{640, 400});

    const vaelet::RunConfig config = vaelet::read_checkpoint_config(t.ckpt.string());
    CHECK(config.model->input == 784);
    CHECK(config.model->hidden == std::vector<vaelet::Index>{32});
    CHECK(config.model->latent == 4);
    CHECK(config.train.epochs == 2);
    CHECK(vaelet::load_model<float>(t.ckpt.string())->parameter_count() > 0);

    // The weights under the names and shapes of PyTorch's examples/vae (nn.Linear: weight is out × in).
    const std::map<std::string, std::vector<std::int64_t>> expected{
        {"fc1.weight", {32, 784}}, {"fc1.bias", {32}},   {"fc21.weight", {4, 32}}, {"fc21.bias", {4}},
        {"fc22.weight", {4, 32}},  {"fc22.bias", {4}},   {"fc3.weight", {32, 4}},  {"fc3.bias", {32}},
        {"fc4.weight", {784, 32}}, {"fc4.bias", {784}}};
    std::map<std::string, std::vector<std::int64_t>> weights;
    const vaelet::SafeTensors st = vaelet::load_safetensors(t.ckpt.string());
    for (const auto& [name, tensor] : st.tensors())
        if (name.rfind("fc", 0) == 0) {
            CHECK(tensor.dtype == vaelet::Dtype::F32);
            weights[name] = tensor.shape;
        }
    CHECK(weights == expected);

    // Exactly these files: no .tmp left from an atomic write, no write probe.
    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(t.out)) files.insert(entry.path().filename().string());
    CHECK(files == std::set<std::string>{"checkpoint.safetensors", "loss.png", "metrics.csv", "reconstructions.png",
                                         "samples_epoch01.png", "samples_epoch02.png"});
}

TEST_CASE("train: two identical runs write identical checkpoints and metrics") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Result r = run(concat({"train", "--data", t.data.string(), "--out", (dir / "again").string(), "--epochs", "2"},
                                small_model()));
    INFO(r.output);
    REQUIRE(r.code == 0);
    check_same_run(dir / "again", t.out);
    CHECK(read_file(dir / "again" / "samples_epoch02.png") == read_file(t.out / "samples_epoch02.png"));
}

TEST_CASE("train: 1 epoch, then --resume --epochs 2, equals 2 epochs straight") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const std::string out = (dir / "resumed").string();
    Result r = run(concat({"train", "--data", t.data.string(), "--out", out, "--epochs", "1"}, small_model()));
    REQUIRE(r.code == 0);
    r = run({"train", "--data", t.data.string(), "--out", out, "--resume", "--epochs", "2", "--threads", "1"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("resuming " + out + " at epoch 2 (step 10)") != std::string::npos);
    check_same_run(dir / "resumed", t.out);
    CHECK(tmp_files(dir.path()).empty());
}

TEST_CASE("train: --resume --epochs N trains a finished run on to N epochs, also when N is the default 10") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    fs::copy(t.out, dir / "run");
    const Result r = run({"train", "--data", t.data.string(), "--out", (dir / "run").string(), "--resume", "--epochs",
                          "10", "--threads", "1"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto metrics = read_csv(dir / "run" / "metrics.csv");
    REQUIRE(metrics.size() == 11);
    CHECK(metrics[10][0] == "10");
    CHECK(vaelet::read_checkpoint_config((dir / "run" / "checkpoint.safetensors").string()).train.epochs == 10);
    CHECK(fs::exists(dir / "run" / "samples_epoch10.png"));
}

TEST_CASE("train: --optimizer sgd --momentum --schedule cosine trains, records them, and resumes into the same run") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    // The cosine schedule spans all --epochs, so a run resumed with a larger --epochs is another run; the resume
    // check below uses the constant schedule (the momentum buffers are what must carry over).
    const Args cosine = {"--optimizer", "sgd", "--lr", "0.001", "--momentum", "0.9", "--schedule", "cosine",
                         "--min-lr", "0.0001"};
    const Result trained =
        run(concat(concat({"train", "--data", t.data.string(), "--out", (dir / "cosine").string(), "--epochs", "2"},
                          small_model()),
                   cosine));
    INFO(trained.output);
    REQUIRE(trained.code == 0);
    const vaelet::RunConfig cc = vaelet::read_checkpoint_config((dir / "cosine" / "checkpoint.safetensors").string());
    CHECK(cc.train.schedule == "cosine");
    CHECK(cc.train.min_lr == 0.0001);

    const Args sgd = {"--optimizer", "sgd", "--lr", "0.001", "--momentum", "0.9"};
    const Result straight =
        run(concat(concat({"train", "--data", t.data.string(), "--out", (dir / "straight").string(), "--epochs", "2"},
                          small_model()),
                   sgd));
    INFO(straight.output);
    REQUIRE(straight.code == 0);
    const vaelet::RunConfig c = vaelet::read_checkpoint_config((dir / "straight" / "checkpoint.safetensors").string());
    CHECK(c.train.optimizer == "sgd");
    CHECK(c.train.momentum == 0.9);
    CHECK(vaelet::load_safetensors((dir / "straight" / "checkpoint.safetensors").string())
              .contains("optim.fc1.weight.momentum_buffer"));

    check_resumes_into(t.data, dir / "resumed", sgd, dir / "straight");

    const Result bad = run(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(), "--momentum",
                                   "0.9"},
                                  small_model()));
    check_one_message(bad, 1, {"--momentum is SGD's; with adam leave it 0"});
}

TEST_CASE("train: --model iwae --samples 3 --dreg trains, records the objective, resumes into the same run, and evaluates") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Args iwae = {"--model", "iwae", "--samples", "3", "--dreg"};
    const Result straight = run(concat(
        concat({"train", "--data", t.data.string(), "--out", (dir / "straight").string(), "--epochs", "2"}, small_model()),
        iwae));
    INFO(straight.output);
    REQUIRE(straight.code == 0);
    const auto ckpt = (dir / "straight" / "checkpoint.safetensors").string();
    const vaelet::RunConfig c = vaelet::read_checkpoint_config(ckpt);
    CHECK(c.train.objective == "iwae");
    CHECK(c.train.samples == 3);
    CHECK(c.train.dreg);
    check_metrics(dir / "straight" / "metrics.csv", 2);

    check_resumes_into(t.data, dir / "resumed", iwae, dir / "straight");

    const Result eval = run({"eval", "--ckpt", ckpt, "--data", t.data.string(), "--k", "20"});
    INFO(eval.output);
    CHECK(eval.code == 0);

    check_one_message(run(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(), "--samples", "3"},
                                 small_model())),
                      1, {"--samples is for the IWAE objective; with the ELBO leave it 1"});
    check_one_message(run(concat(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(),
                                         "--free-bits", "0.5"},
                                        small_model()),
                                 iwae)),
                      1, {"--free-bits is for the ELBO"});
    check_one_message(run(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(), "--model", "vq"},
                                 small_model())),
                      1, {"--model is \"vq\"; use vae, iwae, vamp, flow, tcvae or two-layer"});
}

TEST_CASE("train: --model vamp --pseudo-inputs 10 learns a VampPrior that the checkpoint keeps and the tools sample from") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Result trained = run(concat(concat({"train", "--data", t.data.string(), "--out", (dir / "vamp").string(),
                                              "--epochs", "1"},
                                             small_model()),
                                      {"--model", "vamp", "--pseudo-inputs", "10"}));
    INFO(trained.output);
    REQUIRE(trained.code == 0);
    const auto ckpt = (dir / "vamp" / "checkpoint.safetensors").string();
    const vaelet::RunConfig c = vaelet::read_checkpoint_config(ckpt);
    CHECK(c.model->prior == "vamp");
    CHECK(c.model->pseudo_inputs == 10);
    CHECK(vaelet::load_safetensors(ckpt).at("prior.pseudo_inputs").shape == std::vector<std::int64_t>{10, 784});
    CHECK(dynamic_cast<vaelet::VampPrior<float>*>(&vaelet::load_model<float>(ckpt)->prior()) != nullptr);

    const Result sample = run({"sample", "--ckpt", ckpt, "--out", (dir / "samples.png").string(), "--n", "16"});
    INFO(sample.output);
    CHECK(sample.code == 0);
    CHECK(png_size(dir / "samples.png") == grid_size(16, 4));
    const Result eval = run({"eval", "--ckpt", ckpt, "--data", t.data.string(), "--k", "20"});
    INFO(eval.output);
    CHECK(eval.code == 0);

    check_one_message(run(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(),
                                  "--pseudo-inputs", "5"},
                                 small_model())),
                      1, {"--pseudo-inputs is for --model vamp"});
    check_one_message(run(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(), "--model", "vamp",
                                  "--conditional"},
                                 small_model())),
                      1, {"the VampPrior is for unconditional models"});
}

TEST_CASE("train: --model tcvae --beta 4 logs the KL's split per epoch, and resumes into the same run") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Args tcvae = {"--model", "tcvae", "--beta", "4"};
    const Result straight = run(concat(
        concat({"train", "--data", t.data.string(), "--out", (dir / "straight").string(), "--epochs", "2"}, small_model()),
        tcvae));
    INFO(straight.output);
    REQUIRE(straight.code == 0);
    CHECK(straight.output.find("train kl = mi ") != std::string::npos);
    const auto metrics = read_csv(dir / "straight" / "metrics.csv");
    REQUIRE(metrics.size() == 3);
    REQUIRE(metrics[0].size() == 12);
    CHECK(metrics[0][9] == "train_mutual_information");
    CHECK(metrics[0][10] == "train_total_correlation");
    CHECK(metrics[0][11] == "train_dimension_kl");
    for (std::size_t e = 1; e <= 2; ++e)
        CHECK(finite_number(metrics[e][9]) + finite_number(metrics[e][10]) + finite_number(metrics[e][11]) ==
              doctest::Approx(finite_number(metrics[e][3])).epsilon(1e-4));
    CHECK(vaelet::read_checkpoint_config((dir / "straight" / "checkpoint.safetensors").string()).train.objective == "tcvae");

    check_resumes_into(t.data, dir / "resumed", tcvae, dir / "straight");
}

TEST_CASE("train: --model flow --flow-steps 2 trains an IAF posterior that the checkpoint keeps and every tool uses") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Args flow = {"--model", "flow", "--flow-steps", "2", "--flow-hidden", "16"};
    const Result straight = run(concat(
        concat({"train", "--data", t.data.string(), "--out", (dir / "straight").string(), "--epochs", "2"}, small_model()),
        flow));
    INFO(straight.output);
    REQUIRE(straight.code == 0);
    const auto ckpt = (dir / "straight" / "checkpoint.safetensors").string();
    CHECK(vaelet::read_checkpoint_config(ckpt).model->flow_steps == 2);
    CHECK(vaelet::load_safetensors(ckpt).at("flow.1.gate.weight").shape == std::vector<std::int64_t>{4, 16});
    CHECK(vaelet::load_model<float>(ckpt)->flow() != nullptr);
    for (const Args& tool : std::vector<Args>{{"eval", "--k", "20"}, {"score", "--out", (dir / "s.csv").string()},
                                              {"encode", "--out", (dir / "z.csv").string()}}) {
        Args command = {tool[0], "--ckpt", ckpt, "--data", t.data.string()};
        command.insert(command.end(), tool.begin() + 1, tool.end());
        const Result r = run(command);
        INFO(r.output);
        CHECK(r.code == 0);
    }

    check_resumes_into(t.data, dir / "resumed", flow, dir / "straight");
    check_one_message(run(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(), "--flow-steps", "3"},
                                 small_model())),
                      1, {"--flow-steps and --flow-hidden are for --model flow"});
}

TEST_CASE("train: --model two-layer --latent2 3 trains two stochastic layers that every tool and --resume use") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Args two = {"--model", "two-layer", "--latent2", "3", "--hidden2", "8"};
    const Result straight = run(concat(
        concat({"train", "--data", t.data.string(), "--out", (dir / "straight").string(), "--epochs", "2"}, small_model()),
        two));
    INFO(straight.output);
    REQUIRE(straight.code == 0);
    const auto ckpt = (dir / "straight" / "checkpoint.safetensors").string();
    const vaelet::RunConfig c = vaelet::read_checkpoint_config(ckpt);
    CHECK(c.model->prior == "two_layer");
    CHECK(c.model->latent2 == 3);
    CHECK(vaelet::load_safetensors(ckpt).at("prior.decoder.fc21.weight").shape == std::vector<std::int64_t>{4, 8});
    for (const Args& tool : std::vector<Args>{{"eval", "--k", "20"}, {"score", "--out", (dir / "s.csv").string()}}) {
        Args command = {tool[0], "--ckpt", ckpt, "--data", t.data.string()};
        command.insert(command.end(), tool.begin() + 1, tool.end());
        const Result r = run(command);
        INFO(r.output);
        CHECK(r.code == 0);
    }
    const Result sample = run({"sample", "--ckpt", ckpt, "--out", (dir / "s.png").string(), "--n", "4"});
    CHECK(sample.code == 0);

    check_resumes_into(t.data, dir / "resumed", two, dir / "straight");
    check_one_message(run(concat({"train", "--data", t.data.string(), "--out", (dir / "bad").string(), "--latent2", "3"},
                                 small_model())),
                      1, {"--latent2 and --hidden2 are for --model two-layer"});
}
