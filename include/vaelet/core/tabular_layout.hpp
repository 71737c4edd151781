/// \file
/// vaelet/core/tabular_layout.hpp — the column layout of an encoded table: how many standardized numbers come
/// first, then how many categories each one-hot block has. The tabular encoder (data/tabular.hpp) produces this
/// layout and the tabular likelihood (vae/likelihood.hpp) models it; it sits below both so neither knows the other.
///
///     vaelet::TabularLayout layout{3, {4, 2}};   // 3 numbers, then categoricals of 4 and 2 categories
///     layout.width();                            // 9 columns
///     layout.validate();                         // throws config_error for a block of 0 categories or no columns
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <numeric>
#include <string>
#include <vector>

namespace vaelet {

/// The columns of an encoded table: `numeric` numbers first, then one one-hot block per categorical column, of
/// the given sizes (categories per column).
struct TabularLayout {
    Index numeric = 0;                    ///< standardized numeric columns, first
    std::vector<Index> categorical_sizes; ///< categories of each one-hot block, in column order

    /// The number of columns: numeric + Σ block sizes.
    Index width() const {
        return std::accumulate(categorical_sizes.begin(), categorical_sizes.end(), numeric);
    }

    /// Throws config_error unless the counts are sensible and there is at least one column.
    void validate() const {
        if (numeric < 0) throw config_error("tabular layout: numeric must be 0 or more, got " + std::to_string(numeric));
        for (std::size_t b = 0; b < categorical_sizes.size(); ++b)
            if (categorical_sizes[b] < 1)
                throw config_error("tabular layout: categorical block " + std::to_string(b) + " has " +
                                   std::to_string(categorical_sizes[b]) + " categories; each needs at least 1");
        if (width() == 0) throw config_error("tabular layout: no columns; a table needs a numeric or a categorical one");
    }

    /// Same numeric count and same blocks in the same order (e.g. a saved model's layout against the encoder's).
    bool operator==(const TabularLayout& o) const {
        return numeric == o.numeric && categorical_sizes == o.categorical_sizes;
    }
    /// Not operator==.
    bool operator!=(const TabularLayout& o) const { return !(*this == o); }
};

}  // namespace vaelet
