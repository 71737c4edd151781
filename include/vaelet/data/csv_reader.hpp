/// \file
/// vaelet/data/csv_reader.hpp — read a CSV file into a table (data/table.hpp), every column with its kind.
///
///     vaelet::CsvOptions options;  options.ignore("segment");              // kept in the table, not modelled
///     vaelet::CsvTable customers = vaelet::read_csv("customers.csv", options);
///     std::vector<std::string> names = vaelet::read_csv_header("customers.csv");   // the header row alone
///
/// A file is a header row naming the columns (every name given and unique; not all numbers, which would be data),
/// then one row per example with one field per column. The syntax is data/csv_records.hpp's; kinds are declared in
/// CsvOptions (data/csv_options.hpp, also the limits) or inferred as data/column_inference.hpp says. Missing values
/// — an empty field, or an unquoted NA, N/A, NaN or null — are an error in numeric, categorical and id columns,
/// listed all at once by row and column. Rows are numbered as a spreadsheet shows them: the header is row 1, blank
/// lines count.
#pragma once

#include "vaelet/data/column_inference.hpp"
#include "vaelet/data/csv_options.hpp"
#include "vaelet/data/csv_records.hpp"
#include "vaelet/data/table.hpp"

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vaelet {

/// Reads a CSV file into a table. Throws io_error naming the file, the row and the column, and what to change.
inline CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
    detail::CsvRecordReader in(path.string(), options.max_file_bytes, options.max_row_bytes);
    std::vector<std::string> fields;
    std::vector<bool> quoted;
    if (!in.next(fields, quoted))
        in.fail("the file is empty; a CSV table needs a header row naming the columns, then one row per example");

    CsvTable table;
    table.columns.resize(fields.size());
    std::unordered_map<std::string, std::size_t> where;
    bool header_all_numbers = true;
    for (std::size_t j = 0; j < fields.size(); ++j) {
        double unused = 0;
        header_all_numbers = header_all_numbers && detail::csv_parse_number(fields[j], unused);
        if (fields[j].empty())
            in.fail("the header (row " + std::to_string(in.row()) + ") has no name for column " +
                    std::to_string(j + 1) + "; every column needs a name");
        const auto [it, fresh] = where.emplace(fields[j], j);
        if (!fresh)
            in.fail("the header (row " + std::to_string(in.row()) + ") names two columns '" + fields[j] +
                    "' (columns " + std::to_string(it->second + 1) + " and " + std::to_string(j + 1) +
                    "); rename one so every name is unique");
        table.columns[j].name = fields[j];
    }
    if (header_all_numbers)
        in.fail("the first row (" + CsvTable::join(fields, 5) + ") looks like data, not column names; add a header "
                "row naming the columns");
    for (const auto& [name, kind] : options.kinds)
        if (!where.count(name))
            in.fail("column '" + name + "' is declared " + column_kind_name(kind) +
                    " but the header has no such column (columns: " + CsvTable::join(table.names()) + ")");
    in.set_names(table.names());

    const std::size_t n_cols = fields.size();
    std::vector<bool> declared(n_cols, false);
    for (std::size_t j = 0; j < n_cols; ++j) {
        const auto k = options.kinds.find(table.columns[j].name);
        declared[j] = k != options.kinds.end();
        if (declared[j]) table.columns[j].kind = k->second;
    }

    std::vector<std::vector<std::string>> raw(n_cols);
    std::vector<std::size_t> rows;  // the spreadsheet row of each data row
    while (in.next(fields, quoted)) {
        if (fields.size() != n_cols)
            in.fail("row " + std::to_string(in.row()) + " has " + std::to_string(fields.size()) +
                    (fields.size() == 1 ? " field" : " fields") + " but the header has " + std::to_string(n_cols) + " (" + CsvTable::join(table.names()) +
                    "); every row needs one value per column — is there an unquoted comma in a value (quote it: "
                    "\"a, b\") or a missing or extra field?");
        rows.push_back(in.row());
        for (std::size_t j = 0; j < n_cols; ++j) {
            std::string& v = fields[j];
            if (table.columns[j].kind != ColumnKind::ignored && !quoted[j] && detail::csv_is_missing(v)) v.clear();
            raw[j].push_back(std::move(v));
        }
    }
    if (rows.empty())
        in.fail("has a header (" + CsvTable::join(table.names()) + ") but no data rows; add at least one row");

    std::vector<std::pair<std::size_t, std::string>> missing;
    for (std::size_t j = 0; j < n_cols; ++j)
        detail::finish_column(table.columns[j], raw[j], rows, declared[j], options, in.name(), missing);
    if (!missing.empty()) {
        std::sort(missing.begin(), missing.end(), [&](const auto& a, const auto& b) {
            return a.first != b.first ? a.first < b.first : where.at(a.second) < where.at(b.second);
        });
        in.fail(std::to_string(missing.size()) + " missing value" + (missing.size() == 1 ? "" : "s") +
                " (empty, NA, N/A, NaN or null): " + detail::csv_list_cells(missing) +
                "; vaelet does not impute — fill them in, drop those rows, or declare the column ignored");
    }
    return table;
}

/// The column names in the header row of a CSV file, as read_csv reads them; empty for an empty file. Lets a
/// program check for the columns it needs before it reads (and validates) the whole table.
inline std::vector<std::string> read_csv_header(const std::filesystem::path& path, const CsvOptions& options = {}) {
    detail::CsvRecordReader in(path.string(), options.max_file_bytes, options.max_row_bytes);
    std::vector<std::string> fields;
    std::vector<bool> quoted;
    if (!in.next(fields, quoted)) return {};
    return fields;
}

}  // namespace vaelet
