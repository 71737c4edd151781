// vaelet-tabular — a VAE for tables of numbers and categories (a CSV file): train it, then encode rows into latent
// space, segment them (k-means on the latent means), generate synthetic rows, and score rows for anomalies.
// `vaelet-tabular --help` lists it all.
#include "../common/command.hpp"
#include "commands.hpp"

#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
    CLI::App app{"vaelet-tabular: a variational autoencoder for tables (CSV): segments, synthetic rows, anomaly scores"};
    app.require_subcommand(1);

    tabular::TrainArgs t;
    auto* train = app.add_subcommand("train", "train a VAE on a CSV table; writes metrics.csv and checkpoint.safetensors to --out");
    train->add_option("--csv", t.csv, "the table: a header row, then one row per example")->required();
    auto* epochs = examples::add_train_flags(train, t, "rows");
    train->add_option("--holdout", t.holdout, "share of the rows kept out of training for the validation loss (0: none)")
        ->capture_default_str();
    train->add_option("--ignore", t.ignore, "columns to keep out of the model, e.g. true labels: --ignore segment,is_outlier")
        ->delimiter(',');
    train->add_option("--id", t.id, "columns that name the rows (otherwise detected: unique values, a name like *_id)")
        ->delimiter(',');
    train->add_option("--categorical", t.categorical, "columns to treat as categories even if they hold numbers")
        ->delimiter(',');
    train->add_option("--numeric", t.numeric, "columns that must be numbers")->delimiter(',');

    tabular::ToolArgs a;
    auto add_common = [&](CLI::App* c, const std::string& out_what) {
        c->add_option("--ckpt", a.ckpt, "checkpoint.safetensors of a vaelet-tabular train run")->required();
        c->add_option("--out", a.out, out_what)->required();
        c->add_option("--seed", a.seed, "random seed")->capture_default_str();
        c->add_option("--threads", a.threads, "threads (0: one per core)")->capture_default_str();
    };
    auto add_csv = [&](CLI::App* c) {
        c->add_option("--csv", a.csv, "a table with the training columns (other columns are carried or ignored)")
            ->required();
    };

    auto* encode = app.add_subcommand("encode", "write each row's latent mean and log-variance: ids, mu_0…, logvar_0…");
    add_csv(encode);
    add_common(encode, "CSV file");

    auto* segment = app.add_subcommand("segment", "k-means++ on the latent means: ids, segment");
    add_csv(segment);
    add_common(segment, "CSV file");
    segment->add_option("--k", a.k, "number of segments")->required();
    segment->add_option("--truth", a.truth, "a column of known groups: print the adjusted Rand index of the segments "
                                            "and of k-means on the standardized columns");

    auto* generate = app.add_subcommand("generate", "write N synthetic rows with the training table's columns");
    add_common(generate, "CSV file");
    generate->add_option("--n", a.n, "number of rows")->required();

    auto* score = app.add_subcommand("score", "anomaly scores per row: ids, neg_elbo, recon_error (higher = more unusual)");
    add_csv(score);
    add_common(score, "CSV file");
    score->add_option("--samples", a.samples, "samples of z per row for the -ELBO")->capture_default_str();
    score->add_option("--truth", a.truth, "a column flagging known outliers with 1 (others 0): print the AUROC");

    auto* export_graphs = app.add_subcommand("export", "write the model as ONNX graphs (encoder.onnx, decoder.onnx, "
                                             "reconstruction.onnx) and the column encoding (columns.json)");
    export_graphs->add_option("--ckpt", a.ckpt, "checkpoint.safetensors of a vaelet-tabular train run")->required();
    export_graphs->add_option("--out", a.out, "directory for the files (created when missing)")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    t.epochs_given = epochs->count() > 0;

    return examples::run_command("vaelet-tabular", [&] {
        if (*train) return tabular::run_train(t);
        if (*encode) return tabular::run_encode(a);
        if (*segment) return tabular::run_segment(a);
        if (*generate) return tabular::run_generate(a);
        if (*score) return tabular::run_score(a);
        if (*export_graphs) return tabular::run_export(a);
        return 1;  // require_subcommand(1) makes this unreachable
    });
}
