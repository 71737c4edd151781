/// \file
/// vaelet/data/batcher.hpp — walks a Dataset in (shuffled) mini-batches of pixels scaled to [0, 1].
///
///     vaelet::Batcher<float> batches(train, 128, rng);            // shuffled each epoch by rng
///     batches.start_epoch();
///     while (batches.next()) step(batches.x());                    // x(): b × features, values in [0, 1]
///
/// Only one batch at a time exists as floating point, in a buffer allocated once: after construction,
/// next() allocates nothing, and the last, smaller batch of an epoch is a view of the buffer's first rows.
///
/// Exact resume: start_epoch() draws the epoch's order from the rng (Fisher–Yates with rng.below) and
/// remembers the rng state it started from. state() — that rng state plus the number of batches already
/// handed out — goes into a checkpoint; restore(state) rebuilds the same order without touching the rng
/// and carries on with the next batch, so a resumed run sees the same batches as an uninterrupted one.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/data/dataset.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vaelet {

/// Walks a Dataset in mini-batches of T values (pixel / 255, or the float features as they are), in a new order
/// each epoch drawn from a seeded Rng, through one buffer allocated at construction; state() and restore() resume
/// an epoch exactly, and split() hands out one process's slice of every batch.
template <class T>
class Batcher {
public:
    /// The current batch: a view of the first rows of the reused buffer, valid until the next next().
    using Batch = Eigen::Map<const Matrix<T>>;

    /// Where an epoch stands: the rng state its order was drawn from, and how many batches are done.
    struct State {
        Rng::State shuffle_rng;  ///< the rng state the epoch's order was drawn from
        Index position = 0;      ///< batches already handed out this epoch
    };

    /// Batches of `batch_size` examples of `data` (which must outlive the Batcher). With `shuffle`, each
    /// epoch visits the examples in a new order drawn from `rng` (which must outlive it too); without,
    /// in dataset order. With `drop_last`, a final batch smaller than batch_size is skipped. Throws config_error
    /// for a batch size below 1, an empty dataset, or drop_last with fewer examples than one batch.
    Batcher(const Dataset& data, Index batch_size, Rng& rng, bool shuffle = true, bool drop_last = false)
        : data_(&data), rng_(&rng), batch_size_(batch_size), shuffle_(shuffle), drop_last_(drop_last) {
        if (batch_size <= 0)
            throw config_error("Batcher: batch size is " + std::to_string(batch_size) + "; it must be at least 1");
        if (data.empty()) throw config_error("Batcher: the dataset has no examples");
        if (drop_last && data.size() < batch_size)
            throw config_error("Batcher: the dataset has " + std::to_string(data.size()) +
                               " examples, fewer than one batch of " + std::to_string(batch_size) +
                               " with drop_last; lower the batch size");
        const Index rows = std::min(batch_size, data.size());
        buffer_.resize(rows, data.features());
        order_.resize(static_cast<std::size_t>(data.size()));
        indices_.reserve(static_cast<std::size_t>(rows));
        labels_.reserve(static_cast<std::size_t>(rows));
        for (int v = 0; v < 256; ++v) scale_[static_cast<std::size_t>(v)] = T(v) / T(255);
    }

    /// Starts an epoch: draws a new order from the rng (when shuffling) and goes back to the first batch.
    void start_epoch() { begin_epoch(*rng_); }

    /// Fills the next batch of this epoch; false when the epoch has no batch left.
    bool next() {
        if (!started_) throw config_error("Batcher::next(): call start_epoch() (or restore()) first");
        if (position_ >= batches_per_epoch()) return false;
        const Index first = position_ * batch_size_;
        batch_rows_ = std::min(batch_size_, data_->size() - first);
        slice_begin_ = batch_rows_ * part_ / parts_;
        const Index b = batch_rows_ * (part_ + 1) / parts_ - slice_begin_;
        const Index f = data_->features();
        indices_.resize(static_cast<std::size_t>(b));
        labels_.resize(data_->has_labels() ? static_cast<std::size_t>(b) : 0);
        for (Index r = 0; r < b; ++r) {
            const Index i = order_[static_cast<std::size_t>(first + slice_begin_ + r)];
            indices_[static_cast<std::size_t>(r)] = i;
            if (data_->has_labels()) labels_[static_cast<std::size_t>(r)] = data_->label(i);
            T* row = buffer_.data() + r * f;
            if (data_->holds_floats()) {
                std::copy_n(data_->values(i), f, row);
            } else {
                const std::uint8_t* pixels = data_->image(i);
                for (Index c = 0; c < f; ++c) row[c] = scale_[pixels[c]];
            }
        }
        rows_ = b;
        ++position_;
        return true;
    }

    /// Data-parallel training: from now on this Batcher hands out part `part` of `parts` of every batch, a
    /// contiguous slice of its rows (slices differ in size by at most one row; one may be empty when a batch has
    /// fewer rows than parts). `parts` processes with the same data, batch size and shuffle seed, one per part,
    /// together see exactly the batches of a single process. x(), labels() and indices() hold the slice.
    void split(int part, int parts) {
        if (parts < 1 || part < 0 || part >= parts)
            throw config_error("Batcher::split: part " + std::to_string(part) + " of " + std::to_string(parts) +
                               " does not exist; parts start at 0");
        part_ = part;
        parts_ = parts;
    }

    /// Rows of the whole current batch, all parts together (the rows of x() when the Batcher is not split).
    Index batch_rows() const { return batch_rows_; }
    /// Where this part's slice starts within the current batch.
    Index slice_begin() const { return slice_begin_; }

    /// The current batch, rows × features with values pixel / 255 (or the float features as they are).
    Batch x() const { return Batch(buffer_.data(), rows_, buffer_.cols()); }

    /// The labels of the current batch's rows (empty when the dataset has none).
    const std::vector<std::uint8_t>& labels() const { return labels_; }

    /// The dataset index of each row of the current batch.
    const std::vector<Index>& indices() const { return indices_; }

    /// Batches handed out so far in this epoch, i.e. the index of the next one.
    Index position() const { return position_; }

    /// Batches in an epoch: size / batch_size rounded up, or down with drop_last.
    Index batches_per_epoch() const {
        const Index n = data_->size();
        return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
    }

    /// Examples per batch, as constructed (the last batch of an epoch may hold fewer).
    Index batch_size() const { return batch_size_; }

    /// What a checkpoint needs to resume this epoch exactly.
    State state() const { return State{epoch_rng_, position_}; }

    /// Rebuilds the epoch saved in `s` (same order, same next batch); the rng passed at construction is
    /// not touched, so restore it separately to where training left it.
    void restore(const State& s) {
        if (s.position < 0 || s.position > batches_per_epoch())
            throw config_error("Batcher::restore: position " + std::to_string(s.position) + " is outside 0.." +
                               std::to_string(batches_per_epoch()) + " for this dataset and batch size; the "
                               "checkpoint was made with other data or another batch size");
        Rng replay;
        replay.set_state(s.shuffle_rng);
        begin_epoch(replay);
        position_ = s.position;
    }

private:
    void begin_epoch(Rng& rng) {
        epoch_rng_ = rng.state();
        reset_order();
        if (shuffle_) {
            // Fisher–Yates from the identity, so the order depends on the rng state alone.
            for (std::size_t i = order_.size() - 1; i > 0; --i)
                std::swap(order_[i], order_[static_cast<std::size_t>(rng.below(i + 1))]);
        }
        position_ = 0;
        started_ = true;
    }

    void reset_order() {
        for (std::size_t i = 0; i < order_.size(); ++i) order_[i] = static_cast<Index>(i);
    }

    const Dataset* data_;
    Rng* rng_;
    Index batch_size_;
    bool shuffle_;
    bool drop_last_;
    Matrix<T> buffer_;                 // min(batch_size, n) × features, allocated once
    Index rows_ = 0;                   // rows of buffer_ that hold the current batch (this part's slice)
    Index batch_rows_ = 0;             // rows of the whole current batch, all parts
    Index slice_begin_ = 0;            // first row of this part's slice within the batch
    int part_ = 0, parts_ = 1;         // split(): this Batcher's part of every batch
    std::vector<Index> order_;         // this epoch's visiting order
    std::vector<Index> indices_;       // dataset index of each batch row
    std::vector<std::uint8_t> labels_;
    std::array<T, 256> scale_{};       // v / 255, exact, looked up instead of divided
    Rng::State epoch_rng_{};
    Index position_ = 0;
    bool started_ = false;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_BATCHER_TEMPLATES(prefix, T) \
    prefix template class Batcher<T>;
VAELET_EXTERN_TEMPLATES(VAELET_BATCHER_TEMPLATES)

}  // namespace vaelet
