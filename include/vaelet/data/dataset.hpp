// vaelet/data/dataset.hpp — a labelled image set kept as the uint8 bytes it came in.
//
//   vaelet::Dataset train = vaelet::load_mnist("data/mnist", "train");   // from data/idx.hpp
//   vaelet::Dataset no_sevens = train.exclude_labels({7});
//   const std::uint8_t* first = no_sevens.image(0);                      // features() bytes
//
// Pixels stay uint8 (one byte each, 47 MB for MNIST train instead of 188 MB as float); the Batcher
// (data/batcher.hpp) turns one batch at a time into floats. Tabular or other data fit too: an "image"
// is any rows × cols block of bytes, and rows may be 1.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vaelet {

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
        if (!labels_.empty() && labels_.size() != static_cast<std::size_t>(size()))
            throw shape_error("Dataset: " + std::to_string(size()) + " images but " + std::to_string(labels_.size()) +
                              " labels; give one label per image or none");
    }

    /// Number of examples.
    Index size() const { return features() == 0 ? 0 : static_cast<Index>(pixels_.size()) / features(); }
    bool empty() const { return pixels_.empty(); }

    /// Image height and width; features() = rows() * cols() bytes per example.
    Index rows() const { return rows_; }
    Index cols() const { return cols_; }
    Index features() const { return rows_ * cols_; }

    bool has_labels() const { return !labels_.empty(); }

    /// All images back to back (size() * features() bytes) and all labels (size() bytes or none).
    const std::vector<std::uint8_t>& pixels() const { return pixels_; }
    const std::vector<std::uint8_t>& labels() const { return labels_; }

    /// The features() bytes of example i.
    const std::uint8_t* image(Index i) const { return pixels_.data() + check_index(i) * features(); }

    /// The label of example i; the dataset must have labels.
    std::uint8_t label(Index i) const {
        require_labels("label()");
        return labels_[static_cast<std::size_t>(check_index(i))];
    }

    /// A new dataset of the given examples, in the given order (repeats allowed).
    Dataset subset(const std::vector<Index>& indices) const {
        std::vector<std::uint8_t> pixels(indices.size() * static_cast<std::size_t>(features()));
        std::vector<std::uint8_t> labels;
        if (has_labels()) labels.reserve(indices.size());
        auto out = pixels.begin();
        for (Index i : indices) {
            out = std::copy_n(image(i), features(), out);
            if (has_labels()) labels.push_back(labels_[static_cast<std::size_t>(i)]);
        }
        return Dataset(std::move(pixels), rows_, cols_, std::move(labels));
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
    Index rows_ = 0;
    Index cols_ = 0;
};

}  // namespace vaelet
