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
#include <memory>

namespace mnist {

using T = float;
namespace fs = std::filesystem;

namespace {

/// The conv VAE of the flags, for images of `train`'s size.
vaelet::ConvVaeConfig conv_config_from_args(const TrainArgs& a, const vaelet::Dataset& train,
                                            vaelet::LikelihoodKind likelihood) {
    vaelet::ConvVaeConfig c;
    c.height = train.rows();
    c.width = train.cols();
    c.conv_channels.assign(a.conv_channels.begin(), a.conv_channels.end());
    if (a.hidden_given && a.hidden.size() != 1)
        throw vaelet::config_error("--arch conv has one hidden layer (fc1, default 256 wide); give --hidden one width");
    if (a.hidden_given) c.hidden = a.hidden.front();
    c.latent = a.latent;
    c.likelihood = likelihood;
    c.sigma = a.sigma;
    c.conditions = a.conditional ? 10 : 0;
    examples::set_model_parts(a, c);
    try {
        c.validate();
    } catch (const vaelet::config_error& e) {  // the library names its fields; the user here has flags
        throw vaelet::config_error(std::string(e.what()) + " (--conv-channels " + std::to_string(a.conv_channels.size()) +
                                   " values, images " + std::to_string(train.rows()) + "x" +
                                   std::to_string(train.cols()) + ")");
    }
    return c;
}

vaelet::RunConfig config_from_args(const TrainArgs& a, const vaelet::Dataset& train) {
    const vaelet::LikelihoodKind likelihood = vaelet::parse_likelihood(a.likelihood);
    if (likelihood == vaelet::LikelihoodKind::tabular)
        throw vaelet::config_error("--likelihood tabular is for tables, not images; use bernoulli, gaussian, "
                                   "gaussian_learned or gaussian_learned_per_dim");
    if (a.arch != "mlp" && a.arch != "conv")
        throw vaelet::config_error("--arch is \"" + a.arch + "\"; use mlp or conv");
    vaelet::RunConfig c;
    c.extra = {{"data", a.data},
               {"image_rows", train.rows()},
               {"image_cols", train.cols()},
               {"exclude_digits", a.exclude_digits},
               {"limit", a.limit}};
    if (a.arch == "conv") {
        c.model.reset();  // the model is not an MLP; extra["conv"] rebuilds it on --resume and on every MPI rank
        c.extra["conv"] = vaelet::to_json(conv_config_from_args(a, train, likelihood));
    } else {
        if (a.conv_channels_given)
            throw vaelet::config_error("--conv-channels is for --arch conv; the MLP's layers are --hidden");
        c.model->input = train.features();
        c.model->hidden.assign(a.hidden.begin(), a.hidden.end());
        c.model->latent = a.latent;
        c.model->likelihood = likelihood;
        c.model->sigma = a.sigma;
        c.model->conditions = a.conditional ? 10 : 0;
        examples::set_model_parts(a, *c.model);
        c.model->validate();
    }
    c.train = examples::train_options(a);
    return c;
}

/// The model a run's configuration describes, with fresh weights: the MLP of config.model, or the conv VAE of
/// extra["conv"].
std::unique_ptr<vaelet::Vae<T>> make_model(const vaelet::RunConfig& config, const std::string& checkpoint) {
    vaelet::Rng init(config.train.seed);
    if (config.model) return std::make_unique<vaelet::Vae<T>>(*config.model, init);
    if (config.extra.contains("conv"))
        return std::make_unique<vaelet::Vae<T>>(
            vaelet::conv_vae_parts<T>(vaelet::conv_vae_config_from_json(config.extra.at("conv"), checkpoint), init));
    throw vaelet::io_error(checkpoint + ": its model is neither vaelet-mnist's MLP nor its conv VAE, so train cannot "
                           "resume it; resume it with the program that composed it");
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
    const std::unique_ptr<vaelet::Vae<T>> model = make_model(config, run.checkpoint);
    vaelet::Vae<T>& vae = *model;
    if (train.features() != vae.input())
        throw vaelet::shape_error(args.data + ": images have " + std::to_string(train.features()) +
                                  " pixels but the checkpoint's model expects " + std::to_string(vae.input()));
    examples::require_same_count(long(train.size()), "training images", peers);
    if (peers.leader()) {
        test = vaelet::load_mnist(args.data, "test");
        examples::require_writable_dir(args.out);
    }

    vaelet::Trainer<T> trainer(vae, train, config.train, peers.peers);
    const bool choosing = args.threads == 0 && trainer.choose_threads(Eigen::nbThreads()).choosing();
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
        if (choosing)
            std::cout << "1 or " << Eigen::nbThreads() << " threads (the faster, chosen as it trains)\n";
        else
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
