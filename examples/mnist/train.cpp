// vaelet-mnist train: the epoch loop with progress, evaluation, metrics.csv, pictures and checkpoints.
#include "commands.hpp"
#include "pictures.hpp"

#include <vaelet/data/idx.hpp>
#include <vaelet/io/image.hpp>
#include <vaelet/io/plot.hpp>
#include <vaelet/train/checkpoint.hpp>
#include <vaelet/train/progress.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

namespace mnist {

using T = float;
namespace fs = std::filesystem;

namespace {

std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};

extern "C" void on_stop_signal(int sig) {
    stop_signal = sig;
    stop_requested = true;
}

/// Creates `dir` if needed and proves that files can be written there.
void require_writable_dir(const std::string& dir) {
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

vaelet::RunConfig config_from_args(const TrainArgs& a, const vaelet::Dataset& train) {
    vaelet::RunConfig c;
    c.model.input = train.features();
    c.model.hidden.assign(a.hidden.begin(), a.hidden.end());
    c.model.latent = a.latent;
    c.model.likelihood = vaelet::parse_likelihood(a.likelihood);
    if (c.model.likelihood == vaelet::LikelihoodKind::tabular)
        throw vaelet::config_error("--likelihood tabular is for tables, not images; use bernoulli, gaussian, "
                                   "gaussian_learned or gaussian_learned_per_dim");
    c.model.sigma = a.sigma;
    c.model.conditions = a.conditional ? 10 : 0;
    c.model.validate();
    c.train.epochs = a.epochs;
    c.train.batch = a.batch;
    c.train.lr = a.lr;
    c.train.beta = a.beta;
    c.train.warmup_epochs = a.warmup_epochs;
    c.train.free_bits = a.free_bits;
    c.train.clip_norm = a.clip_norm;
    c.train.skip_non_finite = a.skip_nonfinite;
    c.train.seed = a.seed;
    c.train.validate();
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

}  // namespace

void set_threads(int threads) {
    if (threads < 0) throw vaelet::config_error("--threads must be 0 (one per core) or more, got " + std::to_string(threads));
    const int n = threads > 0 ? threads : std::max(1, int(std::thread::hardware_concurrency()));
    Eigen::setNbThreads(n);
}

int run_train(const TrainArgs& args) {
    set_threads(args.threads);
    if (args.data.empty()) throw vaelet::config_error("--data is required");
    const std::string ckpt = (fs::path(args.out) / "checkpoint.safetensors").string();
    const std::string metrics_path = (fs::path(args.out) / "metrics.csv").string();

    vaelet::RunConfig config;
    vaelet::Dataset train, test;
    if (args.resume) {
        if (!fs::exists(ckpt))
            throw vaelet::io_error(ckpt + ": not found, so there is nothing to resume; drop --resume to start a new run");
        config = vaelet::read_checkpoint_config(ckpt);
        if (args.epochs_given) config.train.epochs = args.epochs;
        if (args.skip_nonfinite) config.train.skip_non_finite = true;  // as the NaN guard's message advises
        const auto& e = config.extra;
        train = training_set(args.data, e.value("exclude_digits", std::vector<int>{}), e.value("limit", 0L));
        if (train.features() != config.model.input)
            throw vaelet::shape_error(args.data + ": images have " + std::to_string(train.features()) +
                                      " pixels but the checkpoint's model expects " + std::to_string(config.model.input));
    } else {
        train = training_set(args.data, args.exclude_digits, args.limit);
        config = config_from_args(args, train);
        if (fs::exists(ckpt))
            throw vaelet::io_error(ckpt + " already exists: pass --resume to continue that run, or choose a new --out");
    }
    test = vaelet::load_mnist(args.data, "test");
    require_writable_dir(args.out);

    vaelet::Rng init(config.train.seed);
    vaelet::Vae<T> vae(config.model, init);
    vaelet::Trainer<T> trainer(vae, train, config.train);
    std::vector<vaelet::EpochMetrics> history;
    if (args.resume) {
        history = vaelet::load_checkpoint(ckpt, trainer);
        vaelet::read_metrics_timing(metrics_path, history);
        std::cout << "resuming " << args.out << " at epoch " << trainer.epoch() + 1 << " (step " << trainer.step() << ")\n";
    }

    const Pictures pictures(config);
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);

    const int epochs = config.train.epochs;
    std::cout << "training " << vae.parameter_count() << " parameters on " << train.size() << " images ("
              << test.size() << " test), batch " << config.train.batch << ", " << Eigen::nbThreads() << " thread(s)\n";
    while (trainer.epoch() < epochs) {
        const int e = trainer.epoch() + 1;
        char label[32];
        std::snprintf(label, sizeof label, "epoch %d/%d", e, epochs);
        vaelet::ProgressBar bar(std::cerr, label, long(train.size()));
        const long done_before = trainer.in_epoch() ? long(trainer.sums().examples) : 0;  // a resumed epoch
        const auto losses = trainer.train_epoch([&](long done, double loss) { bar.update(done, loss); }, &stop_requested);
        bar.finish();
        const double seconds = bar.seconds();
        if (!trainer.finished()) {
            vaelet::save_checkpoint(ckpt, trainer, history, config);
            const int sig = stop_signal.load();
            std::cerr << "vaelet-mnist: stopped by signal " << sig << " in epoch " << e << "; checkpoint saved to " << ckpt
                      << " — continue with --resume\n";
            return 128 + sig;
        }
        vaelet::EpochMetrics m;
        m.epoch = e;
        m.train = losses;
        m.test = trainer.evaluate(test, config.train.seed + 3);
        if (!std::isfinite(m.test.loss))  // e.g. --skip-nonfinite skipped the NaN batches, but the weights are ruined
            throw vaelet::numeric_error("epoch " + std::to_string(e) + ": the test loss is not finite, so the model has "
                                        "diverged (" + std::to_string(long(trainer.sums().skipped_batches)) +
                                        " non-finite batches skipped); nothing of this epoch is saved — start a new "
                                        "run with a lower --lr or with --clip-norm");
        m.seconds = seconds;
        m.images_per_s = double(long(trainer.sums().examples) - done_before) / std::max(seconds, 1e-9);
        history.push_back(m);

        vaelet::write_metrics_csv(metrics_path, history);
        pictures.samples(vae, (fs::path(args.out) / pictures.sample_name(e)).string());
        pictures.reconstructions(vae, test, (fs::path(args.out) / "reconstructions.png").string());
        pictures.loss_chart(history, (fs::path(args.out) / "loss.png").string());
        vaelet::save_checkpoint(ckpt, trainer, history, config);
        std::printf("epoch %d/%d  train %.2f (recon %.2f + kl %.2f)  test %.2f (recon %.2f + kl %.2f)  %.1f s  %.0f img/s%s\n",
                    e, epochs, m.train.loss, m.train.recon, m.train.kl, m.test.loss, m.test.recon, m.test.kl, m.seconds,
                    m.images_per_s,
                    trainer.sums().skipped_batches > 0
                        ? ("  (" + std::to_string(long(trainer.sums().skipped_batches)) + " non-finite batches skipped)").c_str()
                        : "");
        std::fflush(stdout);
        if (stop_requested) {
            std::cerr << "vaelet-mnist: stopped by signal " << stop_signal.load() << " after epoch " << e
                      << "; checkpoint saved — continue with --resume\n";
            return 128 + stop_signal.load();
        }
    }
    std::cout << "done: " << args.out << "/metrics.csv, " << args.out << "/loss.png, " << args.out
              << "/samples_epochNN.png, " << args.out << "/reconstructions.png, " << ckpt << '\n';
    return 0;
}

}  // namespace mnist
