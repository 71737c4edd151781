/// \file
/// vaelet/core/matrix.hpp — the one tensor type: a row-major batch × features Eigen matrix.
///
///     vaelet::Matrix<float> x(128, 784);   // 128 examples, 784 features each
///     vaelet::RowVector<float> b(400);      // one value per feature, broadcast over the batch
#pragma once

#include <Eigen/Core>

#include <string>

namespace vaelet {

/// Sizes and indices of matrices: Eigen's (signed, std::ptrdiff_t by default).
using Index = Eigen::Index;

/// Rows are examples (the batch), columns are features. `T` is `float` or `double`.
template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// A 1 × n row, e.g. a bias broadcast over the batch.
template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic, Eigen::RowMajor>;

/// "rows×cols", for error messages.
template <class Derived>
std::string shape_string(const Eigen::EigenBase<Derived>& m) {
    return std::to_string(m.rows()) + "x" + std::to_string(m.cols());
}

/// "rows×cols" of a shape not yet in a matrix (e.g. the one asked for), for error messages.
inline std::string shape_string(Index rows, Index cols) {
    return std::to_string(rows) + "x" + std::to_string(cols);
}

}  // namespace vaelet
