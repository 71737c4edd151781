// vaelet-tabular encode | segment | generate | score | export: using a trained checkpoint on a CSV file. Every output
// is written atomically (vaelet::write_csv), a CSV file's rows named by the table's id columns (or "row").
#include "../common/export_onnx.hpp"
#include "../common/program.hpp"
#include "commands.hpp"
#include "table_io.hpp"

#include <vaelet/core/atomic_file.hpp>
#include <vaelet/stats/cluster_scores.hpp>
#include <vaelet/stats/kmeans.hpp>
#include <vaelet/stats/roc.hpp>
#include <vaelet/vae/score.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>

namespace tabular {

using T = float;
using vaelet::Index;

namespace {

constexpr Index chunk = 1000;  // rows per pass through the model

/// A checkpoint's table encoder and model.
struct Loaded {
    vaelet::TabularEncoder encoder;
    std::unique_ptr<vaelet::Vae<T>> vae;
};

Loaded load(const ToolArgs& a) {
    examples::set_threads(a.threads);
    vaelet::TrainedModel<T> trained = vaelet::load_trained_model<T>(a.ckpt);
    return {encoder_of(trained.config, a.ckpt), std::move(trained.vae)};
}

/// The --csv table (with the --truth column, if given) and its encoded rows.
struct Input {
    vaelet::CsvTable table;
    vaelet::Matrix<T> x;
};

Input read_input(const ToolArgs& a, const vaelet::TabularEncoder& encoder) {
    Input in;
    in.table = read_for_encoder(a.csv, encoder, a.truth);
    in.x = encode_table<T>(encoder, in.table, a.csv);
    return in;
}

/// μ and log σ² of q(z|x) for every row, chunk by chunk.
void encode_rows(vaelet::Vae<T>& vae, const vaelet::Matrix<T>& x, vaelet::Matrix<T>& mu, vaelet::Matrix<T>& logvar) {
    const Index d = vae.latent();
    mu.resize(x.rows(), d);
    logvar.resize(x.rows(), d);
    vaelet::Matrix<T> m, v;
    for (Index first = 0; first < x.rows(); first += chunk) {
        const Index n = std::min(chunk, x.rows() - first);
        vae.encode(x.middleRows(first, n), m, v);
        mu.middleRows(first, n) = m;
        logvar.middleRows(first, n) = v;
    }
}

/// "customer_id": the names of the key columns, for messages.
std::string key_description(const vaelet::CsvTable& keys) {
    return vaelet::CsvTable::join(keys.names());
}

/// The 0/1 flags of the --truth column for AUROC: 1/0, true/false or yes/no in each row.
std::vector<bool> truth_flags(const vaelet::CsvTable& table, const ToolArgs& a) {
    const std::vector<std::string> values = vaelet::column_text(table.column(a.truth));
    std::vector<bool> flags;
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::string v = values[i];
        std::transform(v.begin(), v.end(), v.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
        char* end = nullptr;
        const double number = std::strtod(v.c_str(), &end);
        const bool parsed = !v.empty() && *end == '\0';  // "1", "1.0", "0e0" …
        if ((parsed && number == 1) || v == "true" || v == "yes") {
            flags.push_back(true);
        } else if ((parsed && number == 0) || v == "false" || v == "no") {
            flags.push_back(false);
        } else {
            throw vaelet::config_error("--truth " + a.truth + ": " + a.csv + ", data row " + std::to_string(i + 1) +
                                       " holds '" + values[i] + "'; the column must flag each row 1 (outlier) or 0");
        }
    }
    const auto positives = std::count(flags.begin(), flags.end(), true);
    if (positives == 0 || positives == long(flags.size()))
        throw vaelet::config_error("--truth " + a.truth + ": every row of " + a.csv + " is " +
                                   (positives == 0 ? "0" : "1") + "; the AUROC needs rows flagged 1 and rows flagged 0");
    return flags;
}

}  // namespace

int run_encode(const ToolArgs& a) {
    Loaded m = load(a);
    const Input in = read_input(a, m.encoder);
    vaelet::Matrix<T> mu, logvar;
    encode_rows(*m.vae, in.x, mu, logvar);

    vaelet::CsvTable out = row_keys(m.encoder, in.table);
    const std::string keys = key_description(out);
    for (const auto* part : {&mu, &logvar})
        for (Index j = 0; j < part->cols(); ++j) {
            std::vector<double> v(std::size_t(part->rows()));
            for (Index i = 0; i < part->rows(); ++i) v[std::size_t(i)] = significant(double((*part)(i, j)), 7);
            out.columns.push_back(number_column((part == &mu ? "mu_" : "logvar_") + std::to_string(j), std::move(v)));
        }
    vaelet::write_csv(a.out, out);
    std::cout << "wrote " << keys << ", mu_0…mu_" << mu.cols() - 1 << ", logvar_0…logvar_" << mu.cols() - 1
              << " of " << in.table.rows() << " rows to " << a.out << '\n';
    return 0;
}

int run_segment(const ToolArgs& a) {
    Loaded m = load(a);
    if (a.k < 1) throw vaelet::config_error("--k must be at least 1, got " + std::to_string(a.k));
    const Input in = read_input(a, m.encoder);
    if (a.k > in.table.rows())
        throw vaelet::config_error("--k " + std::to_string(a.k) + " is more segments than " + a.csv + " has rows (" +
                                   std::to_string(in.table.rows()) + ")");
    vaelet::Matrix<T> mu, logvar;
    encode_rows(*m.vae, in.x, mu, logvar);
    vaelet::Rng rng(a.seed);
    const auto found = vaelet::kmeans(mu, a.k, rng);

    double ari_vae = 0, ari_raw = 0;
    if (!a.truth.empty()) {  // before writing anything, so a bad --truth leaves no file
        const std::vector<std::string> truth = vaelet::column_text(in.table.column(a.truth));
        ari_vae = vaelet::adjusted_rand_index(found.labels, truth);
        vaelet::Rng raw_rng(a.seed);
        ari_raw = vaelet::adjusted_rand_index(vaelet::kmeans(in.x, a.k, raw_rng).labels, truth);
    }

    vaelet::CsvTable out = row_keys(m.encoder, in.table);
    const std::string keys = key_description(out);
    std::vector<double> segment(found.labels.begin(), found.labels.end());
    out.columns.push_back(number_column("segment", std::move(segment)));
    vaelet::write_csv(a.out, out);

    std::vector<long> sizes(std::size_t(a.k), 0);
    for (Index l : found.labels) ++sizes[std::size_t(l)];
    std::cout << "wrote " << keys << ", segment (0…" << a.k - 1 << ") of " << in.table.rows()
              << " rows to " << a.out << "; segment sizes";
    for (long s : sizes) std::cout << ' ' << s;
    std::cout << '\n';
    if (!a.truth.empty()) {
        const std::string vae_label = "VAE latent means (" + std::to_string(mu.cols()) + " dims)";
        const std::string raw_label = "standardized columns (" + std::to_string(in.x.cols()) + " dims)";
        std::printf("adjusted Rand index against '%s' (k-means++, k = %ld, seed %llu):\n  %-34s %.3f\n  %-34s %.3f\n",
                    a.truth.c_str(), a.k, static_cast<unsigned long long>(a.seed), vae_label.c_str(), ari_vae,
                    raw_label.c_str(), ari_raw);
    }
    return 0;
}

int run_generate(const ToolArgs& a) {
    constexpr long max_rows = 1'000'000;
    if (a.n < 1 || a.n > max_rows)
        throw vaelet::config_error("--n must be from 1 to " + std::to_string(max_rows) + ", got " + std::to_string(a.n));
    Loaded m = load(a);
    vaelet::Rng rng(a.seed);
    // x ~ p(x|z), z ~ N(0, I): the numeric columns' means plus σ·ε with each column's learned σ; each categorical
    // column drawn from its probabilities by decode().
    vaelet::RowVector<T> sigma;
    for (const auto& p : m.vae->named_parameters())
        if (p.name == "decoder.log_sigma") sigma = p.param->value.array().exp().matrix();
    const Index numeric = m.encoder.layout().numeric;
    vaelet::Matrix<T> x(a.n, m.encoder.width());
    for (Index first = 0; first < a.n; first += chunk) {
        const Index n = std::min<Index>(chunk, a.n - first);
        x.middleRows(first, n) = m.vae->generate(n, rng);
        for (Index i = first; i < first + n; ++i)
            for (Index j = 0; j < numeric; ++j) x(i, j) += sigma(j) * T(rng.normal());
    }
    vaelet::TabularDecodeOptions options;
    options.rng = &rng;
    vaelet::CsvTable out = m.encoder.decode(x, options);
    for (auto& c : out.columns)
        for (double& v : c.numbers) v = significant(v, 7);
    vaelet::write_csv(a.out, out);
    std::cout << "wrote " << a.n << " generated rows (" << vaelet::CsvTable::join(out.names()) << ") to " << a.out
              << '\n';
    return 0;
}

int run_score(const ToolArgs& a) {
    Loaded m = load(a);
    if (a.samples < 1) throw vaelet::config_error("--samples must be at least 1, got " + std::to_string(a.samples));
    const Input in = read_input(a, m.encoder);
    const std::vector<bool> flags = a.truth.empty() ? std::vector<bool>{} : truth_flags(in.table, a);

    vaelet::Rng rng(a.seed);
    std::vector<double> neg_elbo, recon;
    for (Index first = 0; first < in.x.rows(); first += chunk) {
        const Index n = std::min(chunk, in.x.rows() - first);
        const vaelet::Matrix<T> x = in.x.middleRows(first, n);
        const auto s = vaelet::score_examples(*m.vae, x, rng, int(a.samples));
        for (Index i = 0; i < n; ++i) {
            neg_elbo.push_back(s.neg_elbo(i, 0));
            recon.push_back(s.recon_error(i, 0));
        }
    }
    const double auc_elbo = flags.empty() ? 0 : vaelet::auroc(neg_elbo, flags);
    const double auc_recon = flags.empty() ? 0 : vaelet::auroc(recon, flags);

    vaelet::CsvTable out = row_keys(m.encoder, in.table);
    const vaelet::CsvTable keys = out;
    std::vector<double> rounded_elbo, rounded_recon;
    for (std::size_t i = 0; i < neg_elbo.size(); ++i) {
        rounded_elbo.push_back(significant(neg_elbo[i], 7));
        rounded_recon.push_back(significant(recon[i], 7));
    }
    out.columns.push_back(number_column("neg_elbo", std::move(rounded_elbo)));
    out.columns.push_back(number_column("recon_error", std::move(rounded_recon)));
    vaelet::write_csv(a.out, out);

    std::cout << "wrote " << key_description(keys) << ", neg_elbo, recon_error of " << in.table.rows() << " rows to "
              << a.out << " (nats; higher = more unusual)\n";
    std::vector<std::size_t> order(neg_elbo.size());
    std::iota(order.begin(), order.end(), std::size_t(0));
    const std::size_t shown = std::min<std::size_t>(5, order.size());
    std::partial_sort(order.begin(), order.begin() + long(shown), order.end(),
                      [&](std::size_t i, std::size_t j) { return neg_elbo[i] > neg_elbo[j]; });
    std::vector<std::vector<std::string>> key_text;
    for (const auto& c : keys.columns) key_text.push_back(vaelet::column_text(c));
    std::cout << "most unusual by -ELBO:";
    for (std::size_t r = 0; r < shown; ++r) {
        std::string key;
        for (const auto& column : key_text) key += (key.empty() ? "" : "/") + column[order[r]];
        std::printf("%s %s (%.1f)", r ? "," : "", key.c_str(), neg_elbo[order[r]]);
    }
    std::printf("\n");
    if (!flags.empty()) {
        const long positives = long(std::count(flags.begin(), flags.end(), true));
        std::printf("AUROC for finding the rows with '%s' = 1 (%ld of %zu):\n"
                    "  by -ELBO                 %.3f\n"
                    "  by reconstruction error  %.3f\n",
                    a.truth.c_str(), positives, flags.size(), auc_elbo, auc_recon);
    }
    return 0;
}

int run_export(const ToolArgs& a) {
    Loaded m = load(a);
    examples::export_onnx_graphs(*m.vae, a.out);
    // The graphs take the encoded table; columns.json says how CSV columns become its columns, and back
    // (data/tabular.hpp, TabularEncoder::to_json).
    const std::string columns = (std::filesystem::path(a.out) / "columns.json").string();
    vaelet::write_file_atomic(columns, m.encoder.to_json().dump(2) + "\n");
    std::cout << "wrote " << columns << "  the column encoding: x is each numeric column as (value - mean) / std, "
                 "then a one-hot block over each categorical column's levels, both in the listed order\n";
    return 0;
}

}  // namespace tabular
