/// \file
/// vaelet/data/tabular.hpp — turn a table of numbers and categories into a matrix a VAE can model, and back.
///
///     vaelet::TabularEncoder encoder(table);                         // fit: means, stds, category levels
///     vaelet::Matrix<float> x = encoder.encode<float>(table);         // rows × encoder.layout().width()
///     vaelet::CsvTable back = encoder.decode(vae.reconstruct(x), {});  // numbers and categories again
///
/// Encoded layout (TabularLayout, core/tabular_layout.hpp, which the tabular likelihood of vae/likelihood.hpp
/// takes): the numeric columns first, in table order, each standardized to (v − mean) / std with the population
/// std (a constant column has std 0 and gets std 1 instead, so it encodes as 0 — notes() names such columns); then,
/// for each categorical column in table order, a one-hot block over its levels sorted by byte value. Id and ignored
/// columns are set aside: encode skips them, decode copies them from a table you pass or, for ids, makes new ones
/// ("synthetic-000001", …).
///
/// The fitted state is plain data (TabularColumn: names, kinds, means, stds, levels), so a checkpoint can store
/// it; with nlohmann_json (VAELET_HAVE_JSON) to_json()/from_json() do it.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/core/tabular_layout.hpp"
#include "vaelet/data/csv_options.hpp"
#include "vaelet/data/table.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#ifdef VAELET_HAVE_JSON
#include <nlohmann/json.hpp>
#endif

namespace vaelet {

/// The fitted state of one column.
struct TabularColumn {
    std::string name;                 ///< the column's name in the fitted table
    ColumnKind kind = ColumnKind::numeric;  ///< its kind when fitting; numeric and categorical columns are encoded
    double mean = 0.0;                ///< numeric: the training mean …
    double std = 1.0;                 ///< … and standard deviation (1 for a constant column)
    bool integer = false;             ///< numeric: every training value was a whole number, so decode rounds
    std::vector<std::string> levels;  ///< categorical: the categories, sorted; block position = index here

    /// Field by field: a state read back from a checkpoint equals the one that was fitted.
    bool operator==(const TabularColumn& o) const {
        return name == o.name && kind == o.kind && mean == o.mean && std == o.std && integer == o.integer &&
               levels == o.levels;
    }
};

/// How decode() fills the columns the model does not produce, and how it picks categories.
struct TabularDecodeOptions {
    Rng* rng = nullptr;                     ///< set: draw each category from its probabilities; null: the most likely
    const CsvTable* carry = nullptr;        ///< set: copy id and ignored columns from this table (same rows)
    std::string id_prefix = "synthetic-";   ///< no carry: ids are id_prefix + 000001, 000002, …; ignored columns are left out
};

/// Fits the encoding of a table — numeric columns standardized, categorical ones one-hot — and applies it both
/// ways: encode() turns a table into a matrix a VAE models, decode() turns such a matrix (or a likelihood's mean)
/// back into a table. The file's comment gives the layout.
class TabularEncoder {
public:
    /// An encoder fitted on nothing: encode and decode throw config_error until a fitted one is assigned.
    TabularEncoder() = default;

    /// Fits on `table`: numeric columns' mean and std, categorical columns' levels. Needs at least one numeric or
    /// categorical column and one row.
    explicit TabularEncoder(const CsvTable& table) {
        table.validate();
        if (table.rows() == 0) throw config_error("tabular encoder: the table has no rows to fit on");
        for (const CsvColumn& c : table.columns) {
            TabularColumn t;
            t.name = c.name;
            t.kind = c.kind;
            if (c.kind == ColumnKind::numeric) {
                double sum = 0;
                for (double v : c.numbers) sum += v;
                t.mean = sum / double(c.numbers.size());
                double sq = 0;
                for (double v : c.numbers) sq += (v - t.mean) * (v - t.mean);
                t.std = std::sqrt(sq / double(c.numbers.size()));
                if (!(t.std > 0)) {  // constant: any scale works, 1 keeps the value as is
                    t.std = 1.0;
                    notes_.push_back("numeric column '" + c.name + "' is constant (" + detail::csv_format_number(t.mean) +
                                     "): it is encoded as 0 (std taken as 1) and tells the model nothing");
                }
                t.integer = std::all_of(c.numbers.begin(), c.numbers.end(), detail::csv_is_integer);
            } else if (c.kind == ColumnKind::categorical) {
                const std::set<std::string> levels(c.text.begin(), c.text.end());
                t.levels.assign(levels.begin(), levels.end());
                if (t.levels.size() == 1)
                    notes_.push_back("categorical column '" + c.name + "' has one value ('" + t.levels[0] +
                                     "'): it tells the model nothing");
            }
            columns_.push_back(std::move(t));
        }
        finish();
    }

    /// Restores a fitted encoder from its state (e.g. read back from a checkpoint); throws config_error naming
    /// the column if the state is inconsistent.
    explicit TabularEncoder(std::vector<TabularColumn> columns) : columns_(std::move(columns)) { finish(); }

    /// Every column of the fitted table, in table order, with its fitted state.
    const std::vector<TabularColumn>& columns() const { return columns_; }
    /// The encoded columns' layout: the numeric columns, then one block per categorical column (as the tabular
    /// likelihood takes it).
    const TabularLayout& layout() const { return layout_; }
    /// Columns of an encoded matrix: one per numeric column plus one per level of each categorical column.
    Index width() const { return layout_.width(); }

    /// Options that make read_csv give every column the kind it had when fitting: read new files with them, so
    /// that (say) a categorical column of digits is not inferred numeric.
    CsvOptions csv_options() const {
        CsvOptions options;
        for (const auto& c : columns_) options.declare(c.name, c.kind);
        options.detect_ids = false;
        return options;
    }

    /// What a user should know about the fit (constant columns), one sentence each; empty after a restore.
    const std::vector<std::string>& notes() const { return notes_; }

    /// A name for each encoded column: "spend", …, then "region=north", … — for reports and plots.
    std::vector<std::string> feature_names() const {
        std::vector<std::string> names;
        for (const auto& c : columns_)
            if (c.kind == ColumnKind::numeric) names.push_back(c.name);
        for (const auto& c : columns_)
            for (const auto& level : c.levels) names.push_back(c.name + "=" + level);
        return names;
    }

    /// The encoded rows × width() matrix of `table`, whose columns are found by name (order and extra columns do
    /// not matter). Throws io_error for a missing column, a column of another kind, or an unseen category.
    template <class T>
    Matrix<T> encode(const CsvTable& table) const {
        require_fitted("encode");
        table.validate();
        Matrix<T> x(table.rows(), width());
        Index num = 0, start = layout_.numeric;
        for (const auto& c : columns_) {
            if (!is_modelled(c.kind)) continue;
            const CsvColumn* col = table.find(c.name);
            if (!col)
                throw io_error("tabular encoder: the table has no column '" + c.name + "', which the encoder was "
                               "fitted with (columns: " + CsvTable::join(table.names()) + ")");
            if (col->kind != c.kind)
                throw io_error("tabular encoder: column '" + c.name + "' is " + column_kind_name(col->kind) +
                               " in this table but was " + column_kind_name(c.kind) + " when the encoder was "
                               "fitted; read the file with the encoder's csv_options()");
            if (c.kind == ColumnKind::numeric) {
                for (Index i = 0; i < x.rows(); ++i)
                    x(i, num) = T((col->numbers[std::size_t(i)] - c.mean) / c.std);
                ++num;
                continue;
            }
            const Index size = Index(c.levels.size());
            x.middleCols(start, size).setZero();
            for (Index i = 0; i < x.rows(); ++i) {
                const std::string& v = col->text[std::size_t(i)];
                const auto it = std::lower_bound(c.levels.begin(), c.levels.end(), v);
                if (it == c.levels.end() || *it != v)
                    throw io_error("tabular encoder: column '" + c.name + "', data row " + std::to_string(i + 1) +
                                   ": category '" + v + "' was not seen when the encoder was fitted (known: " +
                                   CsvTable::join(c.levels, 10) + "); map it to a known one or refit on data "
                                   "that has it");
                x(i, start + Index(it - c.levels.begin())) = T(1);
            }
            start += size;
        }
        return x;
    }

    /// The table that `x` (rows × width(): encoded data, or a likelihood mean with probabilities in each block)
    /// stands for: numbers de-standardized (rounded where the training values were whole numbers), each block
    /// turned into the most likely category or, with options.rng, a category drawn from it. Columns come in the
    /// fitted table's order with the same names and kinds; see TabularDecodeOptions for id and ignored columns.
    template <class T>
    CsvTable decode(const Matrix<T>& x, const TabularDecodeOptions& options = {}) const {
        require_fitted("decode");
        if (x.cols() != width())
            throw shape_error("tabular encoder: decode got " + shape_string(x) + " but the layout has " +
                              std::to_string(width()) + " columns");
        if (options.carry && options.carry->rows() != x.rows())
            throw shape_error("tabular encoder: decode of " + std::to_string(x.rows()) + " rows, but the table to "
                              "carry id and ignored columns from has " + std::to_string(options.carry->rows()));
        const std::size_t n = std::size_t(x.rows());
        CsvTable out;
        Index num = 0, start = layout_.numeric;
        for (const auto& c : columns_) {
            if (c.kind == ColumnKind::ignored && !options.carry) continue;
            CsvColumn col;
            col.name = c.name;
            col.kind = c.kind;
            col.reason = "decoded";
            if (c.kind == ColumnKind::numeric) {
                for (std::size_t i = 0; i < n; ++i) {
                    const double v = double(x(Index(i), num)) * c.std + c.mean;
                    col.numbers.push_back(c.integer ? std::round(v) : v);
                }
                ++num;
            } else if (c.kind == ColumnKind::categorical) {
                const Index size = Index(c.levels.size());
                for (std::size_t i = 0; i < n; ++i) {
                    const auto p = x.row(Index(i)).segment(start, size);
                    col.text.push_back(c.levels[std::size_t(options.rng ? draw(p, *options.rng, c.name) : argmax(p))]);
                }
                start += size;
            } else if (options.carry) {
                const CsvColumn& from = options.carry->column(c.name);
                if (from.kind == ColumnKind::numeric)
                    throw config_error("tabular encoder: decode carries column '" + c.name + "', which is numeric "
                                       "in the given table; it must be " + column_kind_name(c.kind));
                col.text = from.text;
            } else {
                const std::string last = std::to_string(n);
                const std::size_t digits = std::max<std::size_t>(6, last.size());
                for (std::size_t i = 1; i <= n; ++i) {
                    const std::string number = std::to_string(i);
                    col.text.push_back(options.id_prefix + std::string(digits - number.size(), '0') + number);
                }
                col.reason = "generated";
            }
            out.columns.push_back(std::move(col));
        }
        return out;
    }

#ifdef VAELET_HAVE_JSON
    /// {"format": "vaelet.tabular_encoder", "version": 1, "columns": [{"name", "kind", …}, …]}
    nlohmann::json to_json() const {
        nlohmann::json cols = nlohmann::json::array();
        for (const auto& c : columns_) {
            nlohmann::json j = {{"name", c.name}, {"kind", column_kind_name(c.kind)}};
            if (c.kind == ColumnKind::numeric) {
                j["mean"] = c.mean;
                j["std"] = c.std;
                j["integer"] = c.integer;
            }
            if (c.kind == ColumnKind::categorical) j["levels"] = c.levels;
            cols.push_back(std::move(j));
        }
        return {{"format", "vaelet.tabular_encoder"}, {"version", 1}, {"columns", std::move(cols)}};
    }

    /// The encoder that to_json() saved; throws config_error saying what is wrong with `j`.
    static TabularEncoder from_json(const nlohmann::json& j) {
        auto bad = [](const std::string& what) {
            return config_error("tabular encoder state: " + what + " — it was not written by to_json(), or it "
                                "was edited");
        };
        if (!j.is_object() || j.value("format", "") != "vaelet.tabular_encoder")
            throw bad("not an object with \"format\": \"vaelet.tabular_encoder\"");
        if (j.value("version", 0) != 1) throw bad("version " + j.value("version", nlohmann::json()).dump() +
                                                  " is not 1, the one this vaelet reads");
        if (!j.contains("columns") || !j["columns"].is_array()) throw bad("no \"columns\" array");
        std::vector<TabularColumn> columns;
        try {
            for (const auto& c : j["columns"]) {
                TabularColumn t;
                t.name = c.at("name").get<std::string>();
                t.kind = parse_column_kind(c.at("kind").get<std::string>());
                if (t.kind == ColumnKind::numeric) {
                    t.mean = c.at("mean").get<double>();
                    t.std = c.at("std").get<double>();
                    t.integer = c.at("integer").get<bool>();
                }
                if (t.kind == ColumnKind::categorical) t.levels = c.at("levels").get<std::vector<std::string>>();
                columns.push_back(std::move(t));
            }
        } catch (const nlohmann::json::exception& e) {
            throw bad(std::string("column ") + std::to_string(columns.size() + 1) + ": " + e.what());
        }
        return TabularEncoder(std::move(columns));
    }
#endif

private:
    /// Checks the state and derives the layout.
    void finish() {
        std::unordered_set<std::string> names;
        layout_ = TabularLayout{};
        for (const auto& c : columns_) {
            const std::string where = "tabular encoder: column '" + c.name + "'";
            if (c.name.empty()) throw config_error("tabular encoder: a column has no name");
            if (!names.insert(c.name).second) throw config_error(where + " appears twice");
            if (c.kind == ColumnKind::numeric) {
                if (!std::isfinite(c.mean) || !std::isfinite(c.std) || !(c.std > 0))
                    throw config_error(where + ": mean " + std::to_string(c.mean) + " and std " +
                                       std::to_string(c.std) + " must be finite, std positive");
                ++layout_.numeric;
            } else if (!c.levels.empty() || c.kind == ColumnKind::categorical) {
                if (c.kind != ColumnKind::categorical) throw config_error(where + " has levels but is not categorical");
                if (c.levels.empty()) throw config_error(where + " is categorical with no levels");
                for (std::size_t k = 1; k < c.levels.size(); ++k)
                    if (!(c.levels[k - 1] < c.levels[k]))
                        throw config_error(where + ": levels must be sorted and distinct, but '" + c.levels[k - 1] +
                                           "' comes before '" + c.levels[k] + "'");
            }
        }
        for (const auto& c : columns_)  // blocks after all numbers, in table order
            if (c.kind == ColumnKind::categorical) layout_.categorical_sizes.push_back(Index(c.levels.size()));
        if (layout_.width() == 0)
            throw config_error("tabular encoder: nothing to model — every column is an id or ignored");
    }

    void require_fitted(const char* what) const {
        if (columns_.empty())
            throw config_error(std::string("tabular encoder: ") + what + " before fitting; construct it from a table");
    }

    template <class Row>
    static Index argmax(const Row& p) {
        Index best = 0;
        p.maxCoeff(&best);
        return best;
    }

    /// A category drawn with probability p_k / Σ p (p need not be normalized).
    template <class Row>
    static Index draw(const Row& p, Rng& rng, const std::string& name) {
        const double total = double(p.sum());
        if (!(total > 0) || !std::isfinite(total) || (p.array() < 0).any())
            throw numeric_error("tabular encoder: the probabilities of column '" + name + "' are not a valid "
                                "distribution (sum " + std::to_string(total) + "); pass the likelihood's mean()");
        double u = rng.uniform() * total;
        for (Index k = 0; k + 1 < p.size(); ++k) {
            u -= double(p(k));
            if (u < 0) return k;
        }
        return p.size() - 1;
    }

    std::vector<TabularColumn> columns_;
    TabularLayout layout_;
    std::vector<std::string> notes_;
};

}  // namespace vaelet
