// vaelet-mnist train: the epoch loop with progress, evaluation, metrics.csv, pictures and checkpoints.
#include "../common/distributed.hpp"
#include "../common/program.hpp"
#include "commands.hpp"
#include "pictures.hpp"

#include <vaelet/data/idx.hpp>
#include <vaelet/io/image.hpp>
#include <vaelet/io/plot.hpp>
#include <vaelet/train/checkpoint.hpp>

#include <filesystem>
#include <iostream>

namespace mnist {

using T = float;
namespace fs = std::filesystem;

namespace {

vaelet::RunConfig config_from_args(const TrainArgs& a, const vaelet::Dataset& train) {
    vaelet::RunConfig c;
    c.model->input = train.features();
    c.model->hidden.assign(a.hidden.begin(), a.hidden.end());
    c.model->latent = a.latent;
    c.model->likelihood = vaelet::parse_likelihood(a.likelihood);
    if (c.model->likelihood == vaelet::LikelihoodKind::tabular)
        throw vaelet::config_error("--likelihood tabular is for tables, not images; use bernoulli, gaussian, "
                                   "gaussian_learned or gaussian_learned_per_dim");
    c.model->sigma = a.sigma;
    c.model->conditions = a.conditional ? 10 : 0;
    c.model->validate();
    c.train = examples::train_options(a);
    c.extra = {{"data", a.data},
               {"image_rows", train.rows()},
               {"image_cols", train.cols()},
               {"exclude_digits", a.exclude_digits},
               {"limit", a.limit}};
    return c;
}

vaelet::Dataset training_set(const std::string& dir, const std::vector<int>& exclude, long limit) {
    vaelet::Dataset train = vaelet::load_mnist(dir, "train");
    if (!exclude.empty()) {
        std::vector<std::uint8_t> unwanted;
        for (int d : exclude) {
            if (d < 0 || d > 255) throw vaelet::config_error("--exclude-digits: " + std::to_string(d) + " is not a label");
            unwanted.push_back(std::uint8_t(d));
        }
        train = train.exclude_labels(unwanted);
    }
    if (limit < 0) throw vaelet::config_error("--limit must be 0 (all) or more, got " + std::to_string(limit));
    if (limit > 0 && limit < train.size()) train = train.head(limit);
    return train;
}

int train_model(const TrainArgs& args, const examples::Peers& peers) {
    examples::set_threads(args.threads, peers.on_this_node);
    if (args.data.empty()) throw vaelet::config_error("--data is required");
    const examples::RunFiles run(args.out);

    // The leader alone reads the run directory (and the flags) into the run's configuration; every rank then reads
    // the training images the configuration names.
    vaelet::RunConfig config;
    vaelet::Dataset train, test;
    if (peers.leader()) {
        run.check_resume(args.resume);
        if (args.resume) {
            config = vaelet::read_checkpoint_config(run.checkpoint);
            if (args.epochs_given) config.train.epochs = args.epochs;
            if (args.skip_nonfinite) config.train.skip_non_finite = true;  // as the NaN guard's message advises
        } else {
            train = training_set(args.data, args.exclude_digits, args.limit);
            config = config_from_args(args, train);
        }
    }
    config = examples::share_config(config, peers);
    if (!peers.leader() || args.resume) {  // a new run's leader has read them above, to size the model
        const auto& e = config.extra;
        train = training_set(args.data, e.value("exclude_digits", std::vector<int>{}), e.value("limit", 0L));
    }
    if (!config.model)
        throw vaelet::io_error(run.checkpoint + ": its model is not an MLP of vaelet-mnist's flags, so train cannot "
                               "resume it; resume it with the program that composed it");
    if (train.features() != config.model->input)
        throw vaelet::shape_error(args.data + ": images have " + std::to_string(train.features()) +
                                  " pixels but the checkpoint's model expects " + std::to_string(config.model->input));
    examples::require_same_count(long(train.size()), "training images", peers);
    if (peers.leader()) {
        test = vaelet::load_mnist(args.data, "test");
        examples::require_writable_dir(args.out);
    }

    vaelet::Rng init(config.train.seed);
    vaelet::Vae<T> vae(*config.model, init);
    vaelet::Trainer<T> trainer(vae, train, config.train, peers.peers);
    std::vector<vaelet::EpochMetrics> history;
    if (args.resume) {
        if (peers.leader()) history = examples::resume(trainer, run);
        trainer.broadcast_state();
    }

    const Pictures pictures(config, vae);
    if (peers.leader()) {
        std::cout << "training " << vae.parameter_count() << " parameters on " << train.size() << " images ("
                  << test.size() << " test), batch " << config.train.batch << ", ";
        if (peers.peers) std::cout << peers.peers->size() << " processes x ";
        std::cout << Eigen::nbThreads() << " thread(s)\n";
    }
    const examples::EpochLoopText text{"vaelet-mnist", "test", "img", 2, "a lower --lr or with --clip-norm"};
    const int code = examples::train_epochs(trainer, long(train.size()), test, config, history, run, text,
                                            [&](const vaelet::EpochMetrics& m) {
        pictures.samples(vae, (fs::path(args.out) / pictures.sample_name(m.epoch)).string());
        pictures.reconstructions(vae, test, (fs::path(args.out) / "reconstructions.png").string());
        pictures.loss_chart(history, (fs::path(args.out) / "loss.png").string());
    });
    if (code != 0 || !peers.leader()) return code;
    std::cout << "done: " << args.out << "/metrics.csv, " << args.out << "/loss.png, " << args.out
              << "/samples_epochNN.png, " << args.out << "/reconstructions.png, " << run.checkpoint << '\n';
    return 0;
}

}  // namespace

int run_train(const TrainArgs& args) {
    return examples::run_training("vaelet-mnist", args.distributed,
                                  [&](const examples::Peers& peers) { return train_model(args, peers); });
}

}  // namespace mnist
