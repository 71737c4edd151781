/// \file
/// vaelet/data/csv_records.hpp — the syntax of a CSV file (RFC 4180): records of text fields, read through a buffer
/// with limits on the bytes per file and per row. read_csv (data/csv_reader.hpp) reads with it, and write_csv
/// (data/csv_writer.hpp) quotes by its rules so that what it writes reads back the same.
///
///     vaelet::detail::CsvRecordReader in("t.csv", /*max_file_bytes=*/1 << 30, /*max_row_bytes=*/1 << 20);
///     std::vector<std::string> fields;  std::vector<bool> quoted;
///     while (in.next(fields, quoted)) { /* in.row(): the row as a spreadsheet numbers it */ }
///
/// Fields are comma-separated and may be quoted ("a, b", "say ""hi""", line breaks inside quotes); records end in
/// LF or CRLF; the last newline is optional; a UTF-8 byte-order mark is skipped; blank lines are skipped but
/// counted (the header is row 1). Unquoted fields are trimmed of spaces and tabs, quoted ones are kept exactly. An
/// unquoted NA, N/A, NaN or null, in any letter case, says that the value is missing; a quoted "NA" is the text NA.
#pragma once

#include "vaelet/core/error.hpp"

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace vaelet {

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

/// Reads RFC-4180 records from a file through a buffer, enforcing the limits of bytes per file and per row.
class CsvRecordReader {
public:
    CsvRecordReader(std::string name, std::uint64_t max_file_bytes, std::size_t max_row_bytes)
        : name_(std::move(name)), max_file_bytes_(max_file_bytes), max_row_bytes_(max_row_bytes) {
        namespace fs = std::filesystem;
        std::error_code ec;
        const auto status = fs::status(name_, ec);
        if (status.type() == fs::file_type::not_found) fail("no such file");
        if (fs::is_directory(status)) fail("is a directory, not a CSV file");
        if (fs::is_regular_file(status)) {
            const std::uint64_t size = fs::file_size(name_, ec);
            if (!ec && size > max_file_bytes_) fail_too_big(size);
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
        if (total_ > max_file_bytes_) fail_too_big(total_);
        return end_ > 0;
    }

    [[noreturn]] void fail_too_big(std::uint64_t size) const {
        fail("is " + std::to_string(size) + " bytes or more, over the limit of " +
             std::to_string(max_file_bytes_) + " bytes for one CSV file; take a sample (e.g. `head -n "
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
            if (c != eof && ++bytes > max_row_bytes_)
                fail("row " + std::to_string(row_) + " is longer than " + std::to_string(max_row_bytes_) +
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
    std::uint64_t max_file_bytes_;
    std::size_t max_row_bytes_;
    std::unique_ptr<std::FILE, Closer> file_;
    std::unique_ptr<char[]> buffer_{new char[buffer_size]};
    std::size_t pos_ = 0, end_ = 0;
    std::uint64_t total_ = 0;
    std::size_t row_ = 0, line_ = 1;
    std::vector<std::string> names_;
};

}  // namespace detail

}  // namespace vaelet
