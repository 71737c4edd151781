// vaelet/train/metrics.hpp — one row of figures per epoch, written as RUN/metrics.csv (atomically, whole file).
//
//   std::vector<vaelet::EpochMetrics> history;
//   history.push_back({epoch, train_losses, test_losses, seconds, images_per_s});
//   vaelet::write_metrics_csv(run_dir + "/metrics.csv", history);
//
// Losses are nats per example: summed over the features, averaged over the examples (PyTorch's examples/vae
// reports the same per-image figure). Timing columns are measured, so they differ between otherwise identical runs.
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/train/trainer.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vaelet {

struct EpochMetrics {
    int epoch = 0;
    Losses train, test;
    double seconds = 0, images_per_s = 0;
};

inline const char* metrics_csv_header() {
    return "epoch,train_loss,train_recon,train_kl,test_loss,test_recon,test_kl,seconds,images_per_s";
}

inline std::string metrics_csv_row(const EpochMetrics& m) {
    char line[512];
    std::snprintf(line, sizeof line, "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.3f,%.1f", m.epoch, m.train.loss, m.train.recon,
                  m.train.kl, m.test.loss, m.test.recon, m.test.kl, m.seconds, m.images_per_s);
    return line;
}

inline void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& history) {
    std::string text = std::string(metrics_csv_header()) + "\n";
    for (const auto& m : history) text += metrics_csv_row(m) + "\n";
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
        if (cells.size() != 9) continue;
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
