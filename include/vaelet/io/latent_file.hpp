/// \file
/// vaelet/io/latent_file.hpp — latent codes stored compactly: the ".vlc" format of `vaelet-mnist compress`.
///
///     vaelet::write_latent_file("codes.vlc", mu, labels);           // n × d means as float16, one label byte each
///     auto codes = vaelet::read_latent_file("codes.vlc");           // codes.z (float), codes.labels
///
/// Layout (little-endian): "VLC1" magic, u32 format version (1), u32 rows n, u32 latent dims d, u32 label flag
/// (1 when labels follow), then n·d IEEE float16 values row by row, then n label bytes when flagged. float16 keeps
/// about three significant digits, well below the posterior's own spread σ, so decoding loses nothing visible.
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace vaelet {

/// What a .vlc file holds: n latent codes of d dimensions and, optionally, a label byte per code.
struct LatentCodes {
    Matrix<float> z;                    ///< n × d
    std::vector<std::uint8_t> labels;  ///< n, or empty
};

/// The format version this vaelet writes and reads, stored after the magic.
inline constexpr std::uint32_t latent_file_version = 1;

/// Bytes a file of n codes of d dimensions takes (with labels or not).
inline std::uint64_t latent_file_size(std::uint64_t n, std::uint64_t d, bool labels) {
    return 20 + 2 * n * d + (labels ? n : 0);
}

/// Writes the n × d codes `z` as float16 (and one byte per row of `labels`, if any) to `path`, atomically.
/// shape_error unless `labels` is empty or has z.rows() entries; numeric_error when z holds NaN or infinity;
/// io_error naming the path when it cannot be written.
inline void write_latent_file(const std::string& path, const Matrix<float>& z, const std::vector<std::uint8_t>& labels = {}) {
    if (!labels.empty() && Index(labels.size()) != z.rows())
        throw shape_error(path + ": " + std::to_string(labels.size()) + " labels for " + std::to_string(z.rows()) + " codes");
    if (!z.allFinite()) throw numeric_error(path + ": the latent codes hold NaN or infinite values");
    std::string bytes = "VLC1";
    auto put32 = [&](std::uint32_t v) {
        for (int k = 0; k < 4; ++k) bytes.push_back(char((v >> (8 * k)) & 0xff));
    };
    put32(latent_file_version);
    put32(std::uint32_t(z.rows()));
    put32(std::uint32_t(z.cols()));
    put32(labels.empty() ? 0 : 1);
    for (Index i = 0; i < z.rows(); ++i)
        for (Index j = 0; j < z.cols(); ++j) {
            const std::uint16_t h = Eigen::numext::bit_cast<std::uint16_t>(Eigen::half(z(i, j)));
            bytes.push_back(char(h & 0xff));
            bytes.push_back(char(h >> 8));
        }
    bytes.append(labels.begin(), labels.end());
    write_file_atomic(path, bytes);
}

/// The codes (as float) and labels of the .vlc file at `path`. io_error naming the path when it cannot be read,
/// is not a .vlc file, has another format version, or its size does not match its header.
inline LatentCodes read_latent_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw io_error(path + ": cannot open; check the path (make one with `vaelet-mnist compress`)");
    const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto get32 = [&](std::size_t at) {
        std::uint32_t v = 0;
        for (int k = 0; k < 4; ++k) v |= std::uint32_t(std::uint8_t(bytes[at + std::size_t(k)])) << (8 * k);
        return v;
    };
    if (bytes.size() < 20 || bytes.compare(0, 4, "VLC1") != 0)
        throw io_error(path + ": not a .vlc latent file (no VLC1 header)");
    if (get32(4) != latent_file_version)
        throw io_error(path + ": .vlc format version " + std::to_string(get32(4)) + " is not supported (this vaelet reads " +
                       std::to_string(latent_file_version) + ")");
    const std::uint64_t n = get32(8), d = get32(12);
    const bool has_labels = get32(16) != 0;
    if (d == 0 || bytes.size() != latent_file_size(n, d, has_labels))
        throw io_error(path + ": header says " + std::to_string(n) + " codes of " + std::to_string(d) + " dimensions (" +
                       std::to_string(latent_file_size(n, d, has_labels)) + " bytes) but the file has " +
                       std::to_string(bytes.size()) + " bytes; it is truncated or damaged");
    LatentCodes codes;
    codes.z.resize(Index(n), Index(d));
    std::size_t at = 20;
    for (Index i = 0; i < Index(n); ++i)
        for (Index j = 0; j < Index(d); ++j, at += 2) {
            const auto h = std::uint16_t(std::uint8_t(bytes[at]) | (std::uint16_t(std::uint8_t(bytes[at + 1])) << 8));
            codes.z(i, j) = float(Eigen::numext::bit_cast<Eigen::half>(h));
        }
    if (has_labels) codes.labels.assign(bytes.begin() + std::ptrdiff_t(at), bytes.end());
    return codes;
}

}  // namespace vaelet
