// vaelet-mnist train --distributed under mpirun (issue #8): two processes make the single-process run up to float
// summation order; a signal stops both with a checkpoint that resumes exactly; a rank that dies ends the job and
// the last checkpoint resumes it. Built only when MPI is found (tests/cli/CMakeLists.txt gives VAELET_MPIEXEC).
#include "harness.hpp"

#include "vaelet/io/safetensors.hpp"

#include <algorithm>
#include <cstdlib>
#include <dirent.h>

using namespace cli;

namespace {

/// Arguments of mpiexec starting `processes` copies of vaelet-mnist. The environment lets Open MPI run as root
/// (CI does) and put more processes than cores on a machine; other MPIs ignore it. Under AddressSanitizer (the
/// asan preset), leak checking is off for what mpiexec starts: Open MPI's plug-ins leak at MPI_Finalize and are
/// unloaded before LeakSanitizer reports, so no suppression can name them.
Args mpiexec(int processes, const Args& args) {
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    ::setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);
    const std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    if (asan.find("detect_leaks=0") == std::string::npos)
        ::setenv("ASAN_OPTIONS", (asan.empty() ? "detect_leaks=0" : asan + ":detect_leaks=0").c_str(), 1);
    return concat({VAELET_MPIEXEC_NUMPROC_FLAG, std::to_string(processes), VAELET_MNIST}, args);
}

Result run_mpi(int processes, const Args& args) { return run_program(VAELET_MPIEXEC, mpiexec(processes, args)); }

/// Rank 0 with `args0` and rank 1 with `args1` (MPI's colon syntax for one job of several commands).
Result run_mpi_two(const Args& args0, const Args& args1) {
    return run_program(VAELET_MPIEXEC, concat(mpiexec(1, args0), concat({":"}, mpiexec(1, args1))));
}
Process spawn_mpi(int processes, const Args& args) { return Process(VAELET_MPIEXEC, mpiexec(processes, args)); }

/// The trained weights in a run's checkpoint, by name.
std::map<std::string, vaelet::Matrix<float>> weights(const fs::path& run) {
    const auto st = vaelet::load_safetensors((run / "checkpoint.safetensors").string());
    std::map<std::string, vaelet::Matrix<float>> w;
    for (const auto& entry : st.tensors())
        if (entry.first.rfind("fc", 0) == 0) w[entry.first] = st.get_matrix<float>(entry.first);
    return w;
}

/// 2000 images in batches of 8 through a wider model, 3 epochs: long enough for a signal to land mid-epoch.
Args long_run(const fs::path& data, const fs::path& out) {
    return {"train", "--distributed", "--data", data.string(), "--out", out.string(), "--hidden", "128", "--latent",
            "4", "--batch", "8", "--threads", "1", "--seed", "7", "--epochs", "3"};
}

/// The process id of rank `rank` of the job writing to `out` (found by Open MPI's environment variable).
pid_t rank_pid(const fs::path& out, int rank) {
    const std::string want_env = "OMPI_COMM_WORLD_RANK=" + std::to_string(rank);
    DIR* proc = ::opendir("/proc");
    REQUIRE(proc != nullptr);
    pid_t found = -1;
    while (const dirent* e = ::readdir(proc)) {
        const pid_t pid = pid_t(std::atoi(e->d_name));
        if (pid <= 0) continue;
        const fs::path dir = fs::path("/proc") / e->d_name;
        std::string cmdline = read_file(dir / "cmdline"), env = read_file(dir / "environ");
        std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
        std::replace(env.begin(), env.end(), '\0', '\n');
        if (cmdline.find(VAELET_MNIST) == 0 && cmdline.find(out.string()) != std::string::npos &&
            ("\n" + env).find("\n" + want_env + "\n") != std::string::npos)
            found = pid;
    }
    ::closedir(proc);
    return found;
}

/// The long run on 2 ranks, with rank 1 sent `sig` once epoch 1's checkpoint is written and `wait_epochs` of an
/// epoch more have passed; returns how the job ended. Before that, an uninterrupted run into dir / "straight", for
/// check_resumed_run to compare with.
Result signal_rank1(const TempDir& dir, int sig, double wait_epochs) {
    write_digits(dir / "data", 2000, 100);
    const Result straight = run_mpi(2, long_run(dir / "data", dir / "straight"));
    INFO(straight.output);
    REQUIRE(straight.code == 0);

    Process p = spawn_mpi(2, long_run(dir / "data", dir / "run"));
    REQUIRE(wait_for_file(dir / "run" / "checkpoint.safetensors", p));
    const double epoch_seconds = finite_number(read_csv(dir / "run" / "metrics.csv").at(1).at(7));
    std::this_thread::sleep_for(std::chrono::duration<double>(epoch_seconds * wait_epochs));
    const pid_t rank1 = rank_pid(dir / "run", 1);
    REQUIRE(rank1 > 0);
    REQUIRE(::kill(rank1, sig) == 0);
    return p.wait();  // must end: rank 0 must not wait for ever in the all-reduce
}

/// --resume of the signalled run finishes with the uninterrupted run's very bytes: for a given number of ranks,
/// MPI sums in a fixed order, so distributed runs are as deterministic as single ones.
void check_resumed_run(const TempDir& dir) {
    const Result resumed = run_mpi(2, concat(long_run(dir / "data", dir / "run"), {"--resume"}));
    INFO(resumed.output);
    REQUIRE(resumed.code == 0);
    check_same_run(dir / "run", dir / "straight");
}

/// Trains with `common` (for `epochs` epochs) alone into dir / "alone" and on 2 ranks with --distributed into
/// dir / "two", checks that every epoch's losses agree up to float summation order, and returns the 2-rank job.
Result train_alone_and_on_two(const fs::path& dir, const Args& common, int epochs) {
    const Result alone = run(concat({"train", "--out", (dir / "alone").string()}, common));
    INFO(alone.output);
    REQUIRE(alone.code == 0);
    const Result together = run_mpi(2, concat({"train", "--distributed", "--out", (dir / "two").string()}, common));
    INFO(together.output);
    REQUIRE(together.code == 0);
    const auto a = check_metrics(dir / "alone" / "metrics.csv", epochs);
    const auto b = check_metrics(dir / "two" / "metrics.csv", epochs);
    for (std::size_t row = 1; row < a.size(); ++row)
        for (std::size_t col = 1; col < 7; ++col) {  // the losses; not the timing
            CAPTURE(row);
            CAPTURE(col);
            CHECK(finite_number(b[row][col]) == doctest::Approx(finite_number(a[row][col])).epsilon(1e-5));
        }
    return together;
}

/// progress = {epochs done, steps, epoch under way, batches done in it} of a run's checkpoint.
std::vector<std::int64_t> progress(const fs::path& run) {
    return vaelet::load_safetensors((run / "checkpoint.safetensors").string()).get_vector<std::int64_t>("progress");
}

}  // namespace

TEST_CASE("train --distributed on 2 processes makes the single-process run, up to float summation order") {
    TempDir dir;
    write_digits(dir / "data", 301, 100);  // batches of 32: nine full ones and one of 13, split 6 + 7
    const Args common = concat({"--data", (dir / "data").string(), "--epochs", "2"}, small_model());
    const Result together = train_alone_and_on_two(dir.path(), common, 2);
    INFO(together.output);

    // Rank 0 alone speaks and writes: one banner, one line per epoch, the same files as a single process.
    CHECK(together.output.find("batch 32, 2 processes x 1 thread(s)") != std::string::npos);
    CHECK(together.output.find("training ") == together.output.rfind("training "));
    CHECK(snapshot(dir / "two").size() == snapshot(dir / "alone").size());

    const auto wa = weights(dir / "alone"), wb = weights(dir / "two");
    REQUIRE(wa.size() == 10);  // fc1 … fc5, weight and bias
    REQUIRE(wb.size() == wa.size());
    double most = 0;
    for (const auto& [name, w] : wa) most = std::max(most, double((w - wb.at(name)).cwiseAbs().maxCoeff()));
    INFO("largest weight difference: " << most);
    CHECK(most < 1e-4);
    CHECK(most > 0);  // two processes really summed in another order (else this test proves nothing)
}

TEST_CASE("train --distributed: SIGTERM to one rank stops every rank with a checkpoint, and --resume finishes exactly") {
    // Rank 1 alone gets the signal (as from a batch system that signals one task first): its stop vote travels
    // with the next step's gradients, and rank 0 saves the checkpoint. (mpiexec itself forwards a SIGTERM to all
    // ranks, but only after a second or two: docs/distributed.md.)
    TempDir dir;
    const Result stopped = signal_rank1(dir, SIGTERM, 0.25);
    INFO(stopped.output);
    CHECK(stopped.code != 0);
    CHECK(stopped.output.find("stopped by a signal to another rank in epoch") != std::string::npos);
    const auto at = progress(dir / "run");
    CHECK(at[2] == 1);  // a mid-epoch checkpoint
    CHECK(at[0] < 3);
    check_resumed_run(dir);
}

TEST_CASE("train --distributed: a rank that dies ends the job, and --resume goes on from the last checkpoint") {
    TempDir dir;
    const Result died = signal_rank1(dir, SIGKILL, 0.0);
    INFO(died.output);
    CHECK(died.code != 0);
    CHECK(died.output.find("rank 1") != std::string::npos);  // mpiexec names the rank that died
    check_resumed_run(dir);
}

TEST_CASE("train --distributed: a bad setting is one error from rank 0, and the job ends") {
    TempDir dir;
    write_digits(dir / "data", 100, 20);
    const Result r = run_mpi(2, {"train", "--distributed", "--data", (dir / "data").string(), "--out",
                                 (dir / "run").string(), "--batch", "1", "--threads", "1"});
    INFO(r.output);
    CHECK(r.code != 0);
    CHECK(r.output.find("vaelet-mnist: error on rank 0 of 2: --batch 1 is smaller than the 2 processes that share "
                        "each batch") != std::string::npos);
    CHECK(r.output.find("error on rank 1") == std::string::npos);
}

TEST_CASE("train --distributed: a rank that reads other data stops the job with an error naming both counts") {
    TempDir dir;
    write_digits(dir / "a", 300, 20);
    write_digits(dir / "b", 200, 20);
    const Args common{"--out", (dir / "run").string(), "--batch", "32", "--threads", "1", "--epochs", "1"};
    const Result r = run_mpi_two(concat({"train", "--distributed", "--data", (dir / "a").string()}, common),
                                 concat({"train", "--distributed", "--data", (dir / "b").string()}, common));
    INFO(r.output);
    CHECK(r.code != 0);
    CHECK(r.output.find("vaelet-mnist: error on rank 1 of 2: this rank has 200 training images but rank 0 has 300; "
                        "every rank must read the same data") != std::string::npos);
    CHECK(!fs::exists(dir / "run" / "checkpoint.safetensors"));
}

TEST_CASE("train --distributed --arch conv: every rank builds the conv VAE, and 2 processes make the single run") {
    TempDir dir;
    write_digits(dir / "data", 200, 40);
    const Args common{"--data", (dir / "data").string(), "--epochs", "1", "--arch", "conv", "--conv-channels", "4",
                      "8", "--hidden", "16", "--latent", "4", "--batch", "32", "--threads", "1", "--seed", "7"};
    train_alone_and_on_two(dir.path(), common, 1);
    const auto wa = vaelet::load_safetensors((dir / "alone" / "checkpoint.safetensors").string());
    const auto wb = vaelet::load_safetensors((dir / "two" / "checkpoint.safetensors").string());
    for (const char* name : {"conv1.weight", "deconv2.weight"}) {
        CAPTURE(name);
        CHECK((wa.get_matrix<float>(name) - wb.get_matrix<float>(name)).cwiseAbs().maxCoeff() < 1e-4);
    }
}
