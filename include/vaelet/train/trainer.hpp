/// \file
/// vaelet/train/trainer.hpp — the training loop of any VAE on a Dataset (images, or rows of a table): shuffled
/// mini-batches, the ELBO with β warm-up and free bits, the IWAE bound or β-TCVAE, any optimizer and learning-rate schedule, a NaN guard,
/// evaluation, per-step and per-epoch callbacks (early stopping is one), and a state that checkpoints and resumes
/// exactly.
///
///     vaelet::Trainer<float> trainer(vae, train_set, options);     // options.optimizer "adam", "adamw" or "sgd"
///     trainer.on_epoch(vaelet::EarlyStopping(/*patience=*/3));
///     auto history = trainer.fit(&test_set);                       // until options.epochs, or a callback stops it
///
/// Each step reads like PyTorch's loop — forward, loss, backward, (all-reduce), optimizer step — in train_step();
/// training alone is the one-process case of the data-parallel path below.
///
/// Determinism: the trainer owns two random streams seeded from options.seed — one shuffles the data, one draws
/// the reparameterization noise — and evaluation uses a third, re-seeded for every call, so evaluating never
/// moves the training streams. With the same seed and thread count a run is bit-identical, and so is a run
/// resumed from a checkpoint (see train/checkpoint.hpp), which stores both streams, the batch position, the
/// optimizer's moments and the epoch's running sums.
///
/// Data-parallel training: given a Communicator (parallel/communicator.hpp) of P processes, each process takes its
/// slice of every batch (Batcher::split), draws the noise of its own rows and skips the others' (Rng::skip_normals),
/// and one all-reduce per step sums the gradients — each process's weighted by its share of the batch, so the sum
/// is the gradient of the whole batch's mean loss — together with the loss sums and the processes' stop votes. All
/// processes then take the same optimizer step, so their models stay identical, and the run is the single-process
/// run with the same batch up to the order of float sums (docs/distributed.md). Free bits floor the whole batch's
/// mean KL of each latent dimension, which no slice knows alone: with them, a second, latent-sized all-reduce
/// comes first (free_bits_over_batch).
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/one_hot.hpp"
#include "vaelet/core/threads.hpp"
#include "vaelet/data/batcher.hpp"
#include "vaelet/optim/adam.hpp"
#include "vaelet/optim/sgd.hpp"
#include "vaelet/optim/clip.hpp"
#include "vaelet/optim/schedule.hpp"
#include "vaelet/parallel/communicator.hpp"
#include "vaelet/train/nan_guard.hpp"
#include "vaelet/vae/iwae.hpp"
#include "vaelet/vae/tcvae.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vaelet {

/// How a Trainer trains: epochs and batch size, the optimizer and its learning-rate schedule, the objective and its
/// KL weighting, the NaN guard and the seed. validate() checks them (config_error naming the field); fields() lists
/// them for checkpoints.
struct TrainOptions {
    int epochs = 10;                 ///< passes over the training data
    Index batch = 128;               ///< examples per optimizer step (shared by the processes, data-parallel)
    std::string optimizer = "adam";  ///< "adam", "adamw" (decoupled weight decay) or "sgd"
    double lr = 1e-3;                ///< learning rate (where a cosine schedule starts)
    double weight_decay = 0.0;       ///< Adam: L2 added to the gradient; AdamW: decoupled; SGD: L2
    double momentum = 0.0;           ///< SGD's momentum
    std::string schedule = "constant";  ///< learning rate: "constant", or "cosine" from lr to min_lr over all epochs
    double min_lr = 0.0;             ///< where the cosine schedule ends, from 0 to lr
    double beta = 1.0;           ///< final KL weight (β-TCVAE: the total correlation's)
    double warmup_epochs = 0.0;  ///< β rises linearly from 0 to `beta` over this many epochs (0: no warm-up)
    double free_bits = 0.0;      ///< KL floor per latent dimension, nats
    std::string objective = "elbo";  ///< "elbo"; "iwae": the IWAE-k bound (vae/iwae.hpp); "tcvae": β-TCVAE (vae/tcvae.hpp)
    Index samples = 1;           ///< IWAE's k, importance samples per example
    bool dreg = false;           ///< IWAE: the doubly reparameterized encoder gradient
    std::string tc_estimator = "mws";  ///< β-TCVAE's estimates of q(z): "mws" or "stratified" (vae/tcvae.hpp)
    double clip_norm = 0.0;      ///< > 0: clip the gradient's global norm to this
    bool skip_non_finite = false;  ///< on a NaN/Inf loss or gradient: skip the batch (true) or stop with an error
    std::uint64_t seed = 1;      ///< seeds the shuffling stream; the noise stream gets seed + 1

    /// Calls f(name, member, required) for every field, in order: the one list that checkpoints write and read
    /// (train/checkpoint.hpp). Fields added after the first checkpoint format are not required when reading.
    template <class Self, class F>
    static void fields(Self& o, F&& f) {
        f("epochs", o.epochs, true);
        f("batch", o.batch, true);
        f("optimizer", o.optimizer, false);
        f("lr", o.lr, true);
        f("weight_decay", o.weight_decay, false);
        f("momentum", o.momentum, false);
        f("schedule", o.schedule, false);
        f("min_lr", o.min_lr, false);
        f("beta", o.beta, true);
        f("warmup_epochs", o.warmup_epochs, true);
        f("free_bits", o.free_bits, true);
        f("clip_norm", o.clip_norm, true);
        f("skip_non_finite", o.skip_non_finite, true);
        f("seed", o.seed, true);
        f("objective", o.objective, false);
        f("samples", o.samples, false);
        f("dreg", o.dreg, false);
        f("tc_estimator", o.tc_estimator, false);
    }

    /// Throws config_error naming the field (TrainOptions' name; a program maps it to its flag).
    void validate() const {
        const auto fail = [](const std::string& what) { throw config_error("training options: " + what); };
        if (epochs < 1) fail("epochs must be at least 1, got " + std::to_string(epochs));
        if (batch < 1) fail("batch must be at least 1, got " + std::to_string(batch));
        if (optimizer != "adam" && optimizer != "adamw" && optimizer != "sgd")
            fail("optimizer \"" + optimizer + "\" is not one of adam, adamw, sgd");
        if (!(lr > 0) || !std::isfinite(lr)) fail("lr must be a positive number, got " + std::to_string(lr));
        if (!(weight_decay >= 0) || !std::isfinite(weight_decay)) fail("weight_decay must be 0 or more");
        if (!(momentum >= 0) || !std::isfinite(momentum)) fail("momentum must be 0 or more");
        if (momentum > 0 && optimizer != "sgd") fail("momentum is SGD's; with " + optimizer + " leave it 0");
        if (schedule != "constant" && schedule != "cosine")
            fail("schedule \"" + schedule + "\" is not one of constant, cosine");
        if (!(min_lr >= 0) || !(min_lr <= lr)) fail("min_lr must be from 0 to lr, got " + std::to_string(min_lr));
        if (!(beta >= 0) || !std::isfinite(beta)) fail("beta must be 0 or more, got " + std::to_string(beta));
        if (!(warmup_epochs >= 0)) fail("warmup_epochs must be 0 or more");
        if (!(free_bits >= 0)) fail("free_bits must be 0 or more");
        if (!(clip_norm >= 0)) fail("clip_norm must be 0 (off) or more");
        if (objective != "elbo" && objective != "iwae" && objective != "tcvae")
            fail("objective \"" + objective + "\" is not one of elbo, iwae, tcvae");
        if (samples < 1) fail("samples must be at least 1, got " + std::to_string(samples));
        if (objective != "iwae" && samples != 1) fail("samples is for the IWAE objective; with the ELBO leave it 1");
        if (objective != "iwae" && dreg) fail("dreg is for the IWAE objective; with the ELBO leave it off");
        if (tc_estimator != "mws" && tc_estimator != "stratified")
            fail("tc_estimator \"" + tc_estimator + "\" is not one of mws, stratified");
        if (objective != "tcvae" && tc_estimator != "mws")
            fail("tc_estimator is for the tcvae objective; with " + objective + " leave it mws");
        if (objective != "elbo" && free_bits > 0)
            fail("free_bits is for the ELBO; the " + objective + " objective has no per-dimension KL to floor (leave it 0)");
    }

    /// validate(), and that `processes` training data-parallel can each have a share of every batch.
    void validate(int processes) const {
        validate();
        if (objective == "tcvae" && processes > 1)
            throw config_error("training options: objective tcvae estimates the aggregate posterior from the whole "
                               "batch, which no process holds when " + std::to_string(processes) +
                               " share it; train β-TCVAE in one process");
        if (batch < processes)
            throw config_error("training options: batch " + std::to_string(batch) + " is smaller than the " +
                               std::to_string(processes) + " processes that share each batch; use a batch of at "
                               "least one example per process");
    }
};

/// The optimizer `options` name, over `params`.
template <class T>
std::unique_ptr<Optimizer<T>> make_optimizer(const ParameterList<T>& params, const TrainOptions& options) {
    if (options.optimizer == "sgd") {
        SgdOptions o;
        o.lr = options.lr;
        o.momentum = options.momentum;
        o.weight_decay = options.weight_decay;
        o.check_finite = false;  // the trainer's NaN guard checks first, and skips or names the step
        return std::make_unique<Sgd<T>>(params, o);
    }
    AdamOptions o;
    o.lr = options.lr;
    o.weight_decay = options.weight_decay;
    o.decoupled_weight_decay = options.optimizer == "adamw";
    o.check_finite = false;
    return std::make_unique<Adam<T>>(params, o);
}

/// How a non-finite loss or gradient error ends: the remedies, as TrainOptions names them.
inline constexpr const char* non_finite_advice =
    "; lower the learning rate (lr), clip the gradient norm (clip_norm), or skip such batches (skip_non_finite)";

/// β-TCVAE's split of the KL in nats per example: mutual information + total correlation + dimension-wise KL = kl.
struct KlSplit {
    /// The index-code mutual information between x and z.
    double mutual_information = 0, total_correlation = 0, dimension_kl = 0;
    /// \var total_correlation
    /// The total correlation of q(z): what β weighs.
    /// \var dimension_kl
    /// The dimension-wise KL from the prior.
};

/// Mean losses per example in nats: loss = recon + kl (the negative ELBO, with β = 1; training with the IWAE
/// objective, the Monte-Carlo mean over its k samples); with the β-TCVAE objective, also the KL's split.
struct Losses {
    /// The negative ELBO (β = 1): recon + kl.
    double loss = 0, recon = 0, kl = 0;
    /// \var recon
    /// The reconstruction term, −log p(x|z).
    /// \var kl
    /// The KL of the posterior from the prior.
    std::optional<KlSplit> kl_split;  ///< with the β-TCVAE objective, the KL's split; empty otherwise
};

/// Sums over the examples seen so far in an epoch; part of the checkpoint so a resumed epoch reports the same.
struct EpochSums {
    /// The reconstruction terms' sum, nats.
    double recon = 0, kl = 0;
    /// \var kl
    /// The KL terms' sum, nats.
    double examples = 0;         ///< examples seen (a double, as the checkpoint stores the sums as F64)
    double skipped_batches = 0;  ///< batches the NaN guard skipped (skip_non_finite)
    KlSplit split;  ///< β-TCVAE's terms (zero for the other objectives)

    /// The means; with `with_split`, also the KL's split.
    Losses means(bool with_split = false) const {
        const double n = examples > 0 ? examples : 1;
        Losses l{(recon + kl) / n, recon / n, kl / n, std::nullopt};
        if (with_split)
            l.kl_split = KlSplit{split.mutual_information / n, split.total_correlation / n, split.dimension_kl / n};
        return l;
    }
};

/// What a per-step callback sees, after the optimizer step.
struct StepReport {
    int epoch = 0;               ///< the epoch under way, from 1
    long step = 0;               ///< optimizer steps taken, this one included
    long examples = 0;           ///< examples done this epoch
    double running_loss = 0;     ///< the epoch's mean loss so far (recon + kl, nats per example)
    /// The learning rate this step used.
    double lr = 0, beta = 0;     // what this step used
    /// \var beta
    /// The KL weight β this step used (warm-up included).
};

/// What a per-epoch callback sees, after the epoch and its evaluation.
struct EpochReport {
    int epoch = 0;                      ///< epochs completed
    Losses train;                       ///< the epoch's mean training losses
    std::optional<Losses> validation;   ///< on fit's validation set, when it has one
    double seconds = 0;                 ///< the epoch's training time
    long skipped_batches = 0;           ///< batches the NaN guard skipped this epoch (skip_non_finite)
};

/// A per-epoch callback that stops training when the validation loss (the training loss without a validation
/// set) has not improved by more than `min_delta` for `patience` epochs. Use with Trainer::on_epoch.
class EarlyStopping {
public:
    /// Stops after `patience` epochs (at least 1, else config_error) without an improvement of more than
    /// `min_delta`.
    explicit EarlyStopping(int patience, double min_delta = 0.0) : patience_(patience), min_delta_(min_delta) {
        if (patience < 1) throw config_error("EarlyStopping: patience must be at least 1, got " + std::to_string(patience));
    }
    /// True to go on training.
    bool operator()(const EpochReport& r) {
        const double loss = r.validation ? r.validation->loss : r.train.loss;
        if (loss < best_ - min_delta_) {
            best_ = loss;
            waited_ = 0;
        } else {
            ++waited_;
        }
        return waited_ < patience_;
    }
    /// The lowest loss seen so far (infinity before the first epoch).
    double best() const { return best_; }

private:
    int patience_;
    double min_delta_;
    double best_ = std::numeric_limits<double>::infinity();
    int waited_ = 0;
};

/// Everything a run needs to go on exactly where it was, besides the model's weights: the optimizer's buffers and
/// step count, both random streams, the position in the epoch and the epoch's running sums. One value, so a
/// checkpoint writes it in one place (train/checkpoint.hpp) and data-parallel training sends it in one place.
template <class T>
struct TrainerState {
    std::vector<std::pair<std::string, Matrix<T>>> optimizer;  ///< named_state(), in its order
    std::int64_t optimizer_step = 0;    ///< the optimizer's step count (Adam's bias correction counts on it)
    /// The stream that shuffles the data.
    Rng::State shuffle_rng, noise_rng;
    /// \var noise_rng
    /// The stream that draws the reparameterization noise.
    typename Batcher<T>::State batch;   ///< the epoch's order and position (meaningful while in_epoch)
    int epoch = 0;                      ///< epochs completed
    long step = 0;                      ///< optimizer steps taken
    bool in_epoch = false;              ///< an epoch is under way (it was stopped midway)
    EpochSums sums;                     ///< the running sums of the epoch under way
};

/// The training loop: trains a Vae on a Dataset as TrainOptions say — shuffled mini-batches, the objective, the
/// optimizer and its schedule, the NaN guard — with per-step and per-epoch callbacks, evaluation, and a state()
/// that checkpoints and resumes exactly; alone, or data-parallel over a Communicator. The file's comment has more.
template <class T>
class Trainer {
public:
    /// Trains `vae` on `train` (both must outlive the trainer) with the optimizer `options` names. With `peers`
    /// (which must outlive it too) of more than one process, the trainer trains data-parallel: every process
    /// constructs its trainer with the same data, model and options, and the construction copies process 0's
    /// weights to all (broadcast_state).
    Trainer(Vae<T>& vae, const Dataset& train, const TrainOptions& options, Communicator* peers = nullptr)
        : Trainer(vae, train, options, nullptr, peers) {}

    /// As above with an optimizer of your own over vae.named_parameters() (options.optimizer, lr, weight_decay
    /// and momentum are then not used; a cosine schedule starts from the optimizer's own learning rate).
    Trainer(Vae<T>& vae, const Dataset& train, const TrainOptions& options, std::unique_ptr<Optimizer<T>> optimizer,
            Communicator* peers = nullptr)
        : vae_(vae), options_((options.validate(peers ? peers->size() : 1), options)), params_(vae.named_parameters()),
          optimizer_(optimizer ? std::move(optimizer) : make_optimizer(params_, options_)), base_lr_(optimizer_->lr()),
          shuffle_rng_(options.seed), noise_rng_(options.seed + 1),
          batcher_(train, options.batch, shuffle_rng_, /*shuffle=*/true), train_examples_(train.size()),
          peers_(peers && peers->size() > 1 ? peers : nullptr) {
        if (train.features() != vae.input())
            throw shape_error("training data has " + std::to_string(train.features()) + " features per example" +
                              (train.holds_floats() ? std::string() : " (" + shape_string(train.rows(), train.cols()) +
                                                                          " images)") +
                              " but the model expects " + std::to_string(vae.input()));
        if (!peers_) return;
        if (vae.prior().noise_per_row() > 0)  // its draws follow all rows' z draws, which the slices cannot skip
            throw config_error("data-parallel training: the prior draws noise of its own (a two-layer model); train "
                               "it in one process");
        batcher_.split(peers_->rank(), peers_->size());
        std::size_t values = 0;
        for (auto& p : params_) values += std::size_t(p.param->value.size());
        flat_.resize(values + tail_slots);
        broadcast_state();
    }

    // ---- callbacks ----

    /// Calls `f` after every optimizer step (a progress bar, a log).
    void on_step(std::function<void(const StepReport&)> f) { step_callbacks_.push_back(std::move(f)); }
    /// Calls `f` after every epoch of fit(); training stops after an epoch for which any callback returns false.
    void on_epoch(std::function<bool(const EpochReport&)> f) { epoch_callbacks_.push_back(std::move(f)); }
    /// Replaces options.schedule: the learning rate of step t (counted from 0 over the whole run) is
    /// `schedule(t)`. Not stored in checkpoints; set it again before resuming.
    void set_lr_schedule(std::function<double(long)> schedule) { lr_schedule_ = std::move(schedule); }

    /// From now on, runs each step on one thread or on `most` (0: one per core), whichever runs the steps faster at
    /// the time: timing them, as ThreadChooser does (core/threads.hpp). On a quiet machine that is usually `most`;
    /// when other processes keep the cores busy, one. The run is then reproducible to float rounding, not bit for
    /// bit (each count rounds sums its own way); set_threads alone fixes the count. Without OpenMP, one thread.
    /// Returns the chooser, to read its count.
    const ThreadChooser& choose_threads(int most = 0) { return chooser_.emplace(most); }

    // ---- training ----

    /// Trains epochs until options.epochs are done, an epoch callback says stop, or `*stop` becomes true
    /// (checked between steps). After each epoch: evaluates on `validation` (when given) and calls the epoch
    /// callbacks. Returns the reports of the epochs it completed.
    std::vector<EpochReport> fit(const Dataset* validation = nullptr, const std::atomic<bool>* stop = nullptr) {
        std::vector<EpochReport> history;
        while (epoch_ < options_.epochs) {
            const auto start = std::chrono::steady_clock::now();
            EpochReport r;
            r.train = train_epoch(stop);
            if (!finished()) break;
            r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            r.epoch = epoch_;
            r.skipped_batches = long(sums_.skipped_batches);
            if (validation) r.validation = evaluate(*validation);
            history.push_back(r);
            bool go_on = true;
            for (auto& f : epoch_callbacks_) go_on = f(r) && go_on;
            if (!go_on) break;
        }
        return history;
    }

    /// Trains until the epoch ends or `*stop` becomes true (checked between steps), calling the step callbacks
    /// after each step. Returns the epoch's mean training losses; `finished()` says whether the epoch completed.
    /// Data-parallel, each process's `*stop` is a vote sent with the step's gradients: all processes stop after
    /// the same step, the first one taken after any of them saw its stop flag set.
    Losses train_epoch(const std::atomic<bool>* stop = nullptr) {
        if (!in_epoch_) {
            batcher_.start_epoch();
            sums_ = EpochSums{};
            in_epoch_ = true;
        }
        stop_agreed_ = false;
        for (;;) {
            const bool stop_seen = stop && stop->load();
            if (peers_ ? stop_agreed_ : stop_seen) break;
            if (!batcher_.next()) {
                in_epoch_ = false;
                ++epoch_;
                break;
            }
            const auto started = std::chrono::steady_clock::now();
            const bool taken = train_step(batcher_.x(), batcher_.labels(), stop_seen);
            if (chooser_)
                chooser_->step_done(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                                    double(batcher_.x().rows()));
            if (taken) report_step();
        }
        return sums_.means(options_.objective == "tcvae");
    }

    /// True when the last train_epoch ran to the end of the epoch (not stopped midway).
    bool finished() const { return !in_epoch_; }

    /// Mean losses over `data`: the ELBO with β = 1 whatever the objective, through a sample z ~ q(z|x), with
    /// noise from a stream seeded by `seed` (so the figure is reproducible and training's streams don't move). It runs in
    /// batches of `batch` rows (0: the training batch) on the trainer's own tape, whose buffers training has
    /// already sized: evaluating takes no memory beyond a step's (a separate tape of 1000 rows put the conv VAE's
    /// Fashion-MNIST run at 712 MB peak RSS). Call it between steps (from a callback, say), not from inside one.
    Losses evaluate(const Dataset& data, std::uint64_t seed = 12345, Index batch = 0) {
        if (batch < 0) throw config_error("evaluate: batch must be 0 (the training batch) or more");
        Rng eval_rng(seed), unused(0);
        const Index rows = batch > 0 ? batch : options_.batch;
        Batcher<T> batches(data, std::min<Index>(rows, data.size()), unused, /*shuffle=*/false);
        NoGrad<T> guard(tape_);
        EpochSums sums;
        batches.start_epoch();
        while (batches.next()) {
            tape_.reset();
            const typename Vae<T>::Condition c = condition(tape_, batches.labels());
            const auto terms = elbo(vae_, tape_, tape_.constant(batches.x()), eval_rng, ElboOptions{}, c);
            sums.recon += double(terms.recon.value().sum());
            sums.kl += double(terms.kl.value().sum());
            sums.examples += double(batches.x().rows());
        }
        return sums.means();
    }

    // ---- where the run is ----

    /// Epochs completed.
    int epoch() const { return epoch_; }
    /// Optimizer steps taken.
    long step() const { return step_; }
    /// True while an epoch is under way (stopped midway): the next train_epoch() carries it on.
    bool in_epoch() const { return in_epoch_; }
    /// The running sums of the epoch under way, or of the last one.
    const EpochSums& sums() const { return sums_; }
    /// The options it trains with, validated at construction.
    const TrainOptions& options() const { return options_; }
    /// The optimizer that takes the steps (its learning rate, its named_state()).
    Optimizer<T>& optimizer() { return *optimizer_; }
    /// The model being trained.
    Vae<T>& model() { return vae_; }
    /// The model's named parameters, which the optimizer updates.
    const ParameterList<T>& parameters() const { return params_; }
    /// The processes training together (nullptr when training alone).
    Communicator* peers() const { return peers_; }

    /// β for the next step: linear warm-up over `warmup_epochs`, then `beta`.
    double beta() const {
        if (options_.warmup_epochs <= 0) return options_.beta;
        const double steps = options_.warmup_epochs * double(batcher_.batches_per_epoch());
        return linear_warmup(options_.beta, steps, double(step_));
    }
    /// The learning rate for the next step: the schedule's.
    double lr() const {
        if (lr_schedule_) return lr_schedule_(step_);
        const double total = double(options_.epochs) * double(batcher_.batches_per_epoch());
        return options_.schedule == "cosine" ? cosine_annealing(base_lr_, total, double(step_), options_.min_lr)
                                             : base_lr_;
    }

    /// The resumable state (everything but the weights, which are the model's); without the optimizer's buffers
    /// (as large as the weights, or twice) for a caller that reads them from optimizer().named_state() itself.
    TrainerState<T> state(bool with_optimizer_buffers = true) {
        TrainerState<T> s;
        if (with_optimizer_buffers)
            for (const auto& b : optimizer_->named_state()) s.optimizer.emplace_back(b.name, *b.value);
        s.optimizer_step = optimizer_->step_count();
        s.shuffle_rng = shuffle_rng_.state();
        s.noise_rng = noise_rng_.state();
        s.batch = batcher_.state();
        s.epoch = epoch_;
        s.step = step_;
        s.in_epoch = in_epoch_;
        s.sums = sums_;
        return s;
    }

    /// Puts the trainer where `s` says. Everything is checked first (names and shapes of the optimizer's buffers,
    /// counts, the batch position against the data): on an error, config_error or shape_error, nothing changed.
    void restore(const TrainerState<T>& s) {
        const StateList<T> buffers = optimizer_->named_state();
        if (s.optimizer.size() != buffers.size())
            throw config_error("trainer state: " + std::to_string(s.optimizer.size()) + " optimizer buffers, but the " +
                               optimizer_->name() + " optimizer of this model has " + std::to_string(buffers.size()) +
                               "; the state was saved with another optimizer or model");
        for (std::size_t i = 0; i < buffers.size(); ++i) {
            if (s.optimizer[i].first != buffers[i].name)
                throw config_error("trainer state: optimizer buffer " + std::to_string(i) + " is \"" +
                                   s.optimizer[i].first + "\" but this optimizer's is \"" + buffers[i].name + "\"");
            const Matrix<T>& m = s.optimizer[i].second;
            if (m.rows() != buffers[i].value->rows() || m.cols() != buffers[i].value->cols())
                throw shape_error("trainer state: optimizer buffer " + buffers[i].name + " is " + shape_string(m) +
                                  " but the model needs " + shape_string(*buffers[i].value));
        }
        if (s.epoch < 0 || s.step < 0 || s.optimizer_step < 0)
            throw config_error("trainer state: negative counts (epoch " + std::to_string(s.epoch) + ", step " +
                               std::to_string(s.step) + ")");
        auto batcher = batcher_;  // restored on a copy: restore() checks the position against the data
        if (s.in_epoch) batcher.restore(s.batch);

        for (std::size_t i = 0; i < buffers.size(); ++i) *buffers[i].value = s.optimizer[i].second;
        optimizer_->set_step_count(s.optimizer_step);
        shuffle_rng_.set_state(s.shuffle_rng);
        noise_rng_.set_state(s.noise_rng);
        batcher_ = std::move(batcher);
        epoch_ = s.epoch;
        step_ = s.step;
        in_epoch_ = s.in_epoch;
        sums_ = s.sums;
    }

    /// Data-parallel training: copies process 0's weights and state() to every process. The constructor does it;
    /// call it again on every process after process 0 alone has restored a checkpoint. Does nothing without peers.
    void broadcast_state() {
        if (!peers_) return;
        // Once per run, so one call per matrix, straight from and into its own memory.
        const auto send = [&](Matrix<T>& m) { peers_->broadcast(m.data(), std::size_t(m.size()) * sizeof(T), 0); };
        for (auto& p : params_) send(p.param->value);
        TrainerState<T> s = state();
        for (auto& b : s.optimizer) send(b.second);
        struct Position {  // trivially copyable, so it travels as bytes
            Rng::State shuffle, noise, epoch_order;
            std::int64_t batch, epoch, step, optimizer_step;
            bool in_epoch;
            EpochSums sums;
        } at{s.shuffle_rng, s.noise_rng, s.batch.shuffle_rng, s.batch.position, s.epoch, s.step, s.optimizer_step,
             s.in_epoch, s.sums};
        peers_->broadcast(&at, sizeof at, 0);
        s.shuffle_rng = at.shuffle;
        s.noise_rng = at.noise;
        s.batch = {at.epoch_order, Index(at.batch)};
        s.epoch = int(at.epoch);
        s.step = long(at.step);
        s.optimizer_step = at.optimizer_step;
        s.in_epoch = at.in_epoch;
        s.sums = at.sums;
        restore(s);
    }

private:
    /// The one-hot labels of a conditional model's batch on `tape`, through a reused buffer (none for an
    /// unconditional model).
    typename Vae<T>::Condition condition(Tape<T>& tape, const std::vector<std::uint8_t>& labels) {
        const Index classes = vae_.conditions();
        if (classes == 0) return std::nullopt;
        if (labels.empty()) throw config_error("a conditional VAE needs labelled data");
        one_hot_into(labels, classes, one_hot_);
        return tape.constant(one_hot_);
    }

    /// One step, PyTorch's loop: forward and loss, backward, (the all-reduce of the batch), optimizer step — on
    /// this process's slice `x` of the batch and its `labels`, which are the whole batch's when training alone.
    /// `stop_seen` is this process's stop vote. Returns false when the batch was skipped as non-finite.
    template <class Batch>
    bool train_step(const Batch& x, const std::vector<std::uint8_t>& labels, bool stop_seen) {
        const std::optional<ElboTerms<T>> terms = forward(x, labels);
        Totals sum = backward(terms, stop_seen);
        if (peers_) sum = all_reduce(sum, T(double(x.rows()) / double(batcher_.batch_rows())));
        stop_agreed_ = sum.stop_votes > 0;
        if (!finite(sum, terms)) return false;
        if (options_.clip_norm > 0) clip_grad_norm(params_, T(options_.clip_norm));
        last_lr_ = lr();
        if (last_lr_ != optimizer_->lr()) optimizer_->set_lr(last_lr_);
        optimizer_->step_and_zero_grad();
        ++step_;
        sums_.recon += sum.recon;
        sums_.kl += sum.kl;
        sums_.examples += double(batcher_.batch_rows());
        if (terms && !terms->mutual_information.empty()) {  // β-TCVAE, which trains in one process
            sums_.split.mutual_information += double(terms->mutual_information.value().sum());
            sums_.split.total_correlation += double(terms->total_correlation.value().sum());
            sums_.split.dimension_kl += double(terms->dimension_kl.value().sum());
        }
        return true;
    }

    /// The loss terms of this process's rows (none for an empty slice: a batch with fewer rows than processes),
    /// drawing their noise and skipping the other processes' so the stream stays where one process's would be.
    template <class Batch>
    std::optional<ElboTerms<T>> forward(const Batch& x, const std::vector<std::uint8_t>& labels) {
        const Index latent = vae_.latent() * options_.samples;  // normals drawn per example
        const Index total = batcher_.batch_rows(), mine = x.rows();
        const Index before = batcher_.slice_begin(), after = total - before - mine;
        ElboOptions eo;
        eo.beta = last_beta_ = beta();
        eo.free_bits = options_.free_bits;
        tape_.reset();
        noise_rng_.skip_normals(std::uint64_t(before * latent));
        std::optional<ElboTerms<T>> terms;
        if (mine > 0) {
            const typename Vae<T>::Condition c = condition(tape_, labels);
            if (options_.objective == "iwae") {
                terms = iwae(vae_, tape_, tape_.constant(x), noise_rng_, {options_.samples, eo.beta, options_.dreg}, c);
            } else if (options_.objective == "tcvae") {  // the warm-up ramps all three terms; β weighs the TC
                const double ramp = options_.beta > 0 ? eo.beta / options_.beta : 1.0;
                const TcvaeOptions to{ramp, eo.beta, ramp, train_examples_, options_.tc_estimator};
                terms = tcvae(vae_, tape_, tape_.constant(x), noise_rng_, to, c);
            } else {
                terms = elbo(vae_, tape_, tape_.constant(x), noise_rng_, eo, c);
            }
        }
        noise_rng_.skip_normals(std::uint64_t(after * latent));
        if (peers_ && options_.free_bits > 0) free_bits_over_batch(terms ? &*terms : nullptr, total, eo);
        return terms;
    }

    /// Loss sums and votes of a step, carried after the gradients in the all-reduce.
    struct Totals {
        double recon = 0, kl = 0, non_finite_votes = 0, stop_votes = 0;
    };

    /// Backward through the loss — even a non-finite one, so the all-reduce can tell every process — and this
    /// process's sums and votes.
    Totals backward(const std::optional<ElboTerms<T>>& terms, bool stop_seen) {
        Totals mine;
        mine.stop_votes = stop_seen ? 1.0 : 0.0;
        if (!terms) return mine;
        tape_.backward(terms->loss);
        mine.recon = double(terms->recon.value().sum());
        mine.kl = double(terms->kl.value().sum());
        mine.non_finite_votes = std::isfinite(terms->loss.item()) ? 0.0 : 1.0;
        return mine;
    }

    /// The NaN guard: true when the batch's loss and gradients are finite; otherwise skips the batch (false) or
    /// throws numeric_error naming the step and the first op or parameter that went non-finite.
    bool finite(const Totals& sum, const std::optional<ElboTerms<T>>& terms) {
        if (sum.non_finite_votes > 0) {
            const bool mine = terms && !std::isfinite(terms->loss.item());
            skip(mine ? describe_loss_failure()
                      : "the loss is not finite at step " + std::to_string(step_ + 1) + " on another process (epoch " +
                            std::to_string(epoch_ + 1) + ")");
            return false;
        }
        if (auto bad = first_non_finite_gradient(params_)) {
            skip("the gradient of " + *bad + " is not finite at step " + std::to_string(step_ + 1));
            return false;
        }
        return true;
    }

    /// Sums every process's gradients (each scaled by its `share` of the batch) and `mine` in one all-reduce.
    Totals all_reduce(const Totals& mine, T share) {
        T* out = flat_.data();
        for (auto& p : params_) {
            Matrix<T>& g = p.param->grad;
            Eigen::Map<Matrix<T>>(out, g.rows(), g.cols()).noalias() = share * g;
            out += g.size();
        }
        out[0] = T(mine.recon);
        out[1] = T(mine.kl);
        out[2] = T(mine.non_finite_votes);
        out[3] = T(mine.stop_votes);
        peers_->sum(flat_.data(), flat_.size());
        const T* in = flat_.data();
        for (auto& p : params_) {
            Matrix<T>& g = p.param->grad;
            g = Eigen::Map<const Matrix<T>>(in, g.rows(), g.cols());
            in += g.size();
        }
        return {double(in[0]), double(in[1]), double(in[2]), double(in[3])};
    }

    /// Replaces the free-bits loss of a slice (`terms`, nullptr for an empty slice, which still joins the
    /// all-reduce) with the slice's part of the whole batch's (kl_term in vae/elbo.hpp): the batch's mean KL of
    /// each dimension comes from a latent-sized all-reduce.
    void free_bits_over_batch(ElboTerms<T>* terms, Index total, const ElboOptions& eo) {
        // An empty slice sends zeros of the width the others send: the KL's width of an earlier step (a prior whose
        // KL does not split over dimensions gives one column), else the latent size.
        const Index width = terms ? terms->kl_per_dim.cols() : kl_dims_.size() > 0 ? kl_dims_.cols() : vae_.latent();
        kl_dims_.setZero(1, width);
        if (terms) kl_dims_ = terms->kl_per_dim.value().colwise().sum();
        peers_->sum(kl_dims_.data(), std::size_t(kl_dims_.size()));
        if (!terms) return;
        kl_dims_ /= T(total);
        terms->loss = elbo_loss(*terms, eo, &kl_dims_);
    }

    void report_step() {
        if (step_callbacks_.empty()) return;
        const StepReport r{epoch_ + 1, step_, long(sums_.examples), sums_.means().loss, last_lr_, last_beta_};
        for (auto& f : step_callbacks_) f(r);
    }

    std::string describe_loss_failure() const {
        std::string where = "the loss is not finite at step " + std::to_string(step_ + 1) + " (epoch " +
                            std::to_string(epoch_ + 1) + ")";
        if (auto node = first_non_finite_node(tape_)) where += ": " + node->describe();
        if (auto p = first_non_finite_value(params_)) where += "; parameter " + *p + " holds a non-finite value";
        return where;
    }

    /// Skips the batch when allowed, else throws numeric_error with `what`.
    void skip(const std::string& what) {
        if (!options_.skip_non_finite) throw numeric_error(what + non_finite_advice);
        for (auto& p : params_) p.param->zero_grad();
        sums_.skipped_batches += 1;
    }

    Vae<T>& vae_;
    TrainOptions options_;
    ParameterList<T> params_;
    std::unique_ptr<Optimizer<T>> optimizer_;
    double base_lr_;  // the learning rate schedules start from
    Rng shuffle_rng_, noise_rng_;
    Batcher<T> batcher_;
    Index train_examples_;  // N, β-TCVAE's aggregate posterior is over
    Tape<T> tape_;
    EpochSums sums_;
    Matrix<T> one_hot_;
    int epoch_ = 0;
    long step_ = 0;
    bool in_epoch_ = false;
    double last_lr_ = 0, last_beta_ = 0;
    std::vector<std::function<void(const StepReport&)>> step_callbacks_;
    std::vector<std::function<bool(const EpochReport&)>> epoch_callbacks_;
    std::function<double(long)> lr_schedule_;
    std::optional<ThreadChooser> chooser_;  // choose_threads

    // Data-parallel training (peers_ non-null only with more than one process).
    Communicator* peers_ = nullptr;
    static constexpr std::size_t tail_slots = 4;  // after the gradients: recon sum, kl sum, non-finite votes, stop votes
    std::vector<T> flat_;                         // what one all-reduce moves, allocated once
    Matrix<T> kl_dims_;                           // free bits: the batch's mean KL per latent dimension
    bool stop_agreed_ = false;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_TRAINER_TEMPLATES(prefix, T) \
    prefix template class Trainer<T>;
VAELET_EXTERN_TEMPLATES(VAELET_TRAINER_TEMPLATES)

}  // namespace vaelet
