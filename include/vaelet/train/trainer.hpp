// vaelet/train/trainer.hpp — the training loop of a VAE on a Dataset (images, or rows of a table): shuffled
// mini-batches, the ELBO with β warm-up and free bits, Adam, a NaN guard, evaluation, and a state that checkpoints
// and resumes exactly.
//
//   vaelet::Trainer<float> trainer(vae, train_set, options);
//   while (trainer.epoch() < options.epochs) {
//       auto m = trainer.train_epoch();                  // one pass over the training set
//       auto test = trainer.evaluate(test_set);          // same loss on held-out data
//   }
//
// Determinism: the trainer owns two random streams seeded from options.seed — one shuffles the data, one draws
// the reparameterization noise — and evaluation uses a third, re-seeded for every call, so evaluating never
// moves the training streams. With the same seed and thread count a run is bit-identical, and so is a run
// resumed from a checkpoint (see train/checkpoint.hpp), which stores both streams, the batch position, the
// optimizer's moments and the epoch's running sums.
//
// Data-parallel training: given a Communicator (parallel/communicator.hpp) of P processes, each process takes its
// slice of every batch (Batcher::split), draws the noise of its own rows and skips the others' (Rng::skip_normals),
// and one all-reduce per step sums the gradients — each process's weighted by its share of the batch, so the sum
// is the gradient of the whole batch's mean loss — together with the loss sums and the processes' stop votes. All
// processes then take the same optimizer step, so their models stay identical, and the run is the single-process
// run with the same batch up to the order of float sums (docs/distributed.md). Free bits floor the whole batch's
// mean KL of each latent dimension, which no slice knows alone: with them, a second, latent-sized all-reduce
// comes first (free_bits_over_batch).
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/data/batcher.hpp"
#include "vaelet/optim/adam.hpp"
#include "vaelet/optim/clip.hpp"
#include "vaelet/optim/schedule.hpp"
#include "vaelet/parallel/communicator.hpp"
#include "vaelet/train/nan_guard.hpp"
#include "vaelet/vae/elbo.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace vaelet {

struct TrainOptions {
    int epochs = 10;
    Index batch = 128;
    double lr = 1e-3;
    double beta = 1.0;           // final KL weight
    double warmup_epochs = 0.0;  // β rises linearly from 0 to `beta` over this many epochs (0: no warm-up)
    double free_bits = 0.0;      // KL floor per latent dimension, nats
    double clip_norm = 0.0;      // > 0: clip the gradient's global norm to this
    bool skip_non_finite = false;  // on a NaN/Inf loss or gradient: skip the batch (true) or stop with an error
    std::uint64_t seed = 1;

    void validate() const {
        if (epochs < 1) throw config_error("--epochs must be at least 1, got " + std::to_string(epochs));
        if (batch < 1) throw config_error("--batch must be at least 1, got " + std::to_string(batch));
        if (!(lr > 0) || !std::isfinite(lr)) throw config_error("--lr must be a positive number, got " + std::to_string(lr));
        if (!(beta >= 0) || !std::isfinite(beta)) throw config_error("--beta must be 0 or more, got " + std::to_string(beta));
        if (!(warmup_epochs >= 0)) throw config_error("--warmup-epochs must be 0 or more");
        if (!(free_bits >= 0)) throw config_error("--free-bits must be 0 or more");
        if (!(clip_norm >= 0)) throw config_error("--clip-norm must be 0 (off) or more");
    }

    /// validate(), and that `processes` training data-parallel can each have a share of every batch.
    void validate(int processes) const {
        validate();
        if (batch < processes)
            throw config_error("--batch " + std::to_string(batch) + " is smaller than the " + std::to_string(processes) +
                               " processes that share each batch; use a batch of at least one example per process");
    }
};

/// Mean losses per example in nats: loss = recon + kl (the negative ELBO, with β = 1).
struct Losses {
    double loss = 0, recon = 0, kl = 0;
};

/// Sums over the examples seen so far in an epoch; part of the checkpoint so a resumed epoch reports the same.
struct EpochSums {
    double recon = 0, kl = 0;
    double examples = 0;
    double skipped_batches = 0;

    Losses means() const {
        const double n = examples > 0 ? examples : 1;
        return {(recon + kl) / n, recon / n, kl / n};
    }
};

template <class T>
class Trainer {
public:
    /// `vae` and `train` must outlive the trainer. With `peers` (which must outlive it too) of more than one
    /// process, the trainer trains data-parallel: every process constructs its trainer with the same data, model
    /// configuration and options, and the construction copies process 0's weights to all (broadcast_state).
    Trainer(Vae<T>& vae, const Dataset& train, const TrainOptions& options, Communicator* peers = nullptr)
        : vae_(vae), options_((options.validate(peers ? peers->size() : 1), options)), params_(vae.named_parameters()),
          adam_(params_, AdamOptions{options.lr}), shuffle_rng_(options.seed), noise_rng_(options.seed + 1),
          batcher_(train, options.batch, shuffle_rng_, /*shuffle=*/true),
          peers_(peers && peers->size() > 1 ? peers : nullptr) {
        if (train.features() != vae.config().input)
            throw shape_error("training data has " + std::to_string(train.features()) + " features per example" +
                              (train.holds_floats() ? std::string() : " (" + shape_string(train.rows(), train.cols()) +
                                                                          " images)") +
                              " but the model expects " + std::to_string(vae.config().input));
        if (!peers_) return;
        batcher_.split(peers_->rank(), peers_->size());
        std::size_t values = 0;
        for (auto& p : params_) {
            values += std::size_t(p.param->value.size());
            grads_.push_back(&p.param->grad);
        }
        flat_.resize(values + tail_slots);
        broadcast_state();
    }

    /// Data-parallel training: copies process 0's whole training state (weights, optimizer moments, random
    /// streams, position in the epoch, epoch sums) to every process. The constructor does it; call it again on
    /// every process after process 0 alone has restored a checkpoint. Does nothing without peers.
    void broadcast_state() {
        if (!peers_) return;
        // Once per run, so one call per matrix, straight from and into its own memory.
        const auto send = [&](Matrix<T>& m) { peers_->broadcast(m.data(), std::size_t(m.size()) * sizeof(T), 0); };
        for (auto& p : params_) send(p.param->value);
        for (const auto& s : adam_.named_state()) send(*s.value);
        struct Position {  // trivially copyable, so it travels as bytes
            Rng::State shuffle, noise, epoch_order;
            std::int64_t batch, epoch, step, optimizer_step;
            bool in_epoch;
            EpochSums sums;
        } at{shuffle_rng_.state(), noise_rng_.state(), batcher_.state().shuffle_rng, batcher_.state().position,
             epoch_, step_, adam_.step_count(), in_epoch_, sums_};
        peers_->broadcast(&at, sizeof at, 0);
        shuffle_rng_.set_state(at.shuffle);
        noise_rng_.set_state(at.noise);
        if (at.in_epoch) batcher_.restore({at.epoch_order, Index(at.batch)});
        adam_.set_step_count(at.optimizer_step);
        restore_progress(int(at.epoch), long(at.step), at.in_epoch);
        sums_ = at.sums;
    }

    /// The processes training together (nullptr when training alone).
    Communicator* peers() const { return peers_; }

    /// Epochs completed.
    int epoch() const { return epoch_; }
    /// Optimizer steps taken.
    long step() const { return step_; }
    const TrainOptions& options() const { return options_; }

    /// β for the next step: linear warm-up over `warmup_epochs`, then `beta`.
    double beta() const {
        if (options_.warmup_epochs <= 0) return options_.beta;
        const double steps = options_.warmup_epochs * double(batcher_.batches_per_epoch());
        return linear_warmup(options_.beta, steps, double(step_));
    }

    /// Trains until the epoch ends or `*stop` becomes true (checked between steps). `progress(done, running)`
    /// is called after each step with the images done this epoch and the running mean loss.
    /// Returns the epoch's mean training losses; `finished()` says whether the epoch completed.
    /// Data-parallel, each process's `*stop` is a vote sent with the step's gradients: all processes stop after
    /// the same step, the first one taken after any of them saw its stop flag set.
    Losses train_epoch(const std::function<void(long, double)>& progress = {},
                       const std::atomic<bool>* stop = nullptr) {
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
            if (peers_)
                train_step_together(batcher_.x(), condition(batcher_.labels()), stop_seen);
            else
                train_step(batcher_.x(), condition(batcher_.labels()));
            if (progress) progress(long(sums_.examples), sums_.means().loss);
        }
        return sums_.means();
    }

    /// True when the last train_epoch ran to the end of the epoch (not stopped midway).
    bool finished() const { return !in_epoch_; }

    /// Mean losses over `data` with β = 1, through a sample z ~ q(z|x) as in training, with noise from a
    /// stream seeded by `seed` (so the figure is reproducible and training's streams don't move).
    Losses evaluate(const Dataset& data, std::uint64_t seed = 12345, Index batch = 1000) {
        Rng eval_rng(seed), unused(0);
        Batcher<T> batches(data, std::min<Index>(batch, data.size()), unused, /*shuffle=*/false);
        Tape<T> tape;
        NoGrad<T> guard(tape);
        EpochSums sums;
        batches.start_epoch();
        while (batches.next()) {
            tape.reset();
            const Matrix<T>* c = condition(batches.labels());
            std::optional<Var<T>> cv;
            if (c) cv = tape.constant(*c);
            const auto terms = elbo(vae_, tape, tape.constant(batches.x()), eval_rng, ElboOptions{}, cv ? &*cv : nullptr);
            sums.recon += double(terms.recon.value().sum());
            sums.kl += double(terms.kl.value().sum());
            sums.examples += double(batches.x().rows());
        }
        return sums.means();
    }

    // ---- state for checkpoints ----
    Adam<T>& optimizer() { return adam_; }
    Rng& shuffle_rng() { return shuffle_rng_; }
    Rng& noise_rng() { return noise_rng_; }
    Batcher<T>& batcher() { return batcher_; }
    EpochSums& sums() { return sums_; }
    ParameterList<T>& parameters() { return params_; }

    /// Sets the position restored from a checkpoint: `epoch` completed epochs, `step` optimizer steps, and
    /// whether an epoch is under way (its batcher position and sums restored separately).
    void restore_progress(int epoch, long step, bool in_epoch) {
        epoch_ = epoch;
        step_ = step;
        in_epoch_ = in_epoch;
    }
    bool in_epoch() const { return in_epoch_; }

private:
    /// The one-hot labels of a conditional model's batch (nullptr for an unconditional model).
    const Matrix<T>* condition(const std::vector<std::uint8_t>& labels) {
        const Index classes = vae_.config().conditions;
        if (classes == 0) return nullptr;
        if (labels.empty()) throw config_error("a conditional VAE needs labelled data");
        one_hot_.setZero(Index(labels.size()), classes);
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (labels[i] >= classes)
                throw config_error("label " + std::to_string(labels[i]) + " is outside the model's " +
                                   std::to_string(classes) + " classes");
            one_hot_(Index(i), labels[i]) = T(1);
        }
        return &one_hot_;
    }

    /// The loss on batch `x` (with noise drawn from noise_rng_), on a fresh tape.
    template <class Batch>
    ElboTerms<T> forward(const Batch& x, const Matrix<T>* c) {
        tape_.reset();
        ElboOptions eo;
        eo.beta = beta();
        eo.free_bits = options_.free_bits;
        std::optional<Var<T>> cv;
        if (c) cv = tape_.constant(*c);
        return elbo(vae_, tape_, tape_.constant(x), noise_rng_, eo, cv ? &*cv : nullptr);
    }

    template <class Batch>
    void train_step(const Batch& x, const Matrix<T>* c) {
        const auto terms = forward(x, c);
        if (!std::isfinite(terms.loss.item()) && skip(describe_loss_failure())) return;
        tape_.backward(terms.loss);
        update(double(terms.recon.value().sum()), double(terms.kl.value().sum()), double(x.rows()));
    }

    /// One data-parallel step on this process's slice `x` of the batch; `stop_seen` is this process's stop vote.
    template <class Batch>
    void train_step_together(const Batch& x, const Matrix<T>* c, bool stop_seen) {
        const Index latent = vae_.config().latent, total = batcher_.batch_rows(), mine = x.rows();
        const Index before = batcher_.slice_begin(), after = total - before - mine;
        noise_rng_.skip_normals(std::uint64_t(before * latent));
        T* tail = flat_.data() + flat_.size() - tail_slots;
        tail[0] = tail[1] = tail[2] = T(0);
        tail[3] = stop_seen ? T(1) : T(0);
        bool my_loss_finite = true;
        std::optional<ElboTerms<T>> terms;
        if (mine > 0) terms = forward(x, c);  // a slice is empty when a batch has fewer rows than there are processes
        if (options_.free_bits > 0) free_bits_over_batch(terms ? &*terms : nullptr, total);
        if (terms) {
            my_loss_finite = std::isfinite(terms->loss.item());
            tape_.backward(terms->loss);  // even when not finite: the all-reduce tells every process, below
            tail[0] = terms->recon.value().sum();
            tail[1] = terms->kl.value().sum();
            tail[2] = my_loss_finite ? T(0) : T(1);
        }
        noise_rng_.skip_normals(std::uint64_t(after * latent));

        pack_gradients(T(double(mine) / double(total)));
        peers_->sum(flat_.data(), flat_.size());
        unpack_gradients();

        stop_agreed_ = tail[3] > 0;
        if (tail[2] > 0 && skip(my_loss_finite ? "the loss is not finite at step " + std::to_string(step_ + 1) +
                                                     " on another process (epoch " + std::to_string(epoch_ + 1) + ")"
                                               : describe_loss_failure()))
            return;
        update(double(tail[0]), double(tail[1]), double(total));
    }

    /// Replaces the free-bits loss of a slice (`terms`, nullptr for an empty slice, which still joins the
    /// all-reduce) with the slice's part of the whole batch's. With mⱼ the batch's mean KL of dimension j, the batch
    /// loss is mean(recon) + β·Σⱼ max(λ, mⱼ), whose gradient reaches dimension j only where mⱼ > λ. The slice's
    /// loss mean(recon) + β·Σⱼ [mⱼ > λ]·(slice mean of KLⱼ) has, scaled by the slice's share, exactly that gradient.
    void free_bits_over_batch(ElboTerms<T>* terms, Index total) {
        kl_dims_.setZero(1, vae_.config().latent);
        if (terms) kl_dims_ = terms->kl_per_dim.value().colwise().sum();
        peers_->sum(kl_dims_.data(), std::size_t(kl_dims_.size()));
        if (!terms) return;
        kl_dims_ = (kl_dims_.array() / T(total) > T(options_.free_bits)).template cast<T>().matrix();  // the mask
        terms->loss = mean(terms->recon) + sum(mean_per_col(terms->kl_per_dim) * tape_.constant(kl_dims_)) * T(beta());
    }

    /// The optimizer step from the gradients of a batch of `rows` examples whose losses summed to recon and kl.
    void update(double recon, double kl, double rows) {
        if (auto bad = first_non_finite_gradient(params_)) {
            if (skip("the gradient of " + *bad + " is not finite at step " + std::to_string(step_ + 1))) return;
        }
        if (options_.clip_norm > 0) clip_grad_norm(params_, T(options_.clip_norm));
        adam_.step_and_zero_grad();
        ++step_;
        sums_.recon += recon;
        sums_.kl += kl;
        sums_.examples += rows;
    }

    /// Copies every gradient, times `scale`, into flat_, one after another.
    void pack_gradients(T scale) {
        T* out = flat_.data();
        for (Matrix<T>* g : grads_) {
            Eigen::Map<Matrix<T>>(out, g->rows(), g->cols()).noalias() = scale * *g;
            out += g->size();
        }
    }

    /// Copies the summed gradients from flat_ back into every gradient (pack_gradients' inverse, without the scale).
    void unpack_gradients() {
        const T* in = flat_.data();
        for (Matrix<T>* g : grads_) {
            *g = Eigen::Map<const Matrix<T>>(in, g->rows(), g->cols());
            in += g->size();
        }
    }

    std::string describe_loss_failure() const {
        std::string where = "the loss is not finite at step " + std::to_string(step_ + 1) + " (epoch " +
                            std::to_string(epoch_ + 1) + ")";
        if (auto node = first_non_finite_node(tape_)) where += ": " + node->describe();
        if (auto p = first_non_finite_value(params_)) where += "; parameter " + *p + " holds a non-finite value";
        return where;
    }

    /// Skips the batch when allowed (returns true), else throws numeric_error with `what`.
    bool skip(const std::string& what) {
        if (!options_.skip_non_finite)
            throw numeric_error(what + "; lower --lr, set --clip-norm, or pass --skip-nonfinite to skip such batches");
        for (auto& p : params_) p.param->zero_grad();
        sums_.skipped_batches += 1;
        return true;
    }

    Vae<T>& vae_;
    TrainOptions options_;
    ParameterList<T> params_;
    Adam<T> adam_;
    Rng shuffle_rng_, noise_rng_;
    Batcher<T> batcher_;
    Tape<T> tape_;
    EpochSums sums_;
    Matrix<T> one_hot_;
    int epoch_ = 0;
    long step_ = 0;
    bool in_epoch_ = false;

    // Data-parallel training (peers_ non-null only with more than one process).
    Communicator* peers_ = nullptr;
    static constexpr std::size_t tail_slots = 4;  // after the gradients: recon sum, kl sum, non-finite votes, stop votes
    std::vector<T> flat_;                         // what one all-reduce moves, allocated once
    std::vector<Matrix<T>*> grads_;               // every parameter's gradient, in flat_'s order
    Matrix<T> kl_dims_;                           // free bits: the batch's KL per latent dimension, then its mask
    bool stop_agreed_ = false;
};

}  // namespace vaelet
