// vaelet-tabular train: read and encode the table, hold out validation rows, then the epoch loop with progress,
// metrics.csv and a checkpoint after every epoch (which also stores the table encoder, so the other subcommands
// need only the checkpoint and a CSV file).
#include "../common/program.hpp"
#include "commands.hpp"
#include "table_io.hpp"

#include <vaelet/train/checkpoint.hpp>

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

namespace tabular {

using T = float;

namespace {

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
    c.model->input = encoder.width();
    c.model->hidden.assign(a.hidden.begin(), a.hidden.end());
    c.model->latent = a.latent;
    c.model->likelihood = vaelet::LikelihoodKind::tabular;
    c.model->tabular = encoder.layout();
    examples::set_model_parts(a, *c.model);
    c.model->validate();
    c.train = examples::train_options(a);
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

int run_train(const TrainArgs& args) {
    examples::set_threads(args.threads);
    const examples::RunFiles run(args.out);
    run.check_resume(args.resume);

    vaelet::RunConfig config;
    vaelet::TabularEncoder encoder;
    vaelet::CsvTable table;
    if (args.resume) {
        config = vaelet::read_checkpoint_config(run.checkpoint);
        encoder = encoder_of(config, run.checkpoint);
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
    }
    const vaelet::Dataset rows(encode_table<float>(encoder, table, args.csv));
    const Split split = split_rows(rows.size(), config.extra.value("holdout", 0.0), config.train.seed);
    const vaelet::Dataset train_rows = rows.subset(split.train), valid_rows = rows.subset(split.valid);
    examples::require_writable_dir(args.out);

    vaelet::Rng init(config.train.seed);
    vaelet::Vae<T> vae(*config.model, init);
    vaelet::Trainer<T> trainer(vae, train_rows, config.train);
    if (args.threads == 0) trainer.choose_threads(Eigen::nbThreads());
    std::vector<vaelet::EpochMetrics> history;
    if (args.resume) {
        history = examples::resume(trainer, run);
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

    const bool held_out = !valid_rows.empty();
    std::cout << "training " << vae.parameter_count() << " parameters on " << train_rows.size() << " rows ("
              << valid_rows.size() << " held out for validation), batch " << config.train.batch << ", "
              << Eigen::nbThreads() << " thread(s)\n";
    const examples::EpochLoopText text{"vaelet-tabular", held_out ? "validation" : "all-rows", "rows", 3,
                                       "a lower --lr"};
    const int code = examples::train_epochs(trainer, long(train_rows.size()), held_out ? valid_rows : train_rows,
                                            config, history, run, text, [](const vaelet::EpochMetrics&) {});
    if (code != 0) return code;
    std::cout << "done: " << run.metrics << ", " << run.checkpoint << "\nnext: vaelet-tabular segment --ckpt " << run.checkpoint
              << " --csv " << args.csv << " --k K --out segments.csv\n";
    return 0;
}

}  // namespace tabular
