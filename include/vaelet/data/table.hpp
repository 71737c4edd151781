/// \file
/// vaelet/data/table.hpp — a table of numbers and categories in memory: named columns in file order, each of a kind
/// (ColumnKind: numeric, categorical, id or ignored), as read_csv (data/csv_reader.hpp) gives it and write_csv
/// (data/csv_writer.hpp) writes it.
///
///     const vaelet::CsvColumn& spend = table.column("spend");          // config_error listing the columns if absent
///     std::vector<std::string> text = vaelet::column_text(spend);      // numbers in their shortest exact form
///     std::cout << table.describe();                                   // "spend: numeric (inferred: …)", one a line
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace vaelet {

/// What a column is to the model: modelled (numeric, categorical) or only carried along (id, ignored).
enum class ColumnKind {
    numeric,      ///< finite numbers; modelled
    categorical,  ///< a finite set of text values (levels); modelled
    id,           ///< one unique value per row (a customer number); carried into outputs, never modelled
    ignored,      ///< anything, missing values allowed; carried into outputs, never modelled
};

/// The kind's name as the encoder's saved state and messages spell it: "numeric", "categorical", "id" or "ignored".
inline const char* column_kind_name(ColumnKind k) {
    switch (k) {
        case ColumnKind::numeric: return "numeric";
        case ColumnKind::categorical: return "categorical";
        case ColumnKind::id: return "id";
        case ColumnKind::ignored: return "ignored";
    }
    return "?";
}

/// The kind that column_kind_name calls `name`; config_error for any other name.
inline ColumnKind parse_column_kind(const std::string& name) {
    for (ColumnKind k : {ColumnKind::numeric, ColumnKind::categorical, ColumnKind::id, ColumnKind::ignored})
        if (name == column_kind_name(k)) return k;
    throw config_error("unknown column kind '" + name + "'; use numeric, categorical, id or ignored");
}

/// True for the kinds the model sees.
inline bool is_modelled(ColumnKind k) { return k == ColumnKind::numeric || k == ColumnKind::categorical; }

/// One column of a table. Numeric columns hold `numbers`, every other kind holds `text` (as in the file).
struct CsvColumn {
    std::string name;                   ///< the column's name in the header
    ColumnKind kind = ColumnKind::numeric;  ///< declared or inferred; says which of numbers and text holds the values
    std::vector<double> numbers;        ///< a numeric column's values, one per row (empty for the other kinds)
    std::vector<std::string> text;      ///< every other kind's values as in the file, one per row
    std::string reason;  ///< how the kind was chosen, for a schema summary: "declared", "inferred: …", "detected: …"

    /// Values in the column: numbers' or text's, as its kind says.
    Index size() const { return static_cast<Index>(kind == ColumnKind::numeric ? numbers.size() : text.size()); }
};

/// A table read from (or to be written to) a CSV file: columns in file order, all of the same length.
struct CsvTable {
    std::vector<CsvColumn> columns;  ///< in file order; validate() checks that all have the same length

    /// Values per column (0 for a table without columns).
    Index rows() const { return columns.empty() ? 0 : columns.front().size(); }
    /// Number of columns, of every kind.
    Index cols() const { return static_cast<Index>(columns.size()); }

    /// The columns' names, in file order.
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        for (const auto& c : columns) out.push_back(c.name);
        return out;
    }

    /// The column called `name`, or nullptr.
    const CsvColumn* find(const std::string& name) const {
        for (const auto& c : columns)
            if (c.name == name) return &c;
        return nullptr;
    }

    /// The column called `name`; throws config_error listing the columns there are.
    const CsvColumn& column(const std::string& name) const {
        if (const CsvColumn* c = find(name)) return *c;
        throw config_error("table has no column '" + name + "' (columns: " + join(names()) + ")");
    }

    /// One line per column: "name: kind (reason)".
    std::string describe() const {
        std::string out;
        for (const auto& c : columns)
            out += c.name + ": " + column_kind_name(c.kind) + (c.reason.empty() ? "" : " (" + c.reason + ")") + "\n";
        return out;
    }

    /// Throws shape_error unless every column holds rows() values in the storage its kind uses.
    void validate() const {
        for (const auto& c : columns) {
            const bool numeric = c.kind == ColumnKind::numeric;
            if ((numeric && !c.text.empty()) || (!numeric && !c.numbers.empty()))
                throw shape_error("table column '" + c.name + "' is " + column_kind_name(c.kind) + " but holds " +
                                  (numeric ? "text" : "numbers") + "; numeric columns use `numbers`, the others `text`");
            if (c.size() != rows())
                throw shape_error("table column '" + c.name + "' has " + std::to_string(c.size()) + " values but '" +
                                  columns.front().name + "' has " + std::to_string(rows()) +
                                  "; every column needs one value per row");
        }
    }

    /// "a, b, c" for messages: at most `at_most` items, then ", … (N in all)" when there are more.
    static std::string join(const std::vector<std::string>& items, std::size_t at_most = 20) {
        std::string out;
        for (std::size_t i = 0; i < items.size() && i < at_most; ++i) out += (i ? ", " : "") + items[i];
        if (items.size() > at_most) out += ", … (" + std::to_string(items.size()) + " in all)";
        return out;
    }
};

namespace detail {

/// A whole number that a double holds exactly (|v| < 2⁵³): such a column may be an id, and decodes rounded.
inline bool csv_is_integer(double v) { return std::floor(v) == v && std::abs(v) < 9007199254740992.0; }

/// The shortest of %.15g / %.17g that reads back as exactly `v`.
inline std::string csv_format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

}  // namespace detail

/// The values of a column as text: its text, or its numbers in the shortest form that reads back exactly (as
/// write_csv writes them) — e.g. a column of true labels, whatever kind it was read as.
inline std::vector<std::string> column_text(const CsvColumn& c) {
    if (c.kind != ColumnKind::numeric) return c.text;
    std::vector<std::string> out;
    out.reserve(c.numbers.size());
    for (double v : c.numbers) out.push_back(detail::csv_format_number(v));
    return out;
}

}  // namespace vaelet
