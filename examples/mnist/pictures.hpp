// The PNGs vaelet-mnist writes: sample grids from a fixed set of z (so epochs compare), test images above their
// reconstructions, and the loss curves.
#pragma once

#include <vaelet/io/image.hpp>
#include <vaelet/io/plot.hpp>
#include <vaelet/train/checkpoint.hpp>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace mnist {

class Pictures {
public:
    /// For the model `vae` of a run configured by `config` (image shape in its extras, seed).
    Pictures(const vaelet::RunConfig& config, const vaelet::Vae<float>& vae)
        : rows_(config.extra.value("image_rows", 28)), cols_(config.extra.value("image_cols", 28)),
          conditions_(vae.conditions()) {
        if (Eigen::Index(rows_) * cols_ != vae.input())
            throw vaelet::shape_error("the model has " + std::to_string(vae.input()) + " inputs, not " +
                                      std::to_string(rows_) + "x" + std::to_string(cols_) + " images");
        vaelet::Rng rng(config.train.seed + 7);  // the same 64 z at every epoch
        z_ = vaelet::sample_prior<float>(64, vae.latent(), rng);
        labels_ = digit_labels(64);
    }

    /// One-hot labels 0, 1, …, 9, 0, 1, … for a conditional model (none otherwise).
    vaelet::Vae<float>::ConditionMatrix digit_labels(Eigen::Index n) const {
        if (conditions_ == 0) return std::nullopt;
        std::vector<int> labels;
        for (Eigen::Index i = 0; i < n; ++i) labels.push_back(int(i % conditions_));
        return vaelet::one_hot<float>(labels, conditions_);
    }

    std::string sample_name(int epoch) const {
        char name[64];
        std::snprintf(name, sizeof name, "samples_epoch%02d.png", epoch);
        return name;
    }

    void samples(vaelet::Vae<float>& vae, const std::string& path) const {
        save(vae.decode(z_, labels_), 8, path);
    }

    /// The first n test images, 8 per row (n per row when fewer), each row of originals above its row of
    /// reconstructions (through μ); a last, shorter row is padded with black tiles so the pairs stay aligned.
    void reconstructions(vaelet::Vae<float>& vae, const vaelet::Dataset& test, const std::string& path, long n = 32) const {
        n = std::min<long>(n, long(test.size()));
        vaelet::Matrix<float> x(n, rows_ * cols_);
        std::vector<int> labels;
        for (long i = 0; i < n; ++i) {
            const std::uint8_t* p = test.image(i);
            for (Eigen::Index j = 0; j < x.cols(); ++j) x(i, j) = float(p[j]) / 255.0f;
            if (test.has_labels()) labels.push_back(test.label(i));
        }
        vaelet::Vae<float>::ConditionMatrix c;
        if (conditions_) c = vaelet::one_hot<float>(labels, conditions_);
        const vaelet::Matrix<float> r = vae.reconstruct(x, c);
        const long per_row = std::min<long>(8, n);
        const long grid_rows = (n + per_row - 1) / per_row;
        vaelet::Matrix<float> both = vaelet::Matrix<float>::Zero(2 * grid_rows * per_row, x.cols());
        for (long block = 0; block < n; block += per_row) {
            const long m = std::min<long>(per_row, n - block);
            both.middleRows(2 * block, m) = x.middleRows(block, m);
            both.middleRows(2 * block + per_row, m) = r.middleRows(block, m);
        }
        save(both, int(per_row), path);
    }

    void loss_chart(const std::vector<vaelet::EpochMetrics>& history, const std::string& path) const {
        vaelet::Series train{"train", {}, {}}, test{"test", {}, {}};
        for (const auto& m : history) {
            train.x.push_back(m.epoch);
            train.y.push_back(m.train.loss);
            test.x.push_back(m.epoch);
            test.y.push_back(m.test.loss);
        }
        vaelet::PlotOptions options;
        options.title = "negative ELBO, nats per image";
        vaelet::save_png(path, vaelet::line_chart({train, test}, options));
    }

    /// Any rows of pixels in [0, 1] as a grid `columns` wide.
    void save(const vaelet::Matrix<float>& images, int columns, const std::string& path) const {
        vaelet::save_png(path, vaelet::make_grid(images, rows_, cols_, columns));
    }

private:
    int rows_, cols_;
    Eigen::Index conditions_;
    vaelet::Matrix<float> z_;
    vaelet::Vae<float>::ConditionMatrix labels_;  // the one-hot conditions of the samples
};

}  // namespace mnist
