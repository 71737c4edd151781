// examples/common/train_flags.hpp — the flags every `train` subcommand has (run directory, epochs, batch, model
// size and kind, optimizer, β schedule, seed, threads, resume), declared once: each program's TrainArgs derives from
// TrainFlags, sets its own defaults, and adds its data flags.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace examples {

/// The flag of a TrainOptions field: "clip_norm" → "--clip-norm", "skip_non_finite" → "--skip-nonfinite",
/// "objective" → "--model".
inline std::string flag_of(std::string field) {
    if (field == "skip_non_finite") return "--skip-nonfinite";
    if (field == "objective") return "--model";
    std::replace(field.begin(), field.end(), '_', '-');
    return "--" + field;
}

/// A library message about a TrainOptions field in the program's flags: "training options: lr must …" →
/// "--lr must …". Other messages pass unchanged.
inline std::string in_flags(const std::string& message) {
    const std::string prefix = "training options: ";
    if (message.rfind(prefix, 0) != 0) return message;
    const std::string rest = message.substr(prefix.size());
    const std::string field = rest.substr(0, rest.find(' '));
    return flag_of(field) + rest.substr(field.size());
}

struct TrainFlags {
    std::string out;
    int epochs = 10;
    bool epochs_given = false;  // --epochs was on the command line (with --resume it replaces the stored total)
    long batch = 128;
    long latent = 20;
    std::vector<long> hidden{400};
    std::string optimizer = "adam", schedule = "constant";
    double lr = 1e-3, weight_decay = 0.0, momentum = 0.0, min_lr = 0.0;
    double beta = 1.0, warmup_epochs = 0.0, free_bits = 0.0, clip_norm = 0.0;
    std::string model = "vae";  // vae | iwae | vamp | flow | tcvae | two-layer (docs/models.md)
    long samples = 0;           // --model iwae: importance samples per example (0: 5)
    bool dreg = false;
    long pseudo_inputs = 0;     // --model vamp: the VampPrior's pseudo-inputs (0: 500)
    long flow_steps = 0, flow_hidden = 0;  // --model flow: IAF steps (0: 2) and the hidden units of each (0: 128)
    long latent2 = 0;                      // --model two-layer: z2's dimensions (0: 10)
    std::vector<long> hidden2;             // --model two-layer: the upper layer's widths (empty: 64)
    std::string tc_estimator = "mws";
    std::uint64_t seed = 1;
    int threads = 0;
    bool resume = false, skip_nonfinite = false;
};

/// Adds the TrainFlags options to `train`; `example` names one example ("images", "rows") in the help. Returns
/// the --epochs option: after parsing, `f.epochs_given = epochs->count() > 0`.
inline CLI::Option* add_train_flags(CLI::App* train, TrainFlags& f, const std::string& example) {
    train->add_option("--out", f.out, "run directory (created if missing)")->required();
    auto* epochs = train->add_option("--epochs", f.epochs, "epochs to train (with --resume: the total to reach)")
                       ->capture_default_str();
    train->add_option("--batch", f.batch, example + " per step")->capture_default_str();
    train->add_option("--latent", f.latent, "latent dimensions")->capture_default_str();
    train->add_option("--hidden", f.hidden, "hidden layer widths, e.g. --hidden 512 256")->capture_default_str();
    train->add_option("--optimizer", f.optimizer, "adam, adamw (decoupled weight decay) or sgd")->capture_default_str();
    train->add_option("--lr", f.lr, "learning rate")->capture_default_str();
    train->add_option("--weight-decay", f.weight_decay, "weight decay (adam: L2, adamw: decoupled, sgd: L2)")
        ->capture_default_str();
    train->add_option("--momentum", f.momentum, "SGD momentum")->capture_default_str();
    train->add_option("--schedule", f.schedule, "learning rate: constant, or cosine from --lr to --min-lr over all "
                      "epochs")->capture_default_str();
    train->add_option("--min-lr", f.min_lr, "the cosine schedule's last learning rate")->capture_default_str();
    train->add_option("--beta", f.beta, "weight of the KL term")->capture_default_str();
    train->add_option("--warmup-epochs", f.warmup_epochs, "raise beta linearly from 0 over this many epochs")
        ->capture_default_str();
    train->add_option("--free-bits", f.free_bits, "KL floor per latent dimension, nats")->capture_default_str();
    train->add_option("--model", f.model, "vae (the ELBO), iwae (the importance-weighted bound of --samples samples), "
                      "vamp (the VampPrior of --pseudo-inputs), flow (an IAF posterior of --flow-steps), tcvae "
                      "(beta-TCVAE, --beta weighing the total correlation) or two-layer (a second stochastic layer "
                      "z2 of --latent2); docs/models.md")->capture_default_str();
    train->add_option("--samples", f.samples, "--model iwae: importance samples per example (default 5)");
    train->add_flag("--dreg", f.dreg, "--model iwae: the doubly reparameterized encoder gradient (Tucker et al. 2018)");
    train->add_option("--pseudo-inputs", f.pseudo_inputs, "--model vamp: learned pseudo-inputs of the prior (default 500)");
    train->add_option("--flow-steps", f.flow_steps, "--model flow: inverse autoregressive flow steps (default 2)");
    train->add_option("--flow-hidden", f.flow_hidden, "--model flow: hidden units of each step's MADE (default 128)");
    train->add_option("--latent2", f.latent2, "--model two-layer: dimensions of z2 (default 10)");
    train->add_option("--hidden2", f.hidden2, "--model two-layer: widths of q(z2|z1)'s layers (default 64); "
                      "p(z1|z2) mirrors them");
    train->add_option("--tc-estimator", f.tc_estimator, "--model tcvae: mws (minibatch-weighted sampling, as the paper) "
                      "or stratified (weights that sum to 1: the logged terms read as nats)")->capture_default_str();
    train->add_option("--clip-norm", f.clip_norm, "clip the gradient's global norm (0: off)")->capture_default_str();
    train->add_option("--seed", f.seed, "random seed")->capture_default_str();
    train->add_option("--threads", f.threads, "threads for matrix products (0: one or one per core, whichever "
                      "trains faster at the time; a run is then reproducible to rounding, not bit for bit)")
        ->capture_default_str();
    train->add_flag("--resume", f.resume, "continue the run in --out from its checkpoint (its settings are kept)");
    train->add_flag("--skip-nonfinite", f.skip_nonfinite,
                    "skip batches whose loss or gradient is NaN/Inf instead of stopping");
    return epochs;
}

}  // namespace examples
