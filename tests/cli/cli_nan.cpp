// vaelet-mnist train when the loss stops being finite: the NaN guard stops the run with a message that names the
// step and the op, keeps the last good checkpoint, or with --skip-nonfinite skips such batches (issue #6).
#include "harness.hpp"

#include "vaelet/io/safetensors.hpp"
#include "vaelet/train/checkpoint.hpp"

#include <nlohmann/json.hpp>

using namespace cli;

namespace {

/// Rewrites the learning rate stored in a checkpoint's config, which a resumed run uses.
void set_stored_lr(const fs::path& ckpt, double lr) {
    vaelet::SafeTensors st = vaelet::load_safetensors(ckpt.string());
    nlohmann::json config = nlohmann::json::parse(st.metadata.at("config"));
    config["train"]["lr"] = lr;
    st.metadata["config"] = config.dump();
    vaelet::save_safetensors(ckpt.string(), st);
}

}  // namespace

TEST_CASE("nan guard: a non-finite loss stops training with a message naming the step and the op") {
    TempDir dir;
    // Adam moves every weight by about lr in its first step: 1e30 makes the second step's products overflow.
    const Result r = run(concat({"train", "--data", trained_run().data.string(), "--out", (dir / "run").string(),
                                 "--epochs", "2", "--lr", "1e30"},
                                small_model()));
    check_one_message(r, 1, {"the loss is not finite at step 2 (epoch 1)", "first non-finite value produced by op '",
                             "lower --lr", "--skip-nonfinite"},
                      /*alone=*/false);
    CHECK(snapshot(dir / "run").empty());  // no checkpoint, no metrics, no half-written file
}

TEST_CASE("nan guard: a run that diverges after epoch 1 keeps epoch 1's checkpoint, also with --skip-nonfinite") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const fs::path out = dir / "run", ckpt = out / "checkpoint.safetensors";
    REQUIRE(run(concat({"train", "--data", t.data.string(), "--out", out.string(), "--epochs", "1"}, small_model()))
                .code == 0);
    // From epoch 2 on the run goes on with lr 1e30 (epoch 1 has 10 steps of 32 images; step 11 ruins the weights).
    set_stored_lr(ckpt, 1e30);
    const auto before = snapshot(out);
    const Args resume{"train", "--data", t.data.string(), "--out", out.string(), "--resume", "--epochs", "3"};

    const Result r = run(resume);
    check_one_message(r, 1, {"the loss is not finite at step 12 (epoch 2)", "op '"}, /*alone=*/false);
    CHECK(snapshot(out) == before);
    CHECK(vaelet::read_checkpoint_config(ckpt.string()).train.epochs == 1);
    CHECK(vaelet::load_model<float>(ckpt.string())->parameter_count() > 0);

    // --skip-nonfinite (honoured on --resume, as the message advises) skips the bad batches, but weights that
    // have diverged make the test loss non-finite: one clear message, and still nothing of epoch 2 saved.
    const Result skipped = run(concat(resume, {"--skip-nonfinite"}));
    check_one_message(skipped, 1,
                      {"epoch 2: the test loss is not finite, so the model has diverged (9 non-finite batches skipped)",
                       "lower --lr"},
                      /*alone=*/false);
    CHECK(snapshot(out) == before);
}

TEST_CASE("nan guard: with --skip-nonfinite, training goes on past non-finite batches") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    // A β beyond float's range makes every step's loss infinite (β·KL); evaluation uses β = 1 and stays finite.
    const Args args = concat({"train", "--data", t.data.string(), "--epochs", "2", "--beta", "1e39"}, small_model());

    const Result stopped = run(concat(args, {"--out", (dir / "stopped").string()}));
    check_one_message(stopped, 1, {"the loss is not finite at step 1 (epoch 1)", "op '", "--skip-nonfinite"},
                      /*alone=*/false);
    CHECK(snapshot(dir / "stopped").empty());

    const Result r = run(concat(args, {"--out", (dir / "skipped").string(), "--skip-nonfinite"}));
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("epoch 2/2") != std::string::npos);
    CHECK(r.output.find("(10 non-finite batches skipped)") != std::string::npos);
    const auto metrics = read_csv(dir / "skipped" / "metrics.csv");
    REQUIRE(metrics.size() == 3);
    CHECK(finite_number(metrics[2][4]) > 0);  // test loss
    const auto ckpt = (dir / "skipped" / "checkpoint.safetensors").string();
    CHECK(vaelet::read_checkpoint_config(ckpt).train.skip_non_finite);
    CHECK(vaelet::load_model<float>(ckpt)->parameter_count() > 0);
}
