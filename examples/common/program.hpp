// examples/common/program.hpp — what vaelet-mnist and vaelet-tabular share: the --threads and --out checks, and
// the epoch loop of `train` (progress, evaluation, metrics.csv and a checkpoint after every epoch, a clean stop on
// SIGINT/SIGTERM). main()'s error handling is in command.hpp.
#pragma once

#include "train_flags.hpp"

#include <vaelet/core/atomic_file.hpp>
#include <vaelet/core/threads.hpp>
#include <vaelet/train/checkpoint.hpp>
#include <vaelet/train/progress.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace examples {

/// --threads: the number of threads for matrix products (0: one per core, the cores shared out among the
/// `processes_on_this_node` processes of a distributed run), checked here so that the error names the flag.
inline void set_threads(int threads, int processes_on_this_node = 1) {
    if (threads < 0) throw vaelet::config_error("--threads must be 0 (one per core) or more, got " + std::to_string(threads));
    vaelet::set_threads(threads, processes_on_this_node);
}

/// Creates `dir` if needed and proves that files can be written there, before any training time is spent.
inline void require_writable_dir(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir))
        throw vaelet::io_error("--out " + dir + ": cannot create the run directory (" +
                               (ec ? ec.message() : std::string("a file of that name exists")) +
                               "); choose another --out");
    const std::string probe = (fs::path(dir) / ".vaelet-write-test").string();
    vaelet::write_file_atomic(probe, "ok");
    fs::remove(probe, ec);
}

/// The training settings of the common flags (checked: TrainOptions::validate throws naming the flag).
inline vaelet::TrainOptions train_options(const TrainFlags& f) {
    vaelet::TrainOptions o;
    o.epochs = f.epochs;
    o.batch = f.batch;
    o.optimizer = f.optimizer;
    o.lr = f.lr;
    o.weight_decay = f.weight_decay;
    o.momentum = f.momentum;
    o.schedule = f.schedule;
    o.min_lr = f.min_lr;
    o.beta = f.beta;
    o.warmup_epochs = f.warmup_epochs;
    o.free_bits = f.free_bits;
    o.clip_norm = f.clip_norm;
    o.skip_non_finite = f.skip_nonfinite;
    o.seed = f.seed;
    const std::vector<std::string> models{"vae", "iwae", "vamp", "flow", "tcvae", "two-layer"};
    if (std::find(models.begin(), models.end(), f.model) == models.end())
        throw vaelet::config_error("--model is \"" + f.model + "\"; use vae, iwae, vamp, flow, tcvae or two-layer");
    if ((f.latent2 != 0 || !f.hidden2.empty()) && f.model != "two-layer")
        throw vaelet::config_error("--latent2 and --hidden2 are for --model two-layer (a second stochastic layer)");
    if (f.pseudo_inputs != 0 && f.model != "vamp")
        throw vaelet::config_error("--pseudo-inputs is for --model vamp (the VampPrior)");
    if ((f.flow_steps != 0 || f.flow_hidden != 0) && f.model != "flow")
        throw vaelet::config_error("--flow-steps and --flow-hidden are for --model flow (the IAF posterior)");
    if (f.model == "iwae" || f.model == "tcvae") o.objective = f.model;
    o.samples = f.samples != 0 ? f.samples : f.model == "iwae" ? 5 : 1;  // a bad count: validate() names the flag
    o.dreg = f.dreg;
    o.tc_estimator = f.tc_estimator;
    try {
        o.validate();
    } catch (const vaelet::config_error& e) {
        throw vaelet::config_error(in_flags(e.what()));
    }
    return o;
}

/// The parts that --model names into a model configuration (a VaeConfig or a ConvVaeConfig, which validates them):
/// the VampPrior of --pseudo-inputs (default 500) for vamp, the IAF posterior of --flow-steps (default 2) of
/// --flow-hidden units (default 128) for flow, the upper layer z2 of --latent2 (default 10) through --hidden2
/// (default 64) for two-layer; else the standard normal prior and no flow.
template <class ModelConfig>
void set_model_parts(const TrainFlags& f, ModelConfig& c) {
    c.prior = f.model == "vamp" ? "vamp" : f.model == "two-layer" ? "two_layer" : "standard";
    c.latent2 = f.latent2 != 0 ? vaelet::Index(f.latent2) : 10;
    if (!f.hidden2.empty()) c.hidden2.assign(f.hidden2.begin(), f.hidden2.end());
    c.pseudo_inputs = f.pseudo_inputs != 0 ? vaelet::Index(f.pseudo_inputs) : 500;
    c.flow_steps = f.model == "flow" ? (f.flow_steps != 0 ? vaelet::Index(f.flow_steps) : 2) : 0;
    c.flow_hidden = f.flow_hidden != 0 ? vaelet::Index(f.flow_hidden) : 128;
}

/// The files of a run directory that `train` writes after every epoch.
struct RunFiles {
    explicit RunFiles(const std::string& dir)
        : dir(dir),
          checkpoint((std::filesystem::path(dir) / "checkpoint.safetensors").string()),
          metrics((std::filesystem::path(dir) / "metrics.csv").string()) {}

    /// --resume needs the run's checkpoint; a new run must not overwrite one.
    void check_resume(bool resume) const {
        const bool exists = std::filesystem::exists(checkpoint);
        if (resume && !exists)
            throw vaelet::io_error(checkpoint + ": not found, so there is nothing to resume; drop --resume to start a "
                                   "new run");
        if (!resume && exists)
            throw vaelet::io_error(checkpoint + " already exists: pass --resume to continue that run, or choose a new "
                                   "--out");
    }

    std::string dir, checkpoint, metrics;
};

/// Restores `trainer` from the run's checkpoint and returns the loss history (with the timings of metrics.csv).
template <class T>
std::vector<vaelet::EpochMetrics> resume(vaelet::Trainer<T>& trainer, const RunFiles& run) {
    std::vector<vaelet::EpochMetrics> history = vaelet::load_checkpoint(run.checkpoint, trainer);
    vaelet::read_metrics_timing(run.metrics, history);
    std::cout << "resuming " << run.dir << " at epoch " << trainer.epoch() + 1 << " (step " << trainer.step() << ")\n";
    return history;
}

/// How the epoch loop names things in what it prints.
struct EpochLoopText {
    const char* program;         // "vaelet-mnist", the prefix of its messages
    const char* held_out;        // what the evaluation set is called: "test", "valid"
    const char* unit;            // what an example is called in rates: "img", "rows"
    int decimals;                // of the losses on the epoch line
    const char* diverged_hint;   // how to avoid a diverging run: "a lower --lr"
};

namespace detail {
inline std::atomic<bool> stop_requested{false};
inline std::atomic<int> stop_signal{0};
extern "C" inline void on_stop_signal(int sig) {
    stop_signal = sig;
    stop_requested = true;
}
}  // namespace detail

/// Trains until config.train.epochs epochs are done. After each epoch: evaluates on `held_out`, appends to
/// `history`, writes metrics.csv, calls `after_epoch(metrics)` (pictures, say), writes the checkpoint and prints
/// one line. SIGINT/SIGTERM finish the current step, write a checkpoint (mid-epoch, exactly resumable) and return
/// 128 + the signal; otherwise returns 0. A non-finite held-out loss is a numeric_error, and nothing of that
/// epoch is saved. In a distributed run (trainer.peers()) only rank 0 does any of this but the training; the
/// others need no `held_out` data. There a signal to any rank stops all after the same step (Trainer's stop
/// vote), also when it comes between epochs, so they all leave the loop together.
template <class T, class AfterEpoch>
int train_epochs(vaelet::Trainer<T>& trainer, long train_size, const vaelet::Dataset& held_out,
                 const vaelet::RunConfig& config, std::vector<vaelet::EpochMetrics>& history, const RunFiles& run,
                 const EpochLoopText& text, AfterEpoch&& after_epoch) {
    using detail::stop_requested;
    using detail::stop_signal;
    std::signal(SIGINT, detail::on_stop_signal);
    std::signal(SIGTERM, detail::on_stop_signal);
    const int epochs = config.train.epochs;
    const bool alone = trainer.peers() == nullptr, leader = alone || trainer.peers()->leader();
    // A rank of a distributed run may stop because another rank was signalled; it exits as if by SIGTERM.
    const auto signal_name = [] {
        const int sig = stop_signal.load();
        return sig ? "signal " + std::to_string(sig) : std::string("a signal to another rank");
    };
    const auto stop_code = [] { return 128 + (stop_signal.load() ? stop_signal.load() : SIGTERM); };
    vaelet::ProgressBar* current_bar = nullptr;  // the epoch's, while it trains
    trainer.on_step([&](const vaelet::StepReport& r) {
        if (current_bar) current_bar->update(r.examples, r.running_loss);
    });
    while (trainer.epoch() < epochs) {
        const int e = trainer.epoch() + 1;
        if (!leader) {
            trainer.train_epoch(&stop_requested);
            if (!trainer.finished()) return stop_code();
            continue;
        }
        char label[32];
        std::snprintf(label, sizeof label, "epoch %d/%d", e, epochs);
        vaelet::ProgressBar bar(std::cerr, label, train_size);
        current_bar = &bar;
        const long done_before = trainer.in_epoch() ? long(trainer.sums().examples) : 0;  // a resumed epoch
        vaelet::Losses losses;
        try {
            losses = trainer.train_epoch(&stop_requested);
        } catch (const vaelet::numeric_error& e) {  // the library's advice, as the flags that follow it
            std::string message = e.what();
            const auto advice = message.find(vaelet::non_finite_advice);
            if (advice != std::string::npos)
                message.replace(advice, std::string(vaelet::non_finite_advice).size(),
                                "; lower --lr, set --clip-norm, or pass --skip-nonfinite to skip such batches");
            throw vaelet::numeric_error(message);
        }
        current_bar = nullptr;
        bar.finish();
        if (!trainer.finished()) {
            vaelet::save_checkpoint(run.checkpoint, trainer, history, config);
            std::cerr << text.program << ": stopped by " << signal_name() << " in epoch " << e
                      << "; checkpoint saved to " << run.checkpoint << " — continue with --resume\n";
            return stop_code();
        }
        const long skipped = long(trainer.sums().skipped_batches);
        vaelet::EpochMetrics m;
        m.epoch = e;
        m.train = losses;
        m.test = trainer.evaluate(held_out, config.train.seed + 3);
        if (!std::isfinite(m.test.loss))  // e.g. --skip-nonfinite skipped the NaN batches, but the weights are ruined
            throw vaelet::numeric_error("epoch " + std::to_string(e) + ": the " + text.held_out +
                                        " loss is not finite, so the model has diverged (" + std::to_string(skipped) +
                                        " non-finite batches skipped); nothing of this epoch is saved — start a new "
                                        "run with " + text.diverged_hint);
        m.seconds = bar.seconds();
        m.images_per_s = double(long(trainer.sums().examples) - done_before) / std::max(m.seconds, 1e-9);
        history.push_back(m);

        vaelet::write_metrics_csv(run.metrics, history);
        after_epoch(m);
        vaelet::save_checkpoint(run.checkpoint, trainer, history, config);
        const int d = text.decimals;
        std::printf("epoch %d/%d  train %.*f (recon %.*f + kl %.*f)  %s %.*f (recon %.*f + kl %.*f)  %.*f s  %.0f %s/s",
                    e, epochs, d, m.train.loss, d, m.train.recon, d, m.train.kl, text.held_out, d, m.test.loss, d,
                    m.test.recon, d, m.test.kl, d - 1, m.seconds, m.images_per_s, text.unit);
        if (const auto& k = m.train.kl_split)
            std::printf("  train kl = mi %.*f + tc %.*f + dim-kl %.*f", d, k->mutual_information, d,
                        k->total_correlation, d, k->dimension_kl);
        if (skipped > 0) std::printf("  (%ld non-finite batches skipped)", skipped);
        std::printf("\n");
        std::fflush(stdout);
        if (stop_requested && alone) {
            std::cerr << text.program << ": stopped by signal " << stop_signal.load() << " after epoch " << e
                      << "; checkpoint saved — continue with --resume\n";
            return 128 + stop_signal.load();
        }
    }
    return 0;
}

}  // namespace examples
