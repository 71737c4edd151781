// vaelet-tabular's files: the table encoder stored in a checkpoint, reading a CSV file for it, and the key
// columns (ids) that name the rows of every output.
//
//   const vaelet::TabularEncoder encoder = tabular::encoder_of(vaelet::read_checkpoint_config(ckpt), ckpt);
//   const vaelet::CsvTable table = tabular::read_for_encoder("new.csv", encoder);   // training kinds enforced
//   vaelet::CsvTable out = tabular::row_keys(encoder, table);   // + result columns, then vaelet::write_csv
#pragma once

#include <vaelet/data/csv.hpp>
#include <vaelet/data/tabular.hpp>
#include <vaelet/train/checkpoint.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace tabular {

/// The table encoder a vaelet-tabular checkpoint stores in its config (extra.encoder); `ckpt` names the file in
/// errors, e.g. when it is a checkpoint of another program.
inline vaelet::TabularEncoder encoder_of(const vaelet::RunConfig& config, const std::string& ckpt) {
    if (!config.model || config.model->likelihood != vaelet::LikelihoodKind::tabular || !config.extra.contains("encoder"))
        throw vaelet::io_error(ckpt + ": not a vaelet-tabular checkpoint (its model has " +
                               (config.model ? "the " + std::string(vaelet::likelihood_name(config.model->likelihood)) +
                                                   " likelihood"
                                             : std::string("no MLP configuration")) +
                               " and no table encoder); give the RUN/checkpoint.safetensors that vaelet-tabular train "
                               "wrote");
    vaelet::TabularEncoder encoder;
    try {
        encoder = vaelet::TabularEncoder::from_json(config.extra.at("encoder"));
    } catch (const vaelet::config_error& e) {
        throw vaelet::io_error(ckpt + ": " + e.what());
    }
    if (encoder.layout() != config.model->tabular)
        throw vaelet::io_error(ckpt + ": the stored table encoder makes " + std::to_string(encoder.width()) +
                               " columns but the model's layout has " + std::to_string(config.model->tabular.width()) +
                               "; the checkpoint is damaged");
    return encoder;
}

/// Reads `path` for a fitted encoder: each column the model was trained on must be there, with the kind it had
/// (so a categorical column of digits stays categorical); every other column — ids, ignored ones, new ones — is
/// read as text, as it is, and is never modelled. `truth`, when not empty, must be a column of the file.
inline vaelet::CsvTable read_for_encoder(const std::string& path, const vaelet::TabularEncoder& encoder,
                                         const std::string& truth = "") {
    const std::vector<std::string> header = vaelet::read_csv_header(path);  // empty: read_csv says what is wrong
    auto has = [&](const std::string& name) { return std::find(header.begin(), header.end(), name) != header.end(); };
    vaelet::CsvOptions options;
    options.detect_ids = false;
    if (!header.empty()) {
        std::vector<std::string> missing;
        for (const auto& c : encoder.columns())
            if (vaelet::is_modelled(c.kind) && !has(c.name)) missing.push_back(c.name);
        if (!missing.empty())
            throw vaelet::io_error(path + ": no column " + vaelet::CsvTable::join(missing) + ", which the model was "
                                   "trained on; the file has " + vaelet::CsvTable::join(header) +
                                   " — give a table with the training columns (extra columns are fine)");
        if (!truth.empty() && !has(truth))
            throw vaelet::io_error("--truth " + truth + ": " + path + " has no such column (columns: " +
                                   vaelet::CsvTable::join(header) + ")");
        for (const auto& name : header) options.ignore(name);
        for (const auto& c : encoder.columns())
            if (vaelet::is_modelled(c.kind)) options.declare(c.name, c.kind);
    }
    return vaelet::read_csv(path, options);
}

/// The encoded rows of `table` (read by read_for_encoder from `path`); errors name the file.
template <class T>
vaelet::Matrix<T> encode_table(const vaelet::TabularEncoder& encoder, const vaelet::CsvTable& table,
                               const std::string& path) {
    try {
        return encoder.template encode<T>(table);
    } catch (const vaelet::io_error& e) {
        throw vaelet::io_error(path + ": " + e.what());
    }
}

/// The columns that name each row in an output: the training table's id columns that `table` has, or, when it
/// has none, "row" = 1, 2, … (the data row number).
inline vaelet::CsvTable row_keys(const vaelet::TabularEncoder& encoder, const vaelet::CsvTable& table) {
    vaelet::CsvTable keys;
    for (const auto& c : encoder.columns())
        if (c.kind == vaelet::ColumnKind::id)
            if (const vaelet::CsvColumn* col = table.find(c.name)) {
                vaelet::CsvColumn key = *col;
                key.kind = vaelet::ColumnKind::id;
                keys.columns.push_back(std::move(key));
            }
    if (keys.columns.empty()) {
        vaelet::CsvColumn row;
        row.name = "row";
        row.kind = vaelet::ColumnKind::numeric;
        for (vaelet::Index i = 1; i <= table.rows(); ++i) row.numbers.push_back(double(i));
        keys.columns.push_back(std::move(row));
    }
    return keys;
}

/// A numeric output column.
inline vaelet::CsvColumn number_column(std::string name, std::vector<double> numbers) {
    vaelet::CsvColumn c;
    c.name = std::move(name);
    c.kind = vaelet::ColumnKind::numeric;
    c.numbers = std::move(numbers);
    return c;
}

/// `v` to `digits` significant digits, so a CSV shows a float as a float ("0.1234568", not 0.123456791043282).
inline double significant(double v, int digits) {
    char text[40];
    std::snprintf(text, sizeof text, "%.*g", digits, v);
    return std::strtod(text, nullptr);
}

}  // namespace tabular
