// vaelet-mnist train, stopped from outside: killed outright (SIGKILL) or asked to stop (SIGINT, SIGTERM); either
// way `--resume` must finish with the very bytes of a run that was never stopped (issues #4 and #6).
#include "harness.hpp"

#include "vaelet/io/safetensors.hpp"

using namespace cli;

namespace {

/// 2000 images in batches of 8 through a wider model: each epoch takes long enough (some tenths of a second
/// or more) for a signal to land in the middle of one.
Args long_run() {
    return {"--hidden", "128", "--latent", "4", "--batch", "8", "--threads", "1", "--seed", "7", "--epochs", "3"};
}

/// A data set and the checkpoint and metrics of an uninterrupted 3-epoch run on it.
struct Reference {
    TempDir dir;
    fs::path data = dir / "data", out = dir / "straight";

    Reference() {
        write_digits(data, 2000, 100);
        const Result r = run(concat({"train", "--data", data.string(), "--out", out.string()}, long_run()));
        INFO(r.output);
        REQUIRE(r.code == 0);
    }
};

/// Starts the long run into `out`, waits for the checkpoint of epoch 1 and then for a quarter of the time that
/// took (so the next epoch is under way), sends `sig` and waits for the program to end.
Result interrupt(const fs::path& data, const fs::path& out, int sig) {
    const auto start = std::chrono::steady_clock::now();
    Process p = spawn(concat({"train", "--data", data.string(), "--out", out.string()}, long_run()));
    REQUIRE(wait_for_file(out / "checkpoint.safetensors", p));
    std::this_thread::sleep_for((std::chrono::steady_clock::now() - start) / 4);
    REQUIRE(p.running());
    p.signal(sig);
    return p.wait();
}

/// `--resume` in `out` finishes with the reference's checkpoint bytes and metrics (timing aside).
void check_resume_equals(const Reference& ref, const fs::path& out) {
    const Result r = run({"train", "--data", ref.data.string(), "--out", out.string(), "--resume", "--threads", "1"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    check_same_run(out, ref.out);
    CHECK(tmp_files(out).empty());
}

/// SIGINT and SIGTERM: the program finishes its step, saves a mid-epoch checkpoint, says so and exits 128 + sig.
void check_stop_signal(int sig) {
    const Reference ref;
    TempDir dir;
    const Result r = interrupt(ref.data, dir / "run", sig);
    INFO(r.output);
    CHECK(r.code == 128 + sig);

    // progress = {epochs done, steps, epoch under way, batches done in it}: stopped inside epoch 2 (or, on a
    // machine whose speed changed a lot meanwhile, epoch 3), with the batches done so far counted.
    const auto progress = vaelet::load_safetensors((dir / "run" / "checkpoint.safetensors").string())
                              .get_vector<std::int64_t>("progress");
    REQUIRE(progress.size() == 4);
    CHECK(progress[2] == 1);
    CHECK((progress[0] == 1 || progress[0] == 2));
    CHECK(progress[3] < 250);
    CHECK(progress[1] == 250 * progress[0] + progress[3]);
    CHECK(read_csv(dir / "run" / "metrics.csv").size() == std::size_t(progress[0] + 1));
    CHECK(r.output.find("stopped by signal " + std::to_string(sig) + " in epoch " + std::to_string(progress[0] + 1) +
                        "; checkpoint saved to") != std::string::npos);
    CHECK(r.output.find("continue with --resume") != std::string::npos);

    check_resume_equals(ref, dir / "run");
}

}  // namespace

TEST_CASE("train: killed (SIGKILL) mid-epoch, then --resume, ends with an uninterrupted run's bytes") {
    const Reference ref;
    TempDir dir;
    const Result r = interrupt(ref.data, dir / "run", SIGKILL);
    CHECK(r.code == 128 + SIGKILL);
    const std::size_t rows = read_csv(dir / "run" / "metrics.csv").size();  // header, epoch 1 (and 2, if slow)
    CHECK((rows == 2 || rows == 3));
    check_resume_equals(ref, dir / "run");
}

TEST_CASE("train: SIGINT saves a mid-epoch checkpoint and exits 130, and --resume ends with an uninterrupted run's bytes") {
    check_stop_signal(SIGINT);
}

TEST_CASE("train: SIGTERM saves a mid-epoch checkpoint and exits 143, and --resume ends with an uninterrupted run's bytes") {
    check_stop_signal(SIGTERM);
}
