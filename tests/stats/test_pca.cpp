// Tests for vaelet/stats/pca.hpp: rank-k data is reconstructed exactly, components are orthonormal and ordered.
#include <doctest/doctest.h>

#include "vaelet/core/random.hpp"
#include "vaelet/stats/pca.hpp"

#include <cmath>

using namespace vaelet;

TEST_CASE_TEMPLATE("PCA with k = rank reconstructs the data exactly, and explained variance is ordered", T, float, double) {
    Rng rng(4);
    Matrix<T> scores(60, 2), basis(2, 5);
    rng.fill_normal(scores);
    rng.fill_normal(basis);
    scores.col(0) *= T(3);  // the first direction carries more variance
    RowVector<T> offset(5);
    offset << T(1), T(-2), T(0.5), T(4), T(0);
    const Matrix<T> x = (scores * basis).rowwise() + offset;  // rank 2 plus a mean

    const Pca<T> pca(x, 2);
    CHECK(pca.k() == 2);
    CHECK(pca.dims() == 5);
    const Matrix<T> x_hat = pca.inverse_transform(pca.transform(x));
    const T tol = std::is_same<T, float>::value ? T(1e-3) : T(1e-9);
    CHECK((x_hat - x).cwiseAbs().maxCoeff() < tol);
    CHECK((pca.components() * pca.components().transpose() - Matrix<T>::Identity(2, 2)).cwiseAbs().maxCoeff() < tol);
    CHECK(pca.explained_variance()[0] >= pca.explained_variance()[1]);
    CHECK(pca.explained_variance_ratio()[0] + pca.explained_variance_ratio()[1] == doctest::Approx(1.0).epsilon(1e-4));
    CHECK((pca.mean() - x.colwise().mean()).cwiseAbs().maxCoeff() < tol);

    // The scores' variance (n − 1) along each component is its explained variance.
    const Matrix<T> z = pca.transform(x);
    for (Index c = 0; c < 2; ++c)
        CHECK(double(z.col(c).squaredNorm()) / 59 == doctest::Approx(pca.explained_variance()[std::size_t(c)]).epsilon(1e-4));

    const Pca<T> one(x, 1);  // a rank-1 fit loses exactly the second component's share
    const double lost = (one.inverse_transform(one.transform(x)) - x).template cast<double>().squaredNorm() / 59;
    CHECK(lost == doctest::Approx(pca.explained_variance()[1]).epsilon(1e-3));
}

TEST_CASE("PCA on a known 2-D set: the component is the diagonal, signs are fixed") {
    Matrix<double> x(4, 2);
    x << -2, -2, -1, -1, 1, 1, 2, 2;
    const Pca<double> pca(x, 1);
    CHECK(pca.components()(0, 0) == doctest::Approx(std::sqrt(0.5)));
    CHECK(pca.components()(0, 1) == doctest::Approx(std::sqrt(0.5)));
    CHECK(pca.explained_variance()[0] == doctest::Approx(20.0 / 3));  // Σ 2·v² / (n − 1) = 20/3
    CHECK(pca.explained_variance_ratio()[0] == doctest::Approx(1.0));
    CHECK(pca.transform(x)(3, 0) == doctest::Approx(2 * std::sqrt(2.0)));
    CHECK_THROWS_AS(Pca<double>(x, 3), config_error);
    CHECK_THROWS_AS(Pca<double>(x.topRows(1), 1), config_error);
    CHECK_THROWS_AS(pca.transform(Matrix<double>::Zero(2, 3)), shape_error);
    CHECK_THROWS_AS(pca.inverse_transform(Matrix<double>::Zero(2, 2)), shape_error);
}
