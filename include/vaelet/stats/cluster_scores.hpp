/// \file
/// vaelet/stats/cluster_scores.hpp — how well a clustering matches known groups: the adjusted Rand index.
///
///     std::vector<vaelet::Index> found = vaelet::kmeans(z, 4, rng).labels;
///     std::vector<std::string> truth = table.column("segment").text;
///     double ari = vaelet::adjusted_rand_index(found, truth);   // 1 = the same partition, ≈ 0 = chance
///
/// ARI (Hubert & Arabie 1985, "Comparing partitions", J. Classification 2:193–218): with n_ij the contingency table
/// of the two labelings, a_i and b_j its row and column sums, and C(m) = m(m−1)/2 the pairs among m items,
///
///     ARI = (Σ C(n_ij) − E) / (½[Σ C(a_i) + Σ C(b_j)] − E),   E = Σ C(a_i) · Σ C(b_j) / C(n).
///
/// It ignores the label names (any values with < and ==, e.g. ints and strings) and their permutation, is 1 for
/// identical partitions, has expectation 0 under random labelings, and can be negative. When the denominator is 0
/// both labelings put everything in one group, or each item in its own — identical partitions — and the result is
/// 1, as scikit-learn does.
#pragma once

#include "vaelet/core/error.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// The adjusted Rand index (this header's formula) of two labelings of the same items, `a[i]` and `b[i]` the
/// labels of item i: 1 for the same partition, about 0 for chance. config_error when the sizes differ or there
/// are no items.
template <class A, class B>
double adjusted_rand_index(const std::vector<A>& a, const std::vector<B>& b) {
    if (a.size() != b.size())
        throw config_error("adjusted_rand_index: " + std::to_string(a.size()) + " labels against " +
                           std::to_string(b.size()) + "; give one label per item in both");
    if (a.empty()) throw config_error("adjusted_rand_index: no items");
    auto pairs = [](double m) { return m * (m - 1) / 2; };

    // Number each labeling's distinct labels, then count the (a, b) pairs.
    auto codes = [](const auto& labels) {
        std::map<typename std::decay_t<decltype(labels)>::value_type, std::size_t> code;
        std::vector<std::size_t> out;
        for (const auto& l : labels) out.push_back(code.emplace(l, code.size()).first->second);
        return std::make_pair(out, code.size());
    };
    const auto [ca, na] = codes(a);
    const auto [cb, nb] = codes(b);
    std::vector<double> row(na, 0), col(nb, 0);
    std::vector<std::pair<std::size_t, std::size_t>> cells;
    for (std::size_t i = 0; i < ca.size(); ++i) {
        ++row[ca[i]];
        ++col[cb[i]];
        cells.emplace_back(ca[i], cb[i]);
    }
    std::sort(cells.begin(), cells.end());
    double index = 0, sum_a = 0, sum_b = 0;
    for (std::size_t i = 0; i < cells.size();) {
        std::size_t j = i;
        while (j < cells.size() && cells[j] == cells[i]) ++j;
        index += pairs(double(j - i));
        i = j;
    }
    for (double r : row) sum_a += pairs(r);
    for (double c : col) sum_b += pairs(c);
    const double total = pairs(double(a.size()));
    const double expected = total > 0 ? sum_a * sum_b / total : 0;
    const double max_index = 0.5 * (sum_a + sum_b);
    if (max_index == expected) return 1.0;
    return (index - expected) / (max_index - expected);
}

}  // namespace vaelet
