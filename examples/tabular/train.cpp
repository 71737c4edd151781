// vaelet-tabular train: read and encode the table, hold out validation rows, then the epoch loop with progress,
// metrics.csv and a checkpoint after every epoch (which also stores the table encoder, so the other subcommands
// need only the checkpoint and a CSV file).
#include "commands.hpp"
#include "table_io.hpp"

#include <vaelet/train/checkpoint.hpp>
#include <vaelet/train/progress.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>

namespace tabular {

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

/// The column kinds given by --ignore, --id, --categorical and --numeric; a column may have only one.
vaelet::CsvOptions declared_kinds(const TrainArgs& a) {
    vaelet::CsvOptions options;
    std::map<std::string, std::string> flag_of;
    const auto declare = [&](const std::vector<std::string>& names, vaelet::ColumnKind kind, const std::string& flag) {
        for (const auto& name : names) {
            if (name.empty())
                throw vaelet::config_error(flag + ": an empty column name; list names with commas, e.g. " + flag +
                                           " a,b");
            const auto [it, fresh] = flag_of.emplace(name, flag);
            if (!fresh && it->second != flag)
                throw vaelet::config_error("column '" + name + "' is given to both " + it->second + " and " + flag +
                                           "; a column has one kind");
            options.declare(name, kind);
        }
    };
    declare(a.ignore, vaelet::ColumnKind::ignored, "--ignore");
    declare(a.id, vaelet::ColumnKind::id, "--id");
    declare(a.categorical, vaelet::ColumnKind::categorical, "--categorical");
    declare(a.numeric, vaelet::ColumnKind::numeric, "--numeric");
    return options;
}

vaelet::RunConfig config_from_args(const TrainArgs& a, const vaelet::TabularEncoder& encoder, const vaelet::CsvTable& table) {
    vaelet::RunConfig c;
    c.model.input = encoder.width();
    c.model.hidden.assign(a.hidden.begin(), a.hidden.end());
    c.model.latent = a.latent;
    c.model.likelihood = vaelet::LikelihoodKind::tabular;
    c.model.tabular = encoder.layout();
    c.model.validate();
    c.train.epochs = a.epochs;
    c.train.batch = a.batch;
    c.train.lr = a.lr;
    c.train.beta = a.beta;
    c.train.warmup_epochs = a.warmup_epochs;
    c.train.free_bits = a.free_bits;
    c.train.skip_non_finite = a.skip_nonfinite;
    c.train.seed = a.seed;
    c.train.validate();
    c.extra = {{"program", "vaelet-tabular"},
               {"csv", a.csv},
               {"rows", table.rows()},
               {"holdout", a.holdout},
               {"encoder", encoder.to_json()}};
    return c;
}

/// The rows kept out of training (a seeded draw of round(holdout · n), at least 1 when holdout > 0) and the
/// rest, each in file order.
struct Split {
    std::vector<vaelet::Index> train, valid;
};

Split split_rows(vaelet::Index n, double holdout, std::uint64_t seed) {
    if (!(holdout >= 0 && holdout < 1))
        throw vaelet::config_error("--holdout must be at least 0 (no validation rows) and below 1, got " +
                                   std::to_string(holdout));
    vaelet::Index valid = vaelet::Index(std::llround(double(n) * holdout));
    if (holdout > 0 && valid == 0) valid = 1;
    if (n - valid < 1)
        throw vaelet::config_error("--holdout " + std::to_string(holdout) + " leaves no row to train on (the table has " +
                                   std::to_string(n) + "); lower it, or 0 to train on every row");
    std::vector<vaelet::Index> order(std::size_t(n), 0);
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = vaelet::Index(i);
    vaelet::Rng rng(seed + 7);
    for (std::size_t i = order.size() - 1; i > 0; --i) std::swap(order[i], order[std::size_t(rng.below(i + 1))]);
    Split s;
    s.valid.assign(order.begin(), order.begin() + valid);
    s.train.assign(order.begin() + valid, order.end());
    std::sort(s.valid.begin(), s.valid.end());
    std::sort(s.train.begin(), s.train.end());
    return s;
}

/// "customer_id" or "a, b" for the columns of one kind, "none" when there are none.
std::string names_of_kind(const vaelet::TabularEncoder& encoder, vaelet::ColumnKind kind) {
    std::vector<std::string> names;
    for (const auto& c : encoder.columns())
        if (c.kind == kind) names.push_back(c.name);
    return names.empty() ? "none" : vaelet::CsvTable::join(names);
}

}  // namespace

void set_threads(int threads) {
    if (threads < 0) throw vaelet::config_error("--threads must be 0 (one per core) or more, got " + std::to_string(threads));
    const int n = threads > 0 ? threads : std::max(1, int(std::thread::hardware_concurrency()));
    Eigen::setNbThreads(n);
}

int run_train(const TrainArgs& args) {
    set_threads(args.threads);
    const std::string ckpt = (fs::path(args.out) / "checkpoint.safetensors").string();
    const std::string metrics_path = (fs::path(args.out) / "metrics.csv").string();

    vaelet::RunConfig config;
    vaelet::TabularEncoder encoder;
    vaelet::CsvTable table;
    if (args.resume) {
        if (!fs::exists(ckpt))
            throw vaelet::io_error(ckpt + ": not found, so there is nothing to resume; drop --resume to start a new run");
        config = vaelet::read_checkpoint_config(ckpt);
        encoder = encoder_of(config, ckpt);
        if (args.epochs_given) config.train.epochs = args.epochs;
        if (args.skip_nonfinite) config.train.skip_non_finite = true;
        config.train.validate();
        table = read_for_encoder(args.csv, encoder);
        const long rows = config.extra.value("rows", -1L);
        if (table.rows() != rows)
            throw vaelet::io_error(args.csv + ": has " + std::to_string(table.rows()) + " rows, but the run in " +
                                   args.out + " was trained on " + std::to_string(rows) + " rows of " +
                                   config.extra.value("csv", std::string("another file")) +
                                   "; resume with the same file");
    } else {
        table = vaelet::read_csv(args.csv, declared_kinds(args));
        encoder = vaelet::TabularEncoder(table);
        config = config_from_args(args, encoder, table);
        if (fs::exists(ckpt))
            throw vaelet::io_error(ckpt + " already exists: pass --resume to continue that run, or choose a new --out");
    }
    const vaelet::Dataset rows(encode_table<float>(encoder, table, args.csv));
    const Split split = split_rows(rows.size(), config.extra.value("holdout", 0.0), config.train.seed);
    const vaelet::Dataset train_rows = rows.subset(split.train), valid_rows = rows.subset(split.valid);
    require_writable_dir(args.out);

    vaelet::Rng init(config.train.seed);
    vaelet::Vae<T> vae(config.model, init);
    vaelet::Trainer<T> trainer(vae, train_rows, config.train);
    std::vector<vaelet::EpochMetrics> history;
    if (args.resume) {
        history = vaelet::load_checkpoint(ckpt, trainer);
        vaelet::read_metrics_timing(metrics_path, history);
        std::cout << "resuming " << args.out << " at epoch " << trainer.epoch() + 1 << " (step " << trainer.step() << ")\n";
    } else {
        std::cout << "columns of " << args.csv << " (" << table.rows() << " rows):\n";
        for (const auto& c : table.columns)
            std::cout << "  " << c.name << ": " << vaelet::column_kind_name(c.kind)
                      << (c.reason.empty() ? "" : " (" + c.reason + ")") << '\n';
        for (const auto& note : encoder.notes()) std::cout << "note: " << note << '\n';
    }
    const auto& layout = encoder.layout();
    std::cout << "model: " << layout.numeric << " numeric + " << layout.categorical_sizes.size()
              << " categorical columns = " << encoder.width() << " encoded columns; ids: "
              << names_of_kind(encoder, vaelet::ColumnKind::id)
              << "; ignored: " << names_of_kind(encoder, vaelet::ColumnKind::ignored) << '\n';

    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);

    const int epochs = config.train.epochs;
    const bool held_out = !valid_rows.empty();
    std::cout << "training " << vae.parameter_count() << " parameters on " << train_rows.size() << " rows ("
              << valid_rows.size() << " held out for validation), batch " << config.train.batch << ", "
              << Eigen::nbThreads() << " thread(s)\n";
    while (trainer.epoch() < epochs) {
        const int e = trainer.epoch() + 1;
        char label[32];
        std::snprintf(label, sizeof label, "epoch %d/%d", e, epochs);
        vaelet::ProgressBar bar(std::cerr, label, long(train_rows.size()));
        const long done_before = trainer.in_epoch() ? long(trainer.sums().examples) : 0;  // a resumed epoch
        const auto losses = trainer.train_epoch([&](long done, double loss) { bar.update(done, loss); }, &stop_requested);
        bar.finish();
        const double seconds = bar.seconds();
        if (!trainer.finished()) {
            vaelet::save_checkpoint(ckpt, trainer, history, config);
            const int sig = stop_signal.load();
            std::cerr << "vaelet-tabular: stopped by signal " << sig << " in epoch " << e << "; checkpoint saved to "
                      << ckpt << " — continue with --resume\n";
            return 128 + sig;
        }
        vaelet::EpochMetrics m;
        m.epoch = e;
        m.train = losses;
        m.test = trainer.evaluate(held_out ? valid_rows : train_rows, config.train.seed + 3);
        if (!std::isfinite(m.test.loss))
            throw vaelet::numeric_error("epoch " + std::to_string(e) + ": the validation loss is not finite, so the "
                                        "model has diverged; nothing of this epoch is saved — start a new run with "
                                        "a lower --lr");
        m.seconds = seconds;
        m.images_per_s = double(long(trainer.sums().examples) - done_before) / std::max(seconds, 1e-9);
        history.push_back(m);

        vaelet::write_metrics_csv(metrics_path, history);
        vaelet::save_checkpoint(ckpt, trainer, history, config);
        std::printf("epoch %d/%d  train %.3f (recon %.3f + kl %.3f)  %s %.3f (recon %.3f + kl %.3f)  %.3f s  %.0f rows/s\n",
                    e, epochs, m.train.loss, m.train.recon, m.train.kl, held_out ? "valid" : "all rows", m.test.loss,
                    m.test.recon, m.test.kl, m.seconds, m.images_per_s);
        std::fflush(stdout);
        if (stop_requested) {
            std::cerr << "vaelet-tabular: stopped by signal " << stop_signal.load() << " after epoch " << e
                      << "; checkpoint saved — continue with --resume\n";
            return 128 + stop_signal.load();
        }
    }
    std::cout << "done: " << metrics_path << ", " << ckpt << "\nnext: vaelet-tabular segment --ckpt " << ckpt
              << " --csv " << args.csv << " --k K --out segments.csv\n";
    return 0;
}

}  // namespace tabular
