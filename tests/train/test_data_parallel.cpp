// Data-parallel training (Trainer with a Communicator), on threads standing in for processes: P trainers must
// make the single-process run with the same batch, up to the order of float sums.
#include "synthetic.hpp"
#include "thread_communicator.hpp"
#include "vaelet/nn/function.hpp"
#include "vaelet/train/trainer.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace vaelet;
using testing::ThreadCommunicator;
using testing::ThreadGroup;

namespace {

VaeConfig small_config() {
    VaeConfig c;
    c.input = 64;
    c.hidden = {32};
    c.latent = 3;
    return c;
}

/// The model under test: the MLP of small_config, one composed of modules (a Function among them), or the MLP
/// with a second stochastic layer.
enum class Model { mlp, composed, two_layer };

template <class T>
Var<T> swish(const Var<T>& x) {
    return x * sigmoid(x);
}

template <class T>
std::unique_ptr<Vae<T>> make_model(Model kind, Rng& init) {
    if (kind == Model::mlp) return std::make_unique<Vae<T>>(small_config(), init);
    if (kind == Model::two_layer) {
        VaeConfig c = small_config();
        c.prior = "two_layer";
        return std::make_unique<Vae<T>>(c, init);
    }
    Sequential<T> encoder, decoder;
    encoder.add(Linear<T>(64, 20, init)).add(Function<T>("swish", swish<T>)).add(Linear<T>(20, 6, init));
    decoder.add(Linear<T>(3, 20, init)).add(Activation::tanh).add(Linear<T>(20, 64, init));
    return std::make_unique<Vae<T>>(std::move(encoder), std::move(decoder),
                                    Likelihood<T>(LikelihoodKind::gaussian_learned_per_dim, 64, 0.5), 3);
}

TrainOptions small_options() {
    TrainOptions o;
    o.epochs = 2;
    o.batch = 32;  // 203 examples: six full batches and one of 11, which splits unevenly
    o.lr = 3e-3;
    o.seed = 5;
    return o;
}

/// What a run leaves behind, per process.
template <class T>
struct Outcome {
    std::vector<Matrix<T>> weights;
    std::vector<Losses> epochs;
    Rng::State noise;
    long steps = 0, all_reduces = 0;
    double skipped = 0;
    std::string error;
};

template <class T>
Outcome<T> train_alone(const Dataset& data, const TrainOptions& options, Model kind = Model::mlp) {
    Outcome<T> o;
    Rng init(options.seed);
    const std::unique_ptr<Vae<T>> model = make_model<T>(kind, init);
    Vae<T>& vae = *model;
    Trainer<T> trainer(vae, data, options);
    while (trainer.epoch() < options.epochs) o.epochs.push_back(trainer.train_epoch());
    for (auto& p : vae.named_parameters()) o.weights.push_back(p.param->value);
    o.noise = trainer.state().noise_rng;
    o.steps = trainer.step();
    o.skipped = trainer.sums().skipped_batches;
    return o;
}

/// `processes` trainers on threads. Each initializes its model from a different seed, so only the broadcast from
/// process 0 can make them agree. `stop_after(rank)` gives a process's stop flag that many steps into the run
/// (-1: never).
template <class T>
std::vector<Outcome<T>> train_together(const Dataset& data, const TrainOptions& options, int processes,
                                       const std::function<long(int)>& stop_after = [](int) { return -1L; },
                                       Model kind = Model::mlp) {
    ThreadGroup group(processes);
    std::vector<Outcome<T>> outcomes{std::size_t(processes)};
    std::vector<std::thread> threads;
    for (int rank = 0; rank < processes; ++rank)
        threads.emplace_back([&, rank] {
            Outcome<T>& o = outcomes[std::size_t(rank)];
            ThreadCommunicator peers(group, rank);
            try {
                Rng init(options.seed + 100 * std::uint64_t(rank));
                const std::unique_ptr<Vae<T>> model = make_model<T>(kind, init);
                Vae<T>& vae = *model;
                Trainer<T> trainer(vae, data, options, &peers);
                std::atomic<bool> stop{false};
                long steps = 0;
                const long stop_at = stop_after(rank);
                trainer.on_step([&](const StepReport&) { stop = ++steps == stop_at; });
                while (trainer.epoch() < options.epochs) {
                    o.epochs.push_back(trainer.train_epoch(&stop));
                    if (!trainer.finished()) break;
                }
                for (auto& p : vae.named_parameters()) o.weights.push_back(p.param->value);
                o.noise = trainer.state().noise_rng;
                o.steps = trainer.step();
                o.skipped = trainer.sums().skipped_batches;
            } catch (const std::exception& e) {
                o.error = e.what();
            }
            o.all_reduces = peers.sums;
        });
    for (auto& t : threads) t.join();
    return outcomes;
}

template <class T>
double max_difference(const std::vector<Matrix<T>>& a, const std::vector<Matrix<T>>& b) {
    REQUIRE(a.size() == b.size());
    double most = 0;
    for (std::size_t k = 0; k < a.size(); ++k) most = std::max(most, double((a[k] - b[k]).cwiseAbs().maxCoeff()));
    return most;
}

bool same_state(const Rng::State& a, const Rng::State& b) {
    return a.s == b.s && a.has_spare == b.has_spare && (!a.has_spare || a.spare == b.spare);
}

}  // namespace

TEST_CASE("data-parallel training on 2 and 3 processes is the single-process run up to float summation order") {
    const Dataset data = testing::synthetic_images(203, 1);
    const Outcome<double> alone = train_alone<double>(data, small_options());
    for (const int processes : {2, 3}) {
        CAPTURE(processes);
        const auto together = train_together<double>(data, small_options(), processes);
        for (const auto& o : together) {
            REQUIRE(o.error.empty());
            CHECK(o.steps == alone.steps);
            CHECK(o.all_reduces == alone.steps);  // one all-reduce per step, nothing per parameter
            CHECK(same_state(o.noise, alone.noise));  // each process drew or skipped exactly the batch's noise
            CHECK(max_difference(o.weights, together[0].weights) == 0.0);  // the processes' models are identical
            const double off = max_difference(o.weights, alone.weights);
            INFO("largest weight difference from the single process: " << off);
            CHECK(off < 1e-10);
            REQUIRE(o.epochs.size() == alone.epochs.size());
            for (std::size_t e = 0; e < o.epochs.size(); ++e) {
                CHECK(o.epochs[e].recon == doctest::Approx(alone.epochs[e].recon).epsilon(1e-12));
                CHECK(o.epochs[e].kl == doctest::Approx(alone.epochs[e].kl).epsilon(1e-12));
            }
        }
    }
}

TEST_CASE("a composed model (a Function in a Sequential, a learned σ) with SGD trains data-parallel as it trains alone") {
    const Dataset data = testing::synthetic_images(203, 1);
    TrainOptions options = small_options();
    options.optimizer = "sgd";
    options.momentum = 0.9;
    options.lr = 1e-4;
    options.free_bits = 0.1;
    const Outcome<double> alone = train_alone<double>(data, options, Model::composed);
    const auto together = train_together<double>(data, options, 2, [](int) { return -1L; }, Model::composed);
    for (const auto& o : together) {
        REQUIRE(o.error.empty());
        CHECK(o.steps == alone.steps);
        CHECK(max_difference(o.weights, together[0].weights) == 0.0);
        const double off = max_difference(o.weights, alone.weights);
        INFO("largest weight difference from the single process: " << off);
        CHECK(off < 1e-10);
        CHECK(o.epochs.back().loss == doctest::Approx(alone.epochs.back().loss).epsilon(1e-12));
    }
}

TEST_CASE("data-parallel training in float stays within float rounding of the single process") {
    const Dataset data = testing::synthetic_images(203, 1);
    const Outcome<float> alone = train_alone<float>(data, small_options());
    const auto together = train_together<float>(data, small_options(), 2);
    for (const auto& o : together) {
        REQUIRE(o.error.empty());
        const double off = max_difference(o.weights, alone.weights);
        INFO("largest weight difference from the single process: " << off);
        CHECK(off < 1e-4);
        CHECK(o.epochs.back().loss == doctest::Approx(alone.epochs.back().loss).epsilon(1e-5));
    }
}

TEST_CASE("a stop flag on any one process stops every process after the same step") {
    const Dataset data = testing::synthetic_images(203, 1);
    TrainOptions options = small_options();
    options.epochs = 3;
    // Process 1 sees its flag after its 9th step (the 3rd of epoch 2); the vote travels with the 10th step's
    // gradients, so everyone stops after step 10.
    const auto together = train_together<float>(data, options, 2, [](int rank) { return rank == 1 ? 9L : -1L; });
    for (const auto& o : together) {
        REQUIRE(o.error.empty());
        CHECK(o.steps == 10);
        CHECK(o.epochs.size() == 2);
    }
}

TEST_CASE("a batch with fewer rows than processes leaves some processes an empty slice") {
    const Dataset data = testing::synthetic_images(65, 1);  // batches of 32, 32 and 1
    const Outcome<double> alone = train_alone<double>(data, small_options());
    const auto together = train_together<double>(data, small_options(), 3);
    for (const auto& o : together) {
        REQUIRE(o.error.empty());
        CHECK(o.steps == alone.steps);
        CHECK(max_difference(o.weights, alone.weights) < 1e-10);
    }
    TrainOptions tiny = small_options();
    tiny.batch = 2;
    const auto refused = train_together<double>(data, tiny, 3);
    CHECK(refused[0].error.find("batch 2 is smaller than the 3 processes") != std::string::npos);
}

TEST_CASE("a non-finite loss on one process is skipped by all processes, or stops all of them with an error") {
    // Float rows with one NaN: the batch holding row 100 has a non-finite loss on whichever process gets that row.
    const Dataset images = testing::synthetic_images(203, 1);
    Matrix<float> values(images.size(), images.features());
    for (Index i = 0; i < images.size(); ++i)
        for (Index j = 0; j < images.features(); ++j) values(i, j) = float(images.image(i)[j]) / 255.0f;
    values(100, 7) = std::nanf("");
    const Dataset data(values, {}, /*check_finite=*/false);  // the NaN on purpose

    TrainOptions options = small_options();
    options.skip_non_finite = true;
    const Outcome<float> alone = train_alone<float>(data, options);
    REQUIRE(alone.skipped == 1);  // the last epoch's sums: one batch an epoch
    for (const auto& o : train_together<float>(data, options, 2)) {
        REQUIRE(o.error.empty());
        CHECK(o.skipped == 1);
        CHECK(o.steps == alone.steps);
        CHECK(max_difference(o.weights, alone.weights) < 1e-4);
    }

    options.skip_non_finite = false;
    const auto failed = train_together<float>(data, options, 2);
    int described = 0;
    for (const auto& o : failed) {
        CAPTURE(o.error);
        CHECK(o.error.find("the loss is not finite at step") == 0);
        if (o.error.find("on another process") == std::string::npos) ++described;
    }
    CHECK(described == 1);  // the process holding the row names the node; the other says where it happened
}

TEST_CASE("free bits floor the whole batch's KL per dimension, also when the batch is split") {
    // Σⱼ max(λ, mean KLⱼ) is not a sum over examples: each process needs the whole batch's mean KL of each
    // dimension. λ = 0.3 lies among this model's per-dimension KLs, so some dimensions are floored and others not.
    const Dataset data = testing::synthetic_images(203, 1);
    TrainOptions options = small_options();
    options.free_bits = 0.3;
    options.epochs = 3;
    const Outcome<double> alone = train_alone<double>(data, options);
    for (const int processes : {2, 3}) {
        CAPTURE(processes);
        for (const auto& o : train_together<double>(data, options, processes)) {
            REQUIRE(o.error.empty());
            const double off = max_difference(o.weights, alone.weights);
            INFO("largest weight difference from the single process: " << off);
            CHECK(off < 1e-10);
            CHECK(o.all_reduces == 2 * alone.steps);  // the gradients, and before them the KL per dimension
        }
    }
}

TEST_CASE("IWAE training (k = 4, DReG, warm-up) data-parallel is the single-process run: each process skips k draws per row") {
    const Dataset data = testing::synthetic_images(203, 1);
    TrainOptions options = small_options();
    options.objective = "iwae";
    options.samples = 4;
    options.dreg = true;
    options.warmup_epochs = 1;
    const Outcome<double> alone = train_alone<double>(data, options);
    for (const int processes : {2, 3}) {
        CAPTURE(processes);
        for (const auto& o : train_together<double>(data, options, processes)) {
            REQUIRE(o.error.empty());
            CHECK(same_state(o.noise, alone.noise));
            const double off = max_difference(o.weights, alone.weights);
            INFO("largest weight difference from the single process: " << off);
            CHECK(off < 1e-10);
            REQUIRE(o.epochs.size() == alone.epochs.size());
            CHECK(o.epochs.back().recon == doctest::Approx(alone.epochs.back().recon).epsilon(1e-12));
        }
    }
}

TEST_CASE("a two-layer model, whose prior draws noise after every row's z, is refused data-parallel with the reason") {
    const Dataset data = testing::synthetic_images(64, 1);
    for (const auto& o : train_together<double>(data, small_options(), 2, [](int) { return -1L; }, Model::two_layer))
        CHECK(o.error.find("the prior draws noise of its own (a two-layer model); train it in one process") !=
              std::string::npos);
}
