/// \file
/// vaelet/data/column_inference.hpp — how read_csv (data/csv_reader.hpp) turns a column of text into values: the
/// kind it gets when none is declared (CsvOptions), and the checks each kind's values must pass.
///
///     std::vector<std::pair<std::size_t, std::string>> missing;    // (row, column) of every missing value
///     for (std::size_t j = 0; j < n_cols; ++j)                     // read_csv, once the rows are read
///         detail::finish_column(table.columns[j], raw[j], rows, declared[j], options, in.name(), missing);
///
/// Inferred kinds:
///  * numeric when every value parses completely as a finite number, else categorical;
///  * id (identifier: carried into outputs, never modelled) when the column is not declared, its name looks like
///    an identifier — "id", "key", "uuid", "guid", or ending in "_id", "-id", " id", "_key", or camelCase "…Id" /
///    "…ID" as in customerId — and its values are all present and all different, and it is either not numeric or
///    holds only integers. A unique column with another name (e.g. "email") is not guessed: declare it.
///  * ignored only when declared: read and kept as text (missing values allowed) but never modelled — e.g. a
///    true label you want to compare against afterwards.
///
/// Checks: missing values are an error in numeric, categorical and id columns (vaelet does not impute); every
/// value of a column declared numeric must be a number; ids must be unique; a categorical column has at most
/// CsvOptions::max_levels levels.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/data/csv_options.hpp"
#include "vaelet/data/csv_records.hpp"
#include "vaelet/data/table.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace vaelet {

namespace detail {

/// Parses all of `s` (spaces around allowed) as a finite double.
inline bool csv_parse_number(const std::string& s, double& value) {
    const std::string t = csv_trim(s);
    if (t.empty()) return false;
    errno = 0;
    char* end = nullptr;
    value = std::strtod(t.c_str(), &end);
    return end == t.c_str() + t.size() && std::isfinite(value) && errno != ERANGE;
}

/// The identifier-name rule documented at the top of this file.
inline bool looks_like_id_name(const std::string& name) {
    const std::string l = csv_lower(name);
    for (const char* exact : {"id", "key", "uuid", "guid"})
        if (l == exact) return true;
    auto ends_with = [](const std::string& s, const std::string& tail) {
        return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
    };
    for (const char* tail : {"_id", "-id", " id", "_key"})
        if (ends_with(l, tail)) return true;
    if (name.size() > 2 && (ends_with(name, "Id") || ends_with(name, "ID")))
        return std::islower(static_cast<unsigned char>(name[name.size() - 3])) != 0;
    return false;
}

/// "row 4 column 'spend'"
inline std::string csv_cell_name(std::size_t row, const std::string& column) {
    return "row " + std::to_string(row) + " column '" + column + "'";
}

/// "12 values … : row 3 column 'a', row 5 column 'b', … and 9 more"
inline std::string csv_list_cells(const std::vector<std::pair<std::size_t, std::string>>& cells, std::size_t shown = 5) {
    std::string out;
    for (std::size_t i = 0; i < cells.size() && i < shown; ++i)
        out += (i ? ", " : "") + csv_cell_name(cells[i].first, cells[i].second);
    if (cells.size() > shown) out += " and " + std::to_string(cells.size() - shown) + " more";
    return out;
}

/// Decides a column's kind (declared, or inferred by the documented rules) and fills its storage from `raw`,
/// whose missing cells are empty strings (ignored columns keep their text). Missing cells go to `missing`;
/// `rows` are the spreadsheet rows of `raw`, `file` names the file in an io_error.
inline void finish_column(CsvColumn& col, std::vector<std::string>& raw, const std::vector<std::size_t>& rows,
                          bool declared, const CsvOptions& options, const std::string& file,
                          std::vector<std::pair<std::size_t, std::string>>& missing) {
    if (col.kind == ColumnKind::ignored) {
        col.text = std::move(raw);
        col.reason = "declared";
        return;
    }
    std::size_t n_missing = 0;
    for (std::size_t i = 0; i < raw.size(); ++i)
        if (raw[i].empty()) {
            missing.emplace_back(rows[i], col.name);
            ++n_missing;
        }

    std::vector<double> numbers(raw.size(), 0.0);
    bool all_numbers = n_missing < raw.size(), all_integers = true;
    const bool must_parse = declared && col.kind == ColumnKind::numeric;
    std::vector<std::pair<std::size_t, std::string>> not_numbers;
    std::string example;
    for (std::size_t i = 0; i < raw.size() && (all_numbers || must_parse); ++i) {
        if (raw[i].empty()) continue;
        if (!csv_parse_number(raw[i], numbers[i])) {
            all_numbers = false;
            if (example.empty()) example = raw[i];
            not_numbers.emplace_back(rows[i], col.name);
        } else if (!csv_is_integer(numbers[i])) {
            all_integers = false;
        }
    }
    if (must_parse && !not_numbers.empty())
        throw io_error(file + ": " + std::to_string(not_numbers.size()) + " value" +
                       (not_numbers.size() == 1 ? "" : "s") + " in column '" + col.name + "', declared numeric, " +
                       (not_numbers.size() == 1 ? "is" : "are") + " not a number: " + csv_list_cells(not_numbers) +
                       " (e.g. '" + example + "'); fix them, or declare the column categorical");

    if (!declared) {
        col.kind = all_numbers ? ColumnKind::numeric : ColumnKind::categorical;
        col.reason = all_numbers ? "inferred: every value is a number" : "inferred: not every value is a number";
        if (options.detect_ids && looks_like_id_name(col.name) && n_missing == 0 && (!all_numbers || all_integers)) {
            std::unordered_set<std::string> seen(raw.begin(), raw.end());
            if (seen.size() == raw.size()) {
                col.kind = ColumnKind::id;
                col.reason = "detected: the name looks like an identifier and all " + std::to_string(raw.size()) +
                             " values are different";
            } else if (all_numbers) {
                col.reason += "; the name looks like an identifier but values repeat, so it is modelled — declare "
                              "it categorical if it is a code, or ignored";
            }
        }
    } else {
        col.reason = "declared";
    }

    if (col.kind == ColumnKind::numeric) {
        col.numbers = std::move(numbers);
        raw.clear();
        raw.shrink_to_fit();
        return;
    }
    if (col.kind == ColumnKind::id) {
        std::unordered_map<std::string, std::size_t> first_row;
        for (std::size_t i = 0; i < raw.size(); ++i) {
            if (raw[i].empty()) continue;
            const auto [it, fresh] = first_row.emplace(raw[i], rows[i]);
            if (!fresh)
                throw io_error(file + ": column '" + col.name + "' is an id column but the value '" + raw[i] +
                               "' appears in row " + std::to_string(it->second) + " and row " +
                               std::to_string(rows[i]) + "; ids must be unique — fix the data, or declare the "
                               "column categorical or ignored");
        }
    }
    if (col.kind == ColumnKind::categorical) {
        std::unordered_set<std::string> levels;
        for (const auto& v : raw)
            if (!v.empty() && levels.insert(v).second && levels.size() > options.max_levels)
                throw io_error(file + ": column '" + col.name + "' has more than " +
                               std::to_string(options.max_levels) + " distinct values, too many for a categorical "
                               "column: it is probably an identifier or free text — declare it id (if unique) or "
                               "ignored, or raise max_levels");
        if (!declared && levels.size() == raw.size() && raw.size() >= 20)
            col.reason += "; every value is different — if it names the row, declare it id";
    }
    col.text = std::move(raw);
}

}  // namespace detail

}  // namespace vaelet
