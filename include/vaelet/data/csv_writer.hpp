/// \file
/// vaelet/data/csv_writer.hpp — write a table (data/table.hpp) as a CSV file that read_csv reads back the same.
///
///     vaelet::CsvTable customers = vaelet::read_csv("customers.csv");
///     vaelet::write_csv("copy.csv", customers);           // through copy.csv.tmp and a rename (core/atomic_file.hpp)
///
/// A header row, then one row per example, LF line ends. Fields are quoted where data/csv_records.hpp's rules
/// would otherwise read them differently; numbers are written in the shortest form that reads back exactly.
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/data/csv_records.hpp"
#include "vaelet/data/table.hpp"

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <string>

namespace vaelet {

namespace detail {

/// `s` as a CSV field: quoted (quotes doubled) when it holds a comma, quote or line break, has spaces at either
/// end, or would otherwise read back as a missing value.
inline std::string csv_field(const std::string& s) {
    const bool quote = s.find_first_of(",\"\r\n") != std::string::npos ||
                       (!s.empty() && (csv_space(s.front()) || csv_space(s.back()))) || csv_is_missing(s);
    if (!quote) return s;
    std::string out = "\"";
    for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

}  // namespace detail

/// Writes `table` as CSV (header, then rows, LF line ends) through `path.tmp` and a rename. Text that needs it
/// is quoted; numbers are written in the shortest form that reads back exactly. An empty text value is written
/// as an empty field, which reads back as missing. Throws numeric_error for a non-finite number.
inline void write_csv(const std::filesystem::path& path, const CsvTable& table) {
    table.validate();
    if (table.columns.empty()) throw config_error("write_csv " + path.string() + ": the table has no columns");
    AtomicWriter out(path.string());
    std::string line;
    for (std::size_t j = 0; j < table.columns.size(); ++j) line += (j ? "," : "") + detail::csv_field(table.columns[j].name);
    out.write(line + "\n");
    for (Index i = 0; i < table.rows(); ++i) {
        line.clear();
        for (std::size_t j = 0; j < table.columns.size(); ++j) {
            const CsvColumn& c = table.columns[j];
            if (j) line += ',';
            const auto r = static_cast<std::size_t>(i);
            if (c.kind != ColumnKind::numeric) {
                line += detail::csv_field(c.text[r]);
            } else if (std::isfinite(c.numbers[r])) {
                line += detail::csv_format_number(c.numbers[r]);
            } else {
                throw numeric_error("write_csv " + path.string() + ": column '" + c.name + "', data row " +
                                    std::to_string(i + 1) + " is " + detail::csv_format_number(c.numbers[r]) +
                                    "; only finite numbers can be written");
            }
        }
        out.write(line + "\n");
    }
    out.commit();
}

}  // namespace vaelet
