/// \file
/// vaelet/stats/roc.hpp — how well a score ranks positives above negatives: the ROC curve and its area (AUROC).
///
///     std::vector<double> score = per_row_reconstruction_error;          // higher = more anomalous
///     std::vector<bool> outlier = …;                                    // the known positives
///     double auc = vaelet::auroc(score, outlier);                       // 1 = perfect, 0.5 = chance
///
/// AUROC is the probability that a random positive scores higher than a random negative, ties counting one half.
/// It is computed from ranks (the Mann–Whitney U statistic): with tied scores given the average of their ranks,
/// AUROC = (R₊ − n₊(n₊+1)/2) / (n₊ n₋), R₊ the rank sum of the positives. Needs at least one positive and one
/// negative, and no NaN score.
#pragma once

#include "vaelet/core/error.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

namespace vaelet {

/// One point of a ROC curve: calling "positive" every score ≥ threshold gives these rates.
struct RocPoint {
    double threshold;            ///< a score of the data (+∞ for the first point)
    double false_positive_rate;  ///< the share of negatives scoring ≥ threshold
    double true_positive_rate;   ///< the share of positives scoring ≥ threshold
};

namespace detail {

/// Checks the inputs and returns the positions ordered by descending score; counts positives and negatives.
template <class Scores, class Labels>
std::vector<std::size_t> roc_order(const char* what, const Scores& scores, const Labels& positive, double& n_pos,
                                   double& n_neg) {
    const std::size_t n = scores.size();
    if (positive.size() != n)
        throw config_error(std::string(what) + ": " + std::to_string(n) + " scores but " +
                           std::to_string(positive.size()) + " labels; give one label per score");
    n_pos = n_neg = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (std::isnan(double(scores[i])))
            throw numeric_error(std::string(what) + ": score " + std::to_string(i) + " is NaN");
        (positive[i] ? n_pos : n_neg) += 1;
    }
    if (n_pos == 0 || n_neg == 0)
        throw config_error(std::string(what) + ": needs both positives and negatives, got " +
                           std::to_string(std::size_t(n_pos)) + " positives and " + std::to_string(std::size_t(n_neg)) +
                           " negatives; the area under the ROC curve is undefined otherwise");
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return double(scores[a]) > double(scores[b]); });
    return order;
}

}  // namespace detail

/// The area under the ROC curve of `scores` (higher means "more positive") against the truth `positive`
/// (anything indexable whose entries convert to bool). Scores and labels: any containers with size() and [].
template <class Scores, class Labels>
double auroc(const Scores& scores, const Labels& positive) {
    double n_pos = 0, n_neg = 0;
    const auto order = detail::roc_order("auroc", scores, positive, n_pos, n_neg);
    // Ranks ascending from 1 (lowest score); `order` is descending, so rank = n − position.
    const std::size_t n = order.size();
    double rank_sum = 0;
    for (std::size_t i = 0; i < n;) {
        std::size_t j = i;
        while (j < n && double(scores[order[j]]) == double(scores[order[i]])) ++j;
        const double average_rank = double(n) - (double(i) + double(j) - 1) / 2;  // positions i … j−1 tie
        for (std::size_t t = i; t < j; ++t)
            if (positive[order[t]]) rank_sum += average_rank;
        i = j;
    }
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg);
}

/// The ROC curve: (0, 0) at threshold +∞, then one point per distinct score, descending, ending at (1, 1).
template <class Scores, class Labels>
std::vector<RocPoint> roc_curve(const Scores& scores, const Labels& positive) {
    double n_pos = 0, n_neg = 0;
    const auto order = detail::roc_order("roc_curve", scores, positive, n_pos, n_neg);
    std::vector<RocPoint> curve{{std::numeric_limits<double>::infinity(), 0.0, 0.0}};
    double tp = 0, fp = 0;
    for (std::size_t i = 0; i < order.size();) {
        const double threshold = double(scores[order[i]]);
        for (; i < order.size() && double(scores[order[i]]) == threshold; ++i) (positive[order[i]] ? tp : fp) += 1;
        curve.push_back({threshold, fp / n_neg, tp / n_pos});
    }
    return curve;
}

}  // namespace vaelet
