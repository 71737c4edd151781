/// \file
/// vaelet/stats/kmeans.hpp — k-means clustering: k-means++ starts, Lloyd iterations, the best of several restarts.
///
///     vaelet::Rng rng(7);
///     auto clusters = vaelet::kmeans(latent_means, 4, rng);        // rows of a matrix, k = 4
///     double score = vaelet::adjusted_rand_index(clusters.labels, true_segments);   // stats/cluster_scores.hpp
///
/// Each restart picks its starting centers by k-means++ (Arthur & Vassilvitskii 2007: the first uniformly, each
/// next one with probability ∝ its squared distance to the nearest center chosen so far), then alternates
/// "assign each row to the nearest center" and "move each center to the mean of its rows" until no row changes
/// cluster, or max_iter. A cluster left empty takes the row farthest from its own center. The restart with the
/// lowest inertia (Σ squared distances to the assigned centers) wins; the first wins a tie. Computed in double;
/// the same seed gives the same result.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"
#include "vaelet/core/random.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace vaelet {

/// How hard kmeans searches; the defaults are scikit-learn's.
struct KMeansOptions {
    int restarts = 10;   ///< independent k-means++ starts (sklearn's n_init)
    int max_iter = 300;  ///< Lloyd iterations per start
};

/// The clustering of the best restart (lowest inertia).
template <class T>
struct KMeansResult {
    std::vector<Index> labels;  ///< the cluster of each row, 0 … k−1
    Matrix<T> centers;          ///< k × features
    double inertia = 0;         ///< Σ over rows of the squared distance to its center
    int iterations = 0;         ///< Lloyd iterations of the winning start
    bool converged = false;     ///< the winning start stopped because no row changed cluster
};

namespace detail {

class KMeansRun {
public:
    KMeansRun(const Matrix<double>& x, Index k) : x_(x), k_(k), labels_(std::size_t(x.rows())), dist_(x.rows()) {}

    void run(Rng& rng, int max_iter) {
        seed_centers(rng);
        assign(labels_, /*from_current=*/false);
        std::vector<Index> next(labels_.size());
        for (iterations_ = 1; iterations_ <= max_iter; ++iterations_) {
            update_centers();
            assign(next, /*from_current=*/true);
            if (next == labels_) {
                converged_ = true;
                break;
            }
            labels_.swap(next);
        }
        if (!converged_) iterations_ = max_iter;
    }

    double inertia() const { return dist_.sum(); }
    int iterations() const { return iterations_; }
    bool converged() const { return converged_; }
    const std::vector<Index>& labels() const { return labels_; }
    const Matrix<double>& centers() const { return centers_; }

private:
    double sq_dist(Index i, Index c) const { return (x_.row(i) - centers_.row(c)).squaredNorm(); }

    void seed_centers(Rng& rng) {
        const Index n = x_.rows();
        centers_.resize(k_, x_.cols());
        centers_.row(0) = x_.row(Index(rng.below(std::uint64_t(n))));
        Eigen::VectorXd nearest(n);
        for (Index i = 0; i < n; ++i) nearest(i) = sq_dist(i, 0);
        for (Index c = 1; c < k_; ++c) {
            const double total = nearest.sum();
            Index pick = 0;
            if (total > 0) {
                double u = rng.uniform() * total;
                for (Index i = 0; i < n; ++i) {
                    if (nearest(i) <= 0) continue;
                    pick = i;  // the last candidate also catches u left ≥ 0 by rounding
                    u -= nearest(i);
                    if (u < 0) break;
                }
            } else {  // fewer distinct rows than k: any row will do, an empty cluster is fixed later
                pick = Index(rng.below(std::uint64_t(n)));
            }
            centers_.row(c) = x_.row(pick);
            for (Index i = 0; i < n; ++i) nearest(i) = std::min(nearest(i), sq_dist(i, c));
        }
    }

    /// Nearest center of every row; fills dist_. On a tie a row keeps its current cluster (`from_current`) or
    /// takes the lowest index, so rows only move to strictly nearer centers and the iteration settles.
    void assign(std::vector<Index>& labels, bool from_current) {
        for (Index i = 0; i < x_.rows(); ++i) {
            Index best = from_current ? labels_[std::size_t(i)] : 0;
            double best_d = sq_dist(i, best);
            for (Index c = 0; c < k_; ++c) {
                const double d = sq_dist(i, c);
                if (d < best_d) {
                    best_d = d;
                    best = c;
                }
            }
            labels[std::size_t(i)] = best;
            dist_(i) = best_d;
        }
    }

    void update_centers() {
        std::vector<Index> count(std::size_t(k_), 0);
        for (Index l : labels_) ++count[std::size_t(l)];
        for (Index c = 0; c < k_; ++c) {
            if (count[std::size_t(c)] > 0) continue;
            // An empty cluster takes the row farthest from its center, from a cluster that can spare it.
            Index far = -1;
            for (Index i = 0; i < x_.rows(); ++i)
                if (count[std::size_t(labels_[std::size_t(i)])] > 1 && (far < 0 || dist_(i) > dist_(far))) far = i;
            --count[std::size_t(labels_[std::size_t(far)])];
            labels_[std::size_t(far)] = c;
            count[std::size_t(c)] = 1;
            dist_(far) = 0;
        }
        centers_.setZero();
        for (Index i = 0; i < x_.rows(); ++i) centers_.row(labels_[std::size_t(i)]) += x_.row(i);
        for (Index c = 0; c < k_; ++c) centers_.row(c) /= double(count[std::size_t(c)]);
    }

    const Matrix<double>& x_;
    Index k_;
    Matrix<double> centers_;
    std::vector<Index> labels_;
    Eigen::VectorXd dist_;  // squared distance of each row to its assigned center
    int iterations_ = 0;
    bool converged_ = false;
};

}  // namespace detail

/// Clusters the rows of `x` into k groups. Throws config_error for k < 1 or more clusters than rows, numeric_error
/// for a value that is not finite.
template <class T>
KMeansResult<T> kmeans(const Matrix<T>& x, Index k, Rng& rng, const KMeansOptions& options = {}) {
    if (k < 1) throw config_error("k-means: k must be at least 1, got " + std::to_string(k));
    if (x.rows() < k)
        throw config_error("k-means: " + std::to_string(k) + " clusters need at least " + std::to_string(k) +
                           " rows, got " + shape_string(x));
    if (x.cols() < 1) throw config_error("k-means: the data " + shape_string(x) + " has no columns");
    if (options.restarts < 1 || options.max_iter < 1)
        throw config_error("k-means: restarts and max_iter must be at least 1");
    if (!x.allFinite()) throw numeric_error("k-means: the data " + shape_string(x) + " has NaN or infinite values");

    const Matrix<double> xd = x.template cast<double>();
    KMeansResult<T> best;
    best.inertia = std::numeric_limits<double>::infinity();
    for (int r = 0; r < options.restarts; ++r) {
        detail::KMeansRun run(xd, k);
        run.run(rng, options.max_iter);
        if (run.inertia() < best.inertia) {
            best.labels = run.labels();
            best.centers = run.centers().template cast<T>();
            best.inertia = run.inertia();
            best.iterations = run.iterations();
            best.converged = run.converged();
        }
    }
    return best;
}

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_KMEANS_TEMPLATES(prefix, T) \
    prefix template KMeansResult<T> kmeans<T>(const Matrix<T>&, Index, Rng&, const KMeansOptions&);
VAELET_EXTERN_TEMPLATES(VAELET_KMEANS_TEMPLATES)

}  // namespace vaelet
