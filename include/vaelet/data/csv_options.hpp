/// \file
/// vaelet/data/csv_options.hpp — how read_csv (data/csv_reader.hpp) reads a file: the kinds of columns declared by
/// name (the others are inferred: data/column_inference.hpp), whether to detect id columns, and the limits.
///
///     vaelet::CsvOptions options;
///     options.declare("zip", vaelet::ColumnKind::categorical).ignore("segment");   // digits, yet categories
///     vaelet::CsvTable customers = vaelet::read_csv("customers.csv", options);
///
/// Limits, checked while reading: 2 GiB per file, 1 MiB per row, 1000 levels per categorical column (more is
/// almost always an identifier or free text). All three are options.
#pragma once

#include "vaelet/data/table.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace vaelet {

/// Options for read_csv: declared kinds, id detection and limits.
struct CsvOptions {
    std::map<std::string, ColumnKind> kinds;  ///< declared kinds by column name; other columns are inferred
    bool detect_ids = true;                   ///< infer id columns by data/column_inference.hpp's rule
    std::size_t max_levels = 1000;            ///< most distinct values a categorical column may have
    std::uint64_t max_file_bytes = std::uint64_t(2) << 30;  ///< largest file read (2 GiB); a larger one is an io_error
    std::size_t max_row_bytes = std::size_t(1) << 20;       ///< longest row (1 MiB); a longer one is an io_error

    /// Gives column `name` the kind `kind` instead of inferring it; returns *this, so declarations chain. A
    /// declared column the file lacks is an io_error from read_csv.
    CsvOptions& declare(const std::string& name, ColumnKind kind) {
        kinds[name] = kind;
        return *this;
    }
    /// Declares column `name` ignored: kept in the table as text, never modelled; returns *this.
    CsvOptions& ignore(const std::string& name) { return declare(name, ColumnKind::ignored); }
};

}  // namespace vaelet
