/// \file
/// vaelet/stats/image_quality.hpp — how close reconstructions are to the originals: PSNR and binary cross-entropy.
///
///     vaelet::Matrix<float> x_hat = vae.reconstruct(x);            // rows are images, pixels in [0, 1]
///     double db = vaelet::mean_psnr(x, x_hat);                    // higher is better
///     double nats = vaelet::mean_bce(x, x_hat);                   // per image, the unit of the ELBO's recon term
///
/// PSNR of one image: 10·log10(1 / MSE) dB, MSE the mean squared pixel difference and 1 the peak value, since
/// pixels are in [0, 1] (scale 0–255 images first). Identical images have MSE 0 and an infinite PSNR; vaelet caps
/// every image's PSNR at psnr_cap_db = 100 dB (MSE 1e−10) so that averages stay finite. mean_psnr averages the
/// per-image values.
/// BCE of one image: −Σ_pixels [x log p + (1 − x) log(1 − p)] in nats, with p clamped to [1e−7, 1 − 1e−7] so a
/// saturated probability gives a large finite loss instead of infinity; mean_bce averages over images.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace vaelet {

/// The PSNR of a (near-)perfect reconstruction, in dB: the cap that keeps averages finite (MSE 1e−10).
inline constexpr double psnr_cap_db = 100.0;

namespace detail {

template <class T>
void require_same_images(const char* what, const Matrix<T>& a, const Matrix<T>& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols())
        throw shape_error(std::string(what) + ": images " + shape_string(a) + " and " + shape_string(b) +
                          " must have the same shape (one image per row)");
    if (a.rows() == 0 || a.cols() == 0) throw shape_error(std::string(what) + ": no images (" + shape_string(a) + ")");
    if (!a.allFinite() || !b.allFinite()) throw numeric_error(std::string(what) + ": NaN or infinite pixel values");
}

}  // namespace detail

/// PSNR in dB of each row of `y` against the same row of `x`, capped at psnr_cap_db.
template <class T>
std::vector<double> psnr_per_image(const Matrix<T>& x, const Matrix<T>& y) {
    detail::require_same_images("psnr", x, y);
    std::vector<double> out;
    for (Index i = 0; i < x.rows(); ++i) {
        const double mse = (x.row(i) - y.row(i)).template cast<double>().squaredNorm() / double(x.cols());
        out.push_back(std::min(psnr_cap_db, -10.0 * std::log10(mse)));
    }
    return out;
}

/// The mean of psnr_per_image.
template <class T>
double mean_psnr(const Matrix<T>& x, const Matrix<T>& y) {
    const std::vector<double> per = psnr_per_image(x, y);
    double total = 0;
    for (double v : per) total += v;
    return total / double(per.size());
}

/// Binary cross-entropy of targets `x` given probabilities `p`, summed over each row's pixels, averaged over rows.
template <class T>
double mean_bce(const Matrix<T>& x, const Matrix<T>& p) {
    detail::require_same_images("mean_bce", x, p);
    constexpr double eps = 1e-7;
    double total = 0;
    for (Index i = 0; i < x.rows(); ++i)
        for (Index j = 0; j < x.cols(); ++j) {
            const double t = double(x(i, j));
            const double q = std::clamp(double(p(i, j)), eps, 1 - eps);
            total -= t * std::log(q) + (1 - t) * std::log(1 - q);
        }
    return total / double(x.rows());
}

}  // namespace vaelet
