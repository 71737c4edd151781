/// \file
/// vaelet/data/dataset.hpp — a labelled set of examples: images kept as the uint8 bytes they came in, or rows of
/// float features (an encoded table).
///
///     vaelet::Dataset train = vaelet::load_mnist("data/mnist", "train");   // from data/idx.hpp
///     vaelet::Dataset no_sevens = train.exclude_labels({7});
///     const std::uint8_t* first = no_sevens.image(0);                      // features() bytes
///     vaelet::Dataset table(encoder.encode<float>(csv));                   // rows × features floats
///
/// Pixels stay uint8 (one byte each, 47 MB for MNIST train instead of 188 MB as float); the Batcher
/// (data/batcher.hpp) turns one batch at a time into floats, pixel / 255. Float features are batched as they are.
/// An "image" is any rows × cols block, and rows may be 1; a float dataset's examples are 1 × features.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// A set of examples with optional one-byte labels: images kept as the uint8 bytes they came in, or rows of float
/// features. A plain value; subset() and friends copy the examples they keep.
class Dataset {
public:
    Dataset() = default;

    /// `pixels` holds size() images one after another, each rows × cols bytes in row-major order;
    /// `labels` holds one byte per image, or is empty for unlabelled data.
    Dataset(std::vector<std::uint8_t> pixels, Index rows, Index cols, std::vector<std::uint8_t> labels = {})
        : pixels_(std::move(pixels)), labels_(std::move(labels)), rows_(rows), cols_(cols) {
        if (rows <= 0 || cols <= 0)
            throw shape_error("Dataset: image size " + shape_string(rows, cols) + " must be at least 1x1");
        if (pixels_.size() % static_cast<std::size_t>(features()) != 0)
            throw shape_error("Dataset: " + std::to_string(pixels_.size()) + " pixel bytes are not a whole number of " +
                              shape_string(rows, cols) + " images");
        check_labels("image");
    }

    /// The rows of `values` as examples of values.cols() float features (1 × cols "images"); `labels` holds one
    /// byte per row, or is empty. A NaN or infinite value is a numeric_error naming its row and column, checked
    /// once here (`check_finite` false skips it, for data you have checked).
    explicit Dataset(const Matrix<float>& values, std::vector<std::uint8_t> labels = {}, bool check_finite = true)
        : Dataset(std::vector<float>(values.data(), values.data() + values.size()), 1, values.cols(),
                  std::move(labels)) {
        if (!check_finite || values.allFinite()) return;
        for (Index i = 0; i < values.rows(); ++i)
            for (Index j = 0; j < values.cols(); ++j)
                if (!std::isfinite(values(i, j)))
                    throw numeric_error("Dataset: row " + std::to_string(i) + ", column " + std::to_string(j) + " is " +
                                        std::to_string(values(i, j)) + "; a VAE cannot learn from a non-finite value: "
                                        "impute or drop it first");
    }

    /// Number of examples.
    Index size() const {
        if (features() == 0) return 0;
        return static_cast<Index>(holds_floats() ? values_.size() : pixels_.size()) / features();
    }
    /// True when the dataset holds no examples (e.g. default-constructed).
    bool empty() const { return pixels_.empty() && values_.empty(); }

    /// True for a dataset of float features (values()), false for one of bytes (image(), pixels()).
    bool holds_floats() const { return holds_floats_; }

    /// Image height (1 for a float dataset); features() = rows() * cols() bytes per example.
    Index rows() const { return rows_; }
    /// Image width (for a float dataset, the number of features).
    Index cols() const { return cols_; }
    /// Values per example: rows() * cols() bytes, or floats.
    Index features() const { return rows_ * cols_; }

    /// True when every example has a label; false for unlabelled data.
    bool has_labels() const { return !labels_.empty(); }

    /// All images back to back (size() * features() bytes; none for a float dataset).
    const std::vector<std::uint8_t>& pixels() const { return pixels_; }
    /// All labels, one byte per example (size() bytes), or none.
    const std::vector<std::uint8_t>& labels() const { return labels_; }

    /// The features() bytes of example i, for a dataset of bytes.
    const std::uint8_t* image(Index i) const {
        if (holds_floats()) throw config_error("Dataset::image(): this dataset holds float features; use values()");
        return pixels_.data() + check_index(i) * features();
    }

    /// The features() floats of example i, for a dataset of float features.
    const float* values(Index i) const {
        if (!holds_floats()) throw config_error("Dataset::values(): this dataset holds bytes; use image()");
        return values_.data() + check_index(i) * features();
    }

    /// The label of example i; the dataset must have labels.
    std::uint8_t label(Index i) const {
        require_labels("label()");
        return labels_[static_cast<std::size_t>(check_index(i))];
    }

    /// A new dataset of the given examples, in the given order (repeats allowed).
    Dataset subset(const std::vector<Index>& indices) const {
        std::vector<std::uint8_t> labels;
        if (has_labels())
            for (Index i : indices) labels.push_back(labels_[static_cast<std::size_t>(check_index(i))]);
        if (holds_floats()) return Dataset(gather(values_, indices), rows_, cols_, std::move(labels));
        return Dataset(gather(pixels_, indices), rows_, cols_, std::move(labels));
    }

    /// The first min(n, size()) examples, e.g. for a quick run on part of the data.
    Dataset head(Index n) const {
        std::vector<Index> indices(static_cast<std::size_t>(std::clamp<Index>(n, 0, size())));
        for (std::size_t i = 0; i < indices.size(); ++i) indices[i] = static_cast<Index>(i);
        return subset(indices);
    }

    /// Indices of the examples whose label satisfies `keep(label)`, in dataset order.
    template <class Pred>
    std::vector<Index> indices_where(Pred keep) const {
        require_labels("indices_where()");
        std::vector<Index> indices;
        for (std::size_t i = 0; i < labels_.size(); ++i)
            if (keep(labels_[i])) indices.push_back(static_cast<Index>(i));
        return indices;
    }

    /// Only the examples whose label is one of `wanted` (e.g. {3, 8}), in dataset order.
    Dataset select_labels(const std::vector<std::uint8_t>& wanted) const {
        return subset(indices_where([&](std::uint8_t l) { return contains(wanted, l); }));
    }

    /// All examples except those whose label is one of `unwanted` (e.g. hold out digit 7).
    Dataset exclude_labels(const std::vector<std::uint8_t>& unwanted) const {
        return subset(indices_where([&](std::uint8_t l) { return !contains(unwanted, l); }));
    }

private:
    Dataset(std::vector<float> values, Index rows, Index cols, std::vector<std::uint8_t> labels)
        : labels_(std::move(labels)), values_(std::move(values)), rows_(rows), cols_(cols), holds_floats_(true) {
        if (cols <= 0) throw shape_error("Dataset: float examples need at least 1 feature, got " + std::to_string(cols));
        check_labels("row");
    }

    /// One label per example (called `example` in the message), or none.
    void check_labels(const std::string& example) const {
        if (!labels_.empty() && labels_.size() != static_cast<std::size_t>(size()))
            throw shape_error("Dataset: " + std::to_string(size()) + " " + example + "s but " +
                              std::to_string(labels_.size()) + " labels; give one label per " + example + " or none");
    }

    /// The examples `indices` of `all` (features() elements each), back to back.
    template <class V>
    std::vector<V> gather(const std::vector<V>& all, const std::vector<Index>& indices) const {
        std::vector<V> out(indices.size() * static_cast<std::size_t>(features()));
        auto to = out.begin();
        for (Index i : indices) to = std::copy_n(all.begin() + check_index(i) * features(), features(), to);
        return out;
    }

    static bool contains(const std::vector<std::uint8_t>& set, std::uint8_t l) {
        return std::find(set.begin(), set.end(), l) != set.end();
    }

    Index check_index(Index i) const {
        if (i < 0 || i >= size())
            throw config_error("Dataset: example index " + std::to_string(i) + " is out of range for " +
                               std::to_string(size()) + " examples");
        return i;
    }

    void require_labels(const char* what) const {
        if (!has_labels())
            throw config_error(std::string("Dataset::") + what + ": this dataset has no labels");
    }

    std::vector<std::uint8_t> pixels_;
    std::vector<std::uint8_t> labels_;
    std::vector<float> values_;
    Index rows_ = 0;
    Index cols_ = 0;
    bool holds_floats_ = false;
};

}  // namespace vaelet
