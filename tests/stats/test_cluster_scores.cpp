// Tests for vaelet/stats/cluster_scores.hpp: the adjusted Rand index against hand-computed values.
#include <doctest/doctest.h>

#include "vaelet/stats/cluster_scores.hpp"
#include "vaelet/core/random.hpp"

#include <string>
#include <vector>

using namespace vaelet;

TEST_CASE("ARI is 1 for identical partitions whatever the label names") {
    const std::vector<int> a{0, 0, 1, 1, 2, 2, 2};
    const std::vector<std::string> b{"x", "x", "y", "y", "z", "z", "z"};
    CHECK(adjusted_rand_index(a, a) == doctest::Approx(1.0));
    CHECK(adjusted_rand_index(a, b) == doctest::Approx(1.0));
    const std::vector<int> permuted{5, 5, 3, 3, 9, 9, 9};
    CHECK(adjusted_rand_index(a, permuted) == doctest::Approx(1.0));
    // One group each, or each item alone in both: identical partitions, denominator 0, result 1.
    CHECK(adjusted_rand_index(std::vector<int>{1, 1, 1}, std::vector<int>{7, 7, 7}) == 1.0);
    CHECK(adjusted_rand_index(std::vector<int>{1, 2, 3}, std::vector<int>{3, 1, 2}) == 1.0);
}

TEST_CASE("ARI of small contingency tables equals the hand computation") {
    // [0,0,1,1] vs [0,0,1,2]: Σ C(n_ij) = 1, Σ C(a_i) = 2, Σ C(b_j) = 1, C(4) = 6, E = 1/3:
    // ARI = (1 − 1/3) / (3/2 − 1/3) = 4/7 (scikit-learn's documented 0.57).
    CHECK(adjusted_rand_index(std::vector<int>{0, 0, 1, 1}, std::vector<int>{0, 0, 1, 2}) ==
          doctest::Approx(4.0 / 7.0).epsilon(1e-12));
    // Hubert & Arabie's form on a 3×3 table with rows (5,1,0), (1,4,1), (0,1,5) over n = 18:
    // Σ C(n_ij) = 10+6+10 = 26, row and column sums all 6: Σ C = 3·15 = 45, C(18) = 153, E = 45·45/153.
    std::vector<int> a, b;
    const int table[3][3] = {{5, 1, 0}, {1, 4, 1}, {0, 1, 5}};
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < table[i][j]; ++k) {
                a.push_back(i);
                b.push_back(j);
            }
    const double e = 45.0 * 45.0 / 153.0;
    CHECK(adjusted_rand_index(a, b) == doctest::Approx((26 - e) / (45 - e)).epsilon(1e-12));
    // Worse than chance is negative: [0,0,1,1] vs [0,1,0,1] gives (0 − 1/3)/(1 − 1/3) = −1/2.
    CHECK(adjusted_rand_index(std::vector<int>{0, 0, 1, 1}, std::vector<int>{0, 1, 0, 1}) == doctest::Approx(-0.5));
}

TEST_CASE("ARI of independent random labelings is near 0, and mismatched sizes are refused") {
    Rng rng(9);
    std::vector<int> a, b;
    for (int i = 0; i < 20000; ++i) {
        a.push_back(int(rng.below(4)));
        b.push_back(int(rng.below(5)));
    }
    CHECK(std::abs(adjusted_rand_index(a, b)) < 0.01);
    CHECK_THROWS_AS(adjusted_rand_index(std::vector<int>{1, 2}, std::vector<int>{1}), config_error);
    CHECK_THROWS_AS(adjusted_rand_index(std::vector<int>{}, std::vector<int>{}), config_error);
}
