/// \file
/// vaelet/train/metrics.hpp — one row of figures per epoch, written as RUN/metrics.csv (atomically, whole file).
///
///     std::vector<vaelet::EpochMetrics> history;
///     history.push_back({epoch, train_losses, test_losses, seconds, images_per_s});
///     vaelet::write_metrics_csv(run_dir + "/metrics.csv", history);
///
/// Losses are nats per example: summed over the features, averaged over the examples (PyTorch's examples/vae
/// reports the same per-image figure). Timing columns are measured, so they differ between otherwise identical runs.
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/train/trainer.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vaelet {

/// One row of metrics.csv: an epoch's mean losses on the training and the test data, and its timing.
struct EpochMetrics {
    int epoch = 0;  ///< the epoch, from 1
    /// The epoch's mean training losses (nats per example), as Trainer reports them.
    Losses train, test;
    /// The epoch's training time, measured (so it differs between otherwise identical runs).
    double seconds = 0, images_per_s = 0;
    /// \var test
    /// The mean losses on the test data after the epoch (Trainer::evaluate: the ELBO with β = 1).
    /// \var images_per_s
    /// Training examples per second of the epoch, measured.
};

/// The header; with `kl_split` (β-TCVAE), three more columns: the training KL's split.
inline std::string metrics_csv_header(bool kl_split = false) {
    return std::string("epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds,images_per_s") +
           (kl_split ? ",train_mutual_information,train_total_correlation,train_dimension_kl" : "");
}

/// The line of `m` (no newline), in the header's columns; with `kl_split`, also the training KL's split (zeros
/// when `m` has none).
inline std::string metrics_csv_row(const EpochMetrics& m, bool kl_split = false) {
    char line[512];
    int n = std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f", m.epoch, m.train.loss,
                          m.train.recon, m.train.kl, m.test.loss, m.test.recon, m.test.kl, m.seconds, m.images_per_s);
    if (kl_split) {
        const KlSplit k = m.train.kl_split.value_or(KlSplit{});
        std::snprintf(line + n, sizeof line - std::size_t(n), ",%.6f,%.6f,%.6f", k.mutual_information,
                      k.total_correlation, k.dimension_kl);
    }
    return line;
}

/// The whole file; the split columns when any epoch has the KL's split.
inline void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& history) {
    bool kl_split = false;
    for (const auto& m : history) kl_split = kl_split || m.train.kl_split.has_value();
    std::string text = metrics_csv_header(kl_split) + "\n";
    for (const auto& m : history) text += metrics_csv_row(m, kl_split) + "\n";
    write_file_atomic(path, text);
}

/// Reads back the timing columns of an earlier metrics.csv (by epoch), for a resumed run whose checkpoint holds
/// the losses but not the timings. Rows it cannot parse are ignored; a missing file gives nothing.
inline void read_metrics_timing(const std::string& path, std::vector<EpochMetrics>& history) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::stringstream fields(line);
        for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
        if (cells.size() != 9 && cells.size() != 12) continue;
        try {
            const int epoch = std::stoi(cells[0]);
            for (auto& m : history)
                if (m.epoch == epoch) {
                    m.seconds = std::stod(cells[7]);
                    m.images_per_s = std::stod(cells[8]);
                }
        } catch (const std::exception&) {
        }
    }
}

}  // namespace vaelet
