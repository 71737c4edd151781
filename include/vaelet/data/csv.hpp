// vaelet/data/csv.hpp — read and write tables of numbers and categories as CSV (RFC 4180).
//
//   vaelet::CsvOptions options;  options.ignore("segment");              // kept in the table, not modelled
//   vaelet::CsvTable customers = vaelet::read_csv("customers.csv", options);
//   vaelet::write_csv("copy.csv", customers);                           // same format, written atomically
//
// Format: a header row naming the columns, then one row per example, comma-separated. Fields may be quoted
// ("a, b", "say ""hi""", line breaks inside quotes); rows end in LF or CRLF; the last newline is optional; a UTF-8
// byte-order mark is skipped; blank lines are skipped. Unquoted fields are trimmed of spaces and tabs, quoted
// ones are kept exactly.
//
// Each column has a kind (ColumnKind): numeric, categorical, id or ignored. Declare kinds in CsvOptions or let
// the reader infer them:
//  * numeric when every value parses completely as a finite number, else categorical;
//  * id (identifier: carried into outputs, never modelled) when the column is not declared, its name looks like
//    an identifier — "id", "key", "uuid", "guid", or ending in "_id", "-id", " id", "_key", or camelCase "…Id" /
//    "…ID" as in customerId — and its values are all present and all different, and it is either not numeric or
//    holds only integers. A unique column with another name (e.g. "email") is not guessed: declare it.
//  * ignored only when declared: read and kept as text (missing values allowed) but never modelled — e.g. a
//    true label you want to compare against afterwards.
// Missing values — an empty field, or an unquoted NA, N/A, NaN or null in any letter case — are an error in
// numeric, categorical and id columns (vaelet does not impute); the error lists where they are. A quoted "NA" is
// the text NA. Rows are numbered as a spreadsheet shows them: the header is row 1, blank lines count.
//
// Limits, checked while reading: 2 GiB per file, 1 MiB per row, 1000 levels per categorical column (more is
// almost always an identifier or free text). All three are options.
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace vaelet {

enum class ColumnKind {
    numeric,      // finite numbers; modelled
    categorical,  // a finite set of text values (levels); modelled
    id,           // one unique value per row (a customer number); carried into outputs, never modelled
    ignored,      // anything, missing values allowed; carried into outputs, never modelled
};

inline const char* column_kind_name(ColumnKind k) {
    switch (k) {
        case ColumnKind::numeric: return "numeric";
        case ColumnKind::categorical: return "categorical";
        case ColumnKind::id: return "id";
        case ColumnKind::ignored: return "ignored";
    }
    return "?";
}

inline ColumnKind parse_column_kind(const std::string& name) {
    for (ColumnKind k : {ColumnKind::numeric, ColumnKind::categorical, ColumnKind::id, ColumnKind::ignored})
        if (name == column_kind_name(k)) return k;
    throw config_error("unknown column kind '" + name + "'; use numeric, categorical, id or ignored");
}

/// True for the kinds the model sees.
inline bool is_modelled(ColumnKind k) { return k == ColumnKind::numeric || k == ColumnKind::categorical; }

/// One column of a table. Numeric columns hold `numbers`, every other kind holds `text` (as in the file).
struct CsvColumn {
    std::string name;
    ColumnKind kind = ColumnKind::numeric;
    std::vector<double> numbers;
    std::vector<std::string> text;
    std::string reason;  // how the kind was chosen, for a schema summary: "declared", "inferred: …", "detected: …"

    Index size() const { return static_cast<Index>(kind == ColumnKind::numeric ? numbers.size() : text.size()); }
};

/// A table read from (or to be written to) a CSV file: columns in file order, all of the same length.
struct CsvTable {
    std::vector<CsvColumn> columns;

    Index rows() const { return columns.empty() ? 0 : columns.front().size(); }
    Index cols() const { return static_cast<Index>(columns.size()); }

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

    static std::string join(const std::vector<std::string>& items, std::size_t at_most = 20) {
        std::string out;
        for (std::size_t i = 0; i < items.size() && i < at_most; ++i) out += (i ? ", " : "") + items[i];
        if (items.size() > at_most) out += ", … (" + std::to_string(items.size()) + " in all)";
        return out;
    }
};

struct CsvOptions {
    std::map<std::string, ColumnKind> kinds;  // declared kinds by column name; other columns are inferred
    bool detect_ids = true;                   // infer id columns by the rule in the header comment
    std::size_t max_levels = 1000;            // most distinct values a categorical column may have
    std::uint64_t max_file_bytes = std::uint64_t(2) << 30;
    std::size_t max_row_bytes = std::size_t(1) << 20;

    CsvOptions& declare(const std::string& name, ColumnKind kind) {
        kinds[name] = kind;
        return *this;
    }
    CsvOptions& ignore(const std::string& name) { return declare(name, ColumnKind::ignored); }
};

namespace detail {

inline bool csv_space(char c) { return c == ' ' || c == '\t'; }

inline std::string csv_trim(const std::string& s) {
    std::size_t b = 0, e = s.size();
    while (b < e && csv_space(s[b])) ++b;
    while (e > b && csv_space(s[e - 1])) --e;
    return s.substr(b, e - b);
}

inline std::string csv_lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

/// NA, N/A, NaN or null in any case: what an unquoted field says when the value is missing.
inline bool csv_is_missing(const std::string& s) {
    const std::string l = csv_lower(s);
    return l == "na" || l == "n/a" || l == "nan" || l == "null";
}

/// Parses all of `s` (spaces around allowed) as a finite double.
inline bool csv_parse_number(const std::string& s, double& value) {
    const std::string t = csv_trim(s);
    if (t.empty()) return false;
    errno = 0;
    char* end = nullptr;
    value = std::strtod(t.c_str(), &end);
    return end == t.c_str() + t.size() && std::isfinite(value) && errno != ERANGE;
}

inline bool csv_is_integer(double v) { return std::floor(v) == v && std::abs(v) < 9007199254740992.0; }

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

/// Reads RFC-4180 records from a file through a buffer, enforcing the file and row limits.
class CsvRecordReader {
public:
    CsvRecordReader(std::string name, const CsvOptions& options) : name_(std::move(name)), options_(options) {
        namespace fs = std::filesystem;
        std::error_code ec;
        const auto status = fs::status(name_, ec);
        if (status.type() == fs::file_type::not_found) fail("no such file");
        if (fs::is_directory(status)) fail("is a directory, not a CSV file");
        if (fs::is_regular_file(status)) {
            const std::uint64_t size = fs::file_size(name_, ec);
            if (!ec && size > options_.max_file_bytes) fail_too_big(size);
        }
        file_.reset(std::fopen(name_.c_str(), "rb"));
        if (!file_) fail(std::string("cannot open (") + std::strerror(errno) + ")");
        if (peek() == 0xEF) {  // a UTF-8 byte-order mark, as spreadsheet programs write
            const std::size_t at = pos_;
            if (get() != 0xEF || get() != 0xBB || get() != 0xBF) pos_ = at;
        }
    }

    /// Column names for messages about later rows.
    void set_names(const std::vector<std::string>& names) { names_ = names; }

    /// Reads the next non-blank record into `fields`; false at the end of the file. `quoted[i]` says whether
    /// field i was quoted.
    bool next(std::vector<std::string>& fields, std::vector<bool>& quoted) {
        for (;;) {
            if (peek() == eof) return false;
            read_record(fields, quoted);
            if (!(fields.size() == 1 && fields[0].empty() && !quoted[0])) return true;  // skip blank lines
        }
    }

    /// The spreadsheet row of the last record (the first record is row 1).
    std::size_t row() const { return row_; }
    const std::string& name() const { return name_; }

    [[noreturn]] void fail(const std::string& what) const { throw io_error(name_ + ": " + what); }

    std::string column_name(std::size_t i) const {
        return "column " + std::to_string(i + 1) + (i < names_.size() ? " ('" + names_[i] + "')" : "");
    }

private:
    static constexpr int eof = -1;

    int peek() {
        if (pos_ == end_ && !refill()) return eof;
        return static_cast<unsigned char>(buffer_[pos_]);
    }
    int get() {
        const int c = peek();
        if (c != eof) ++pos_;
        return c;
    }
    bool refill() {
        end_ = std::fread(buffer_.get(), 1, buffer_size, file_.get());
        pos_ = 0;
        if (end_ == 0 && std::ferror(file_.get())) fail(std::string("read error (") + std::strerror(errno) + ")");
        total_ += end_;
        if (total_ > options_.max_file_bytes) fail_too_big(total_);
        return end_ > 0;
    }

    [[noreturn]] void fail_too_big(std::uint64_t size) const {
        fail("is " + std::to_string(size) + " bytes or more, over the limit of " +
             std::to_string(options_.max_file_bytes) + " bytes for one CSV file; take a sample (e.g. `head -n "
             "100001 file.csv > sample.csv`) or split it");
    }

    void read_record(std::vector<std::string>& fields, std::vector<bool>& quoted) {
        fields.assign(1, std::string());
        quoted.assign(1, false);
        ++row_;
        const std::size_t first_line = line_;
        std::size_t bytes = 0;
        bool in_quotes = false, after_quote = false;
        for (;;) {
            const int c = get();
            if (c != eof && ++bytes > options_.max_row_bytes)
                fail("row " + std::to_string(row_) + " is longer than " + std::to_string(options_.max_row_bytes) +
                     " bytes, the limit for one row; this is not a table of numbers and categories, or a quoted "
                     "field is never closed (line " + std::to_string(first_line) + ")");
            std::string& field = fields.back();
            if (in_quotes) {
                if (c == eof)
                    fail("row " + std::to_string(row_) + ", " + column_name(fields.size() - 1) +
                         ": a quoted field opened on line " + std::to_string(first_line) +
                         " is never closed; add the closing quote, and double any quote inside it (\"\")");
                if (c == '"') {
                    if (peek() == '"') {
                        get();
                        ++bytes;
                        field += '"';
                    } else {
                        in_quotes = false;
                        after_quote = true;
                    }
                } else {
                    if (c == '\n') ++line_;
                    field += static_cast<char>(c);
                }
                continue;
            }
            if (c == eof || c == '\n' || c == '\r' || c == ',') {
                if (!quoted.back()) field = csv_trim(field);
                if (c == ',') {
                    fields.emplace_back();
                    quoted.push_back(false);
                    after_quote = false;
                    continue;
                }
                if (c == '\r' && peek() == '\n') get();
                if (c != eof) ++line_;
                return;
            }
            if (c == '"') {
                if (after_quote || !csv_trim(field).empty())
                    fail("row " + std::to_string(row_) + ", " + column_name(fields.size() - 1) +
                         ": a quote inside an unquoted field; quote the whole field and double the quote inside "
                         "(\"say \"\"hi\"\"\")");
                field.clear();
                in_quotes = true;
                quoted.back() = true;
                continue;
            }
            if (after_quote) {
                if (csv_space(static_cast<char>(c))) continue;
                fail("row " + std::to_string(row_) + ", " + column_name(fields.size() - 1) +
                     ": text after the closing quote; a quoted field must end at its closing quote");
            }
            field += static_cast<char>(c);
        }
    }

    static constexpr std::size_t buffer_size = std::size_t(1) << 16;
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };

    std::string name_;
    const CsvOptions& options_;
    std::unique_ptr<std::FILE, Closer> file_;
    std::unique_ptr<char[]> buffer_{new char[buffer_size]};
    std::size_t pos_ = 0, end_ = 0;
    std::uint64_t total_ = 0;
    std::size_t row_ = 0, line_ = 1;
    std::vector<std::string> names_;
};

/// "12 values … : row 3 column 'a', row 5 column 'b', … and 9 more"
inline std::string csv_list_cells(const std::vector<std::pair<std::size_t, std::string>>& cells, std::size_t shown = 5) {
    std::string out;
    for (std::size_t i = 0; i < cells.size() && i < shown; ++i)
        out += (i ? ", " : "") + csv_cell_name(cells[i].first, cells[i].second);
    if (cells.size() > shown) out += " and " + std::to_string(cells.size() - shown) + " more";
    return out;
}

/// Decides a column's kind (declared, or inferred by the documented rules) and fills its storage from `raw`,
/// whose missing cells are empty strings (ignored columns keep their text). Missing cells go to `missing`.
inline void finish_column(CsvColumn& col, std::vector<std::string>& raw, const std::vector<std::size_t>& rows,
                          bool declared, const CsvOptions& options, const CsvRecordReader& in,
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
        in.fail(std::to_string(not_numbers.size()) + " value" + (not_numbers.size() == 1 ? "" : "s") +
                " in column '" + col.name + "', declared numeric, " + (not_numbers.size() == 1 ? "is" : "are") +
                " not a number: " + csv_list_cells(not_numbers) + " (e.g. '" + example +
                "'); fix them, or declare the column categorical");

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
                in.fail("column '" + col.name + "' is an id column but the value '" + raw[i] + "' appears in row " +
                        std::to_string(it->second) + " and row " + std::to_string(rows[i]) +
                        "; ids must be unique — fix the data, or declare the column categorical or ignored");
        }
    }
    if (col.kind == ColumnKind::categorical) {
        std::unordered_set<std::string> levels;
        for (const auto& v : raw)
            if (!v.empty() && levels.insert(v).second && levels.size() > options.max_levels)
                in.fail("column '" + col.name + "' has more than " + std::to_string(options.max_levels) +
                        " distinct values, too many for a categorical column: it is probably an identifier or free "
                        "text — declare it id (if unique) or ignored, or raise max_levels");
        if (!declared && levels.size() == raw.size() && raw.size() >= 20)
            col.reason += "; every value is different — if it names the row, declare it id";
    }
    col.text = std::move(raw);
}

}  // namespace detail

/// Reads a CSV file into a table. Throws io_error naming the file, the row and the column, and what to change.
inline CsvTable read_csv(const std::filesystem::path& path, const CsvOptions& options = {}) {
    detail::CsvRecordReader in(path.string(), options);
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
        detail::finish_column(table.columns[j], raw[j], rows, declared[j], options, in, missing);
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
    detail::CsvRecordReader in(path.string(), options);
    std::vector<std::string> fields;
    std::vector<bool> quoted;
    if (!in.next(fields, quoted)) return {};
    return fields;
}

namespace detail {

/// The shortest of %.15g / %.17g that reads back as exactly `v`.
inline std::string csv_format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

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

/// The values of a column as text: its text, or its numbers in the shortest form that reads back exactly (as
/// write_csv writes them) — e.g. a column of true labels, whatever kind it was read as.
inline std::vector<std::string> column_text(const CsvColumn& c) {
    if (c.kind != ColumnKind::numeric) return c.text;
    std::vector<std::string> out;
    out.reserve(c.numbers.size());
    for (double v : c.numbers) out.push_back(detail::csv_format_number(v));
    return out;
}

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
