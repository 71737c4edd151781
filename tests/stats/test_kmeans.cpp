// Tests for vaelet/stats/kmeans.hpp: well-separated blobs are found, a seed gives one answer, edge cases.
#include <doctest/doctest.h>

#include "vaelet/stats/cluster_scores.hpp"
#include "vaelet/stats/kmeans.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

using namespace vaelet;

namespace {

/// n points around each of the given 2-D centers, spread σ = 0.3; `truth` gets each point's blob.
template <class T>
Matrix<T> blobs(const std::vector<std::pair<double, double>>& centers, Index n, Rng& rng, std::vector<Index>& truth) {
    Matrix<T> x(Index(centers.size()) * n, 2);
    truth.clear();
    for (std::size_t c = 0; c < centers.size(); ++c)
        for (Index i = 0; i < n; ++i) {
            const Index r = Index(c) * n + i;
            x(r, 0) = T(centers[c].first + 0.3 * rng.normal());
            x(r, 1) = T(centers[c].second + 0.3 * rng.normal());
            truth.push_back(Index(c));
        }
    return x;
}

}  // namespace

TEST_CASE_TEMPLATE("k-means finds well-separated blobs, centers at their means", T, float, double) {
    Rng data(3);
    std::vector<Index> truth;
    const Matrix<T> x = blobs<T>({{0, 0}, {5, 0}, {0, 5}, {5, 5}}, 50, data, truth);
    Rng rng(1);
    const auto result = kmeans(x, 4, rng);
    CHECK(result.converged);
    CHECK(adjusted_rand_index(result.labels, truth) == doctest::Approx(1.0));
    REQUIRE(result.centers.rows() == 4);
    for (Index c = 0; c < 4; ++c) {  // each center is the mean of its points
        Eigen::RowVector2d sum(0, 0);
        int count = 0;
        for (Index i = 0; i < x.rows(); ++i)
            if (result.labels[std::size_t(i)] == c) {
                sum += x.row(i).template cast<double>();
                ++count;
            }
        CHECK((result.centers.row(c).template cast<double>() - sum / count).norm() < 1e-4);
    }
    double inertia = 0;
    for (Index i = 0; i < x.rows(); ++i)
        inertia += (x.row(i) - result.centers.row(result.labels[std::size_t(i)])).template cast<double>().squaredNorm();
    CHECK(result.inertia == doctest::Approx(inertia).epsilon(1e-4));
}

TEST_CASE("the same seed gives the same clustering, and restarts keep the lowest inertia") {
    Rng data(8);
    std::vector<Index> truth;
    const Matrix<double> x = blobs<double>({{0, 0}, {1.2, 0}, {0.6, 1}}, 40, data, truth);  // overlapping
    Rng a(42), b(42);
    const auto r1 = kmeans(x, 3, a), r2 = kmeans(x, 3, b);
    CHECK(r1.labels == r2.labels);
    CHECK(r1.centers == r2.centers);
    CHECK(r1.inertia == r2.inertia);
    KMeansOptions one;
    one.restarts = 1;
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {  // no single start beats the best of ten
        Rng s(seed);
        CHECK(kmeans(x, 3, s, one).inertia >= r1.inertia - 1e-9);
    }
}

TEST_CASE("k-means edge cases: k = 1, k = n, repeated rows, bad arguments") {
    Matrix<double> x(4, 1);
    x << 1, 2, 3, 6;
    Rng rng(1);
    const auto one = kmeans(x, 1, rng);
    CHECK(one.centers(0, 0) == doctest::Approx(3.0));
    CHECK(one.inertia == doctest::Approx(4 + 1 + 0 + 9));
    const auto all = kmeans(x, 4, rng);
    CHECK(all.inertia == 0);
    Matrix<double> same = Matrix<double>::Constant(5, 2, 1.0);  // fewer distinct rows than clusters
    const auto dup = kmeans(same, 3, rng);
    CHECK(dup.inertia == 0);
    CHECK(dup.converged);
    std::vector<int> used(3, 0);
    for (Index l : dup.labels) ++used[std::size_t(l)];
    CHECK(std::count(used.begin(), used.end(), 0) == 0);  // no cluster is left empty
    CHECK_THROWS_AS(kmeans(x, 0, rng), config_error);
    CHECK_THROWS_WITH_AS(kmeans(x, 5, rng), doctest::Contains("5 clusters need at least 5 rows"), config_error);
    x(2, 0) = std::nan("");
    CHECK_THROWS_AS(kmeans(x, 2, rng), numeric_error);
}
