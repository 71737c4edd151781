/// \file
/// vaelet/core/one_hot.hpp — integer labels as one-hot rows: the condition of a conditional VAE, or the targets
/// of a classifier.
///
///     vaelet::Matrix<float> c = vaelet::one_hot<float>(labels, 10);   // labels.size() × 10, a 1 in each row
///     vaelet::one_hot_into(batch_labels, 10, buffer);                  // the same into a buffer reused batch to batch
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <cstddef>
#include <string>

namespace vaelet {

/// Makes `out` the labels.size() × classes one-hot matrix of `labels` (integers, in any container with size()
/// and operator[]), in its own memory when the shape is unchanged. Throws config_error naming the row of a label
/// outside [0, classes).
template <class Labels, class T>
void one_hot_into(const Labels& labels, Index classes, Matrix<T>& out) {
    out.setZero(static_cast<Index>(labels.size()), classes);
    for (Index i = 0; i < out.rows(); ++i) {
        const auto label = static_cast<Index>(labels[static_cast<std::size_t>(i)]);
        if (label < 0 || label >= classes)
            throw config_error("one_hot: label " + std::to_string(label) + " at row " + std::to_string(i) +
                               " is outside [0, " + std::to_string(classes) + ")");
        out(i, label) = T(1);
    }
}

/// The one-hot labels.size() × classes matrix of `labels` (see one_hot_into).
template <class T, class Labels>
Matrix<T> one_hot(const Labels& labels, Index classes) {
    Matrix<T> out;
    one_hot_into(labels, classes, out);
    return out;
}

}  // namespace vaelet
