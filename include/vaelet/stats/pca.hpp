/// \file
/// vaelet/stats/pca.hpp — principal component analysis: the linear baseline a VAE is compared with.
///
///     vaelet::Pca<float> pca(train_x, 2);                   // fit 2 components
///     vaelet::Matrix<float> z = pca.transform(test_x);       // n × 2 scores
///     vaelet::Matrix<float> x_hat = pca.inverse_transform(z); // the best rank-2 reconstruction (plus the mean)
///
/// Fit: center the data, form the covariance Σ (x − μ)ᵀ(x − μ) / (n − 1) (in double, a block of rows at a time,
/// so the data are never copied whole), and take the eigenvectors of its k largest eigenvalues
/// (Eigen::SelfAdjointEigenSolver). Each component's sign is fixed so that its largest-magnitude entry is
/// positive, so a fit is reproducible. Explained variance is the eigenvalue (the variance along the component,
/// n − 1 in the denominator, as scikit-learn); its ratio is relative to the total variance (the trace).
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <string>
#include <vector>

namespace vaelet {

/// A PCA fit: the mean of the data and its k leading principal axes, to project rows onto them (transform) and
/// back (inverse_transform), as scikit-learn's PCA. Default-constructed it is empty (k() = 0) until assigned a fit.
template <class T>
class Pca {
public:
    Pca() = default;

    /// Fits k components on the rows of `x`: needs 2 or more rows, 1 ≤ k ≤ columns (config_error otherwise),
    /// finite values (numeric_error otherwise).
    Pca(const Matrix<T>& x, Index k) {
        const Index n = x.rows(), d = x.cols();
        if (n < 2) throw config_error("PCA: needs at least 2 rows to estimate a variance, got " + shape_string(x));
        if (k < 1 || k > d)
            throw config_error("PCA: k = " + std::to_string(k) + " components must be between 1 and the " +
                               std::to_string(d) + " columns");
        if (!x.allFinite()) throw numeric_error("PCA: the data " + shape_string(x) + " has NaN or infinite values");

        const Eigen::RowVectorXd mean = x.template cast<double>().colwise().mean();
        Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(d, d);
        constexpr Index block = 4096;
        for (Index start = 0; start < n; start += block) {
            const Index rows = std::min(block, n - start);
            const Eigen::MatrixXd centered = x.middleRows(start, rows).template cast<double>().rowwise() - mean;
            cov.selfadjointView<Eigen::Lower>().rankUpdate(centered.transpose());
        }
        cov = cov.selfadjointView<Eigen::Lower>();
        cov /= double(n - 1);

        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(cov);
        if (eig.info() != Eigen::Success) throw numeric_error("PCA: the eigen-decomposition did not converge");
        const double total = std::max(0.0, cov.trace());
        components_.resize(k, d);
        for (Index c = 0; c < k; ++c) {  // eigenvalues ascend: the largest are at the end
            Eigen::VectorXd v = eig.eigenvectors().col(d - 1 - c);
            Index at = 0;
            v.cwiseAbs().maxCoeff(&at);
            if (v(at) < 0) v = -v;
            components_.row(c) = v.transpose().template cast<T>();
            const double variance = std::max(0.0, eig.eigenvalues()(d - 1 - c));
            explained_variance_.push_back(variance);
            explained_variance_ratio_.push_back(total > 0 ? variance / total : 0.0);
        }
        mean_ = mean.template cast<T>();
    }

    /// Scores of each row of `x` on the components: (x − μ)·Vᵀ, n × k.
    Matrix<T> transform(const Matrix<T>& x) const {
        if (x.cols() != dims())
            throw shape_error("PCA transform: data " + shape_string(x) + " but the fit had " + std::to_string(dims()) +
                              " columns");
        Matrix<T> z;
        z.noalias() = (x.rowwise() - mean_) * components_.transpose();
        return z;
    }

    /// Back to the data space: z·V + μ, n × columns.
    Matrix<T> inverse_transform(const Matrix<T>& z) const {
        if (z.cols() != k())
            throw shape_error("PCA inverse_transform: scores " + shape_string(z) + " but the fit has " +
                              std::to_string(k()) + " components");
        Matrix<T> x;
        x.noalias() = z * components_;
        x.rowwise() += mean_;
        return x;
    }

    /// The number of components.
    Index k() const { return components_.rows(); }
    /// The number of columns of the data it was fitted on.
    Index dims() const { return components_.cols(); }
    /// μ, the column means of the fitted data (1 × columns).
    const RowVector<T>& mean() const { return mean_; }
    /// k × columns, orthonormal rows, by decreasing variance.
    const Matrix<T>& components() const { return components_; }
    /// Each component's variance (its eigenvalue, n − 1 in the denominator), k values, decreasing.
    const std::vector<double>& explained_variance() const { return explained_variance_; }
    /// Each component's share of the total variance, in [0, 1] (all 0 for data of zero variance).
    const std::vector<double>& explained_variance_ratio() const { return explained_variance_ratio_; }

private:
    RowVector<T> mean_;
    Matrix<T> components_;
    std::vector<double> explained_variance_;
    std::vector<double> explained_variance_ratio_;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_PCA_TEMPLATES(prefix, T) \
    prefix template class Pca<T>;
VAELET_EXTERN_TEMPLATES(VAELET_PCA_TEMPLATES)

}  // namespace vaelet
