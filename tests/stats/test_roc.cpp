// Tests for vaelet/stats/roc.hpp: AUROC of known rankings, ties, and the curve.
#include <doctest/doctest.h>

#include "vaelet/core/matrix.hpp"
#include "vaelet/stats/roc.hpp"

#include <cmath>
#include <vector>

using namespace vaelet;

TEST_CASE("AUROC of known rankings") {
    const std::vector<bool> truth{false, false, true, true};
    CHECK(auroc(std::vector<double>{0.1, 0.2, 0.8, 0.9}, truth) == 1.0);
    CHECK(auroc(std::vector<double>{0.9, 0.8, 0.2, 0.1}, truth) == 0.0);
    // scikit-learn's example: scores 0.1, 0.4, 0.35, 0.8 for 0, 0, 1, 1 — 3 of 4 pairs in order.
    CHECK(auroc(std::vector<double>{0.1, 0.4, 0.35, 0.8}, truth) == doctest::Approx(0.75));
    // Labels as ints, scores as floats, or a column of a matrix (e.g. score_examples' n×1 neg_elbo).
    CHECK(auroc(std::vector<float>{3, 1, 2}, std::vector<int>{1, 0, 0}) == 1.0);
    Matrix<double> neg_elbo(3, 1);
    neg_elbo << 90, 120, 95;
    CHECK(auroc(neg_elbo.col(0), std::vector<bool>{false, true, false}) == 1.0);
}

TEST_CASE("ties count one half (average ranks, Mann-Whitney)") {
    // Every score equal: every pair is a tie, AUROC 1/2.
    CHECK(auroc(std::vector<double>{1, 1, 1, 1, 1}, std::vector<bool>{true, false, true, false, false}) == 0.5);
    // Positives 2 and 3, negatives 1, 2, 2: pairs in order (2>1), (3>1), (3>2), (3>2), ties (2,2) ×2 →
    // (4 + 2·½) / 6 = 5/6.
    CHECK(auroc(std::vector<double>{2, 3, 1, 2, 2}, std::vector<bool>{true, true, false, false, false}) ==
          doctest::Approx(5.0 / 6.0));
}

TEST_CASE("degenerate input is refused with a clear error") {
    CHECK_THROWS_WITH_AS(auroc(std::vector<double>{1, 2}, std::vector<bool>{true, true}),
                         doctest::Contains("2 positives and 0 negatives"), config_error);
    CHECK_THROWS_AS(auroc(std::vector<double>{1, 2}, std::vector<bool>{true}), config_error);
    CHECK_THROWS_AS(auroc(std::vector<double>{std::nan(""), 2}, std::vector<bool>{true, false}), numeric_error);
}

TEST_CASE("the ROC curve steps through the distinct scores and its trapezoids give the AUROC") {
    const std::vector<double> s{0.1, 0.4, 0.35, 0.8, 0.4};
    const std::vector<bool> y{false, false, true, true, true};
    const auto curve = roc_curve(s, y);
    REQUIRE(curve.size() == 5);  // +∞, 0.8, 0.4, 0.35, 0.1
    CHECK(std::isinf(curve[0].threshold));
    CHECK(curve[1].threshold == 0.8);
    CHECK(curve[1].true_positive_rate == doctest::Approx(1.0 / 3));
    CHECK(curve[2].false_positive_rate == doctest::Approx(0.5));
    CHECK(curve[2].true_positive_rate == doctest::Approx(2.0 / 3));
    CHECK(curve.back().false_positive_rate == 1.0);
    CHECK(curve.back().true_positive_rate == 1.0);
    double area = 0;
    for (std::size_t i = 1; i < curve.size(); ++i)
        area += (curve[i].false_positive_rate - curve[i - 1].false_positive_rate) *
                (curve[i].true_positive_rate + curve[i - 1].true_positive_rate) / 2;
    CHECK(area == doctest::Approx(auroc(s, y)));
}
