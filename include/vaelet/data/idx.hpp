/// \file
/// vaelet/data/idx.hpp — read and write IDX files (the MNIST format), raw or gzip-compressed.
///
///     vaelet::Dataset train = vaelet::load_mnist("data/mnist", "train");   // 60000 × 28×28 + labels
///     vaelet::Dataset mine = vaelet::load_idx_pair("x-idx3-ubyte.gz", "y-idx1-ubyte");
///     vaelet::write_idx_images("out-idx3-ubyte", mine);                     // raw IDX, written atomically
///
/// Format (yann.lecun.com/exdb/mnist): a big-endian header — magic `0x00 0x00 <type> <ndims>`, then ndims
/// 32-bit sizes — followed by the data. vaelet reads unsigned-byte data (type 0x08): images are
/// 0x00000803 (count, rows, cols), labels 0x00000801 (count).
///
/// Every size is checked before anything is allocated: the magic, the dimension count, non-zero and
/// overflow-free sizes, a 4 GiB ceiling, and the declared size against what the file holds (for gzip,
/// read in chunks, so a lying header costs at most what the file really has). Errors are io_error
/// messages that name the file, say what is wrong and how to fix it.
///
/// Needs: zlib for .gz files, when VAELET_HAVE_ZLIB is defined (link ZLIB::ZLIB); without it, a .gz file
/// (recognised by its magic bytes 1f 8b, whatever its name) gives an io_error saying so.
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/data/dataset.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#ifdef VAELET_HAVE_ZLIB
#include <zlib.h>
#endif


namespace vaelet {

/// The most data bytes one IDX file may declare (4 GiB); a larger header is taken for a corrupt one.
inline constexpr std::uint64_t max_idx_bytes = std::uint64_t(4) << 30;

namespace detail {

enum class IdxKind { images, labels };

inline const char* idx_truncated_hint() { return "the file is truncated — download it again (scripts/get-data)"; }

inline std::string with_commas(std::uint64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<std::size_t>(i), ",");
    return s;
}

/// "0x1f" for 31: bytes in messages.
inline std::string hex_byte(unsigned char b) {
    const char digits[] = "0123456789abcdef";
    return std::string("0x") + digits[b >> 4] + digits[b & 15];
}

/// An open IDX file whose header has been read and checked; read_data() then reads exactly the
/// declared bytes. Raw files are read with stdio, gzip files with zlib.
class IdxReader {
public:
    IdxReader(const std::filesystem::path& path, IdxKind kind) : name_(path.string()), kind_(kind) {
        namespace fs = std::filesystem;
        std::error_code ec;
        const auto status = fs::status(path, ec);
        if (status.type() == fs::file_type::not_found) fail("no such file");
        if (ec) fail("cannot access (" + ec.message() + ")");
        if (fs::is_directory(status))
            fail(std::string("is a directory, not an IDX ") + (kind == IdxKind::images ? "image" : "label") +
                 " file");
        file_size_ = fs::file_size(path, ec);
        if (ec) fail("cannot read the file size (" + ec.message() + ")");

        file_.reset(std::fopen(name_.c_str(), "rb"));
        if (!file_) fail(std::string("cannot open (") + std::strerror(errno) + ")");
        unsigned char magic[2] = {0, 0};
        const std::size_t got = std::fread(magic, 1, 2, file_.get());
        gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
        std::rewind(file_.get());
        if (gzip_) open_gzip();

        read_header();
    }

    std::uint64_t count() const { return dims_[0]; }
    std::uint64_t rows() const { return dims_[1]; }
    std::uint64_t cols() const { return dims_[2]; }
    const std::string& name() const { return name_; }

    /// Reads the data that the header declares, failing if the file holds less or more.
    std::vector<std::uint8_t> read_data() {
        std::vector<std::uint8_t> data;
        if (!gzip_) {
            data.resize(static_cast<std::size_t>(bytes_));
            const std::size_t got = std::fread(data.data(), 1, data.size(), file_.get());
            if (got != data.size()) fail_short(got, "");
            return data;
        }
        // Room for what the file can hold (deflate expands at most 1032:1, so a 1 KB file claiming 4 GB gets 1 MB),
        // then growth in bounded steps, never past the declared size. One allocation for a real file: growing by
        // doubling held the old and the new buffer at once, 80 MB for Fashion-MNIST's 47 MB, a run's peak of memory.
        constexpr std::size_t chunk = std::size_t(1) << 20;
        constexpr std::uint64_t deflate_limit = 1032;
        const std::uint64_t can_hold = file_size_ > bytes_ / deflate_limit ? bytes_ : file_size_ * deflate_limit;
        data.reserve(static_cast<std::size_t>(std::min(bytes_, std::max<std::uint64_t>(chunk, can_hold))));
        std::size_t got = 0;
        while (got < bytes_) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, bytes_ - got));
            if (data.size() < got + want) {
                const std::size_t grown = std::max(got + want, 2 * data.size());
                data.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(grown, bytes_)));
                data.resize(data.capacity());
            }
            const std::size_t n = gz_read(data.data() + got, want);
            got += n;
            if (n < want) fail_short(got, gz_status());
        }
        data.resize(got);
        unsigned char extra = 0;
        if (gz_read(&extra, 1) != 0)
            fail("header says " + what_declared() + " but the decompressed file has more bytes after them; the "
                 "header and the data disagree — the file is corrupt or not what its name says");
        return data;
    }

    [[noreturn]] void fail(const std::string& what) const { throw io_error(name_ + ": " + what); }

private:
    std::size_t header_bytes() const { return kind_ == IdxKind::images ? 16 : 8; }
    int expected_dims() const { return kind_ == IdxKind::images ? 3 : 1; }

    std::string what_declared() const {
        if (kind_ == IdxKind::labels) return with_commas(count()) + " labels (" + with_commas(bytes_) + " bytes)";
        return with_commas(count()) + " images of " + std::to_string(rows()) + "x" + std::to_string(cols()) + " (" +
               with_commas(bytes_) + " bytes)";
    }

    void read_header() {
        std::array<unsigned char, 16> h{};
        const std::size_t want = header_bytes();
        const std::size_t got = read_some(h.data(), want);
        const std::string holds = std::string(gzip_ ? "decompresses to" : "holds") + " only " +
                                  std::to_string(got) + " bytes" + gz_status() + ", ";
        if (got < 4) fail(holds + "too short for an IDX header; " + idx_truncated_hint());
        check_magic(h[0], h[1], h[2], h[3]);
        if (got < want)
            fail(holds + "shorter than the " + std::to_string(want) + "-byte IDX header; " + idx_truncated_hint());

        dims_ = {1, 1, 1};
        for (int d = 0; d < expected_dims(); ++d) {
            const unsigned char* p = h.data() + 4 + 4 * d;
            dims_[static_cast<std::size_t>(d)] = (std::uint64_t(p[0]) << 24) | (std::uint64_t(p[1]) << 16) |
                                                 (std::uint64_t(p[2]) << 8) | std::uint64_t(p[3]);
        }
        static const char* const names[] = {"count", "rows", "cols"};
        for (int d = 0; d < expected_dims(); ++d)
            if (dims_[static_cast<std::size_t>(d)] == 0)
                fail(std::string("header gives ") + names[d] + " = 0; an IDX file with data needs every size >= 1 "
                     "— the header is corrupt");

        // Each size is < 2^32, so count*rows fits in 64 bits; only the last product can overflow.
        const std::uint64_t per_count = rows() * cols();
        const std::uint64_t limit =
            std::min<std::uint64_t>(max_idx_bytes, std::numeric_limits<std::size_t>::max() / 2);
        if (per_count != 0 && count() > std::numeric_limits<std::uint64_t>::max() / per_count)
            fail("header sizes " + std::to_string(count()) + " x " + std::to_string(rows()) + " x " +
                 std::to_string(cols()) + " overflow 64 bits — the header is corrupt");
        bytes_ = count() * per_count;
        if (bytes_ > limit)
            fail("header says " + what_declared() + ", more than the " + with_commas(limit) +
                 " bytes vaelet reads from one IDX file — the header is probably corrupt");

        if (!gzip_) {
            const std::uint64_t after = file_size_ - want;
            if (after < bytes_)
                fail("header says " + what_declared() + " but the file holds only " + with_commas(after) +
                     " bytes after the header; " + idx_truncated_hint());
            if (after > bytes_)
                fail("header says " + what_declared() + " but the file holds " + with_commas(after) +
                     " bytes after the header; the header and the data disagree — the file is corrupt or not "
                     "what its name says");
        }
    }

    void check_magic(unsigned char b0, unsigned char b1, unsigned char type, unsigned char ndims) const {
        const char* expected = kind_ == IdxKind::images ? "0x00000803 (unsigned-byte images, 3 dimensions)"
                                                        : "0x00000801 (unsigned-byte labels, 1 dimension)";
        const std::string found =
            hex_byte(b0) + hex_byte(b1).substr(2) + hex_byte(type).substr(2) + hex_byte(ndims).substr(2);
        if (b0 != 0 || b1 != 0) fail("not an IDX file: magic is " + found + ", expected " + expected);
        if (type != 0x08)
            fail("IDX element type " + hex_byte(type) + " is not supported (magic " + found +
                 "); vaelet reads unsigned-byte IDX files, magic " + expected);
        if (ndims != expected_dims()) {
            std::string hint;
            if (kind_ == IdxKind::images && ndims == 1) hint = "; this looks like a label file — are the image "
                                                               "and label paths swapped?";
            if (kind_ == IdxKind::labels && ndims == 3) hint = "; this looks like an image file — are the image "
                                                               "and label paths swapped?";
            fail("magic " + found + " says " + std::to_string(ndims) + " dimensions, expected " +
                 expected + hint);
        }
    }

    [[noreturn]] void fail_short(std::uint64_t got, const std::string& zlib_status) const {
        fail("header says " + what_declared() + " but the " + (gzip_ ? "decompressed " : "") + "file holds only " +
             with_commas(got) + " bytes after the header" + zlib_status + "; " + idx_truncated_hint());
    }

    std::size_t read_some(unsigned char* buf, std::size_t n) {
        return gzip_ ? gz_read(buf, n) : std::fread(buf, 1, n, file_.get());
    }

#ifdef VAELET_HAVE_ZLIB
    struct GzCloser {
        void operator()(gzFile_s* g) const { gzclose(g); }
    };

    void open_gzip() {
        file_.reset();
        gz_.reset(gzopen(name_.c_str(), "rb"));
        if (!gz_) fail(std::string("cannot open as gzip (") + std::strerror(errno) + ")");
        gzbuffer(gz_.get(), 1 << 17);
    }

    std::size_t gz_read(void* buf, std::size_t n) {
        const int got = gzread(gz_.get(), buf, static_cast<unsigned>(n));
        if (got < 0) fail("the gzip data is corrupt" + gz_status() + "; download the file again (scripts/get-data)");
        return static_cast<std::size_t>(got);
    }

    /// " (zlib: message)" when zlib reports a problem, else "".
    std::string gz_status() const {
        if (!gz_) return {};
        int code = Z_OK;
        std::string msg = gzerror(gz_.get(), &code);
        if (code == Z_OK || code == Z_STREAM_END) return {};
        if (msg.rfind(name_ + ": ", 0) == 0) msg.erase(0, name_.size() + 2);  // zlib prefixes the path
        return " (zlib: " + msg + ")";
    }

    std::unique_ptr<gzFile_s, GzCloser> gz_;
#else
    [[noreturn]] void open_gzip() const {
        fail("is gzip-compressed, but vaelet was built without zlib (VAELET_HAVE_ZLIB is not defined); "
             "unpack it with `gunzip -k` or rebuild with zlib");
    }
    [[noreturn]] std::size_t gz_read(void*, std::size_t) const { open_gzip(); }
    std::string gz_status() const { return {}; }
#endif

    std::string name_;
    IdxKind kind_;
    std::unique_ptr<std::FILE, FileCloser> file_;
    bool gzip_ = false;
    std::uint64_t file_size_ = 0;
    std::array<std::uint64_t, 3> dims_{};
    std::uint64_t bytes_ = 0;
};

inline void write_be32(AtomicWriter& out, std::uint64_t v) {
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    out.write(b, 4);
}

inline void check_fits_idx(const std::filesystem::path& path, Index n) {
    if (static_cast<std::uint64_t>(n) > 0xffffffffu)
        throw config_error(path.string() + ": " + std::to_string(n) + " items do not fit an IDX size (at most 2^32-1)");
}

}  // namespace detail

/// Reads an IDX image file (magic 0x00000803, raw or .gz) into an unlabelled Dataset.
inline Dataset read_idx_images(const std::filesystem::path& path) {
    detail::IdxReader in(path, detail::IdxKind::images);
    return Dataset(in.read_data(), static_cast<Index>(in.rows()), static_cast<Index>(in.cols()));
}

/// Reads an IDX label file (magic 0x00000801, raw or .gz): one byte per example.
inline std::vector<std::uint8_t> read_idx_labels(const std::filesystem::path& path) {
    detail::IdxReader in(path, detail::IdxKind::labels);
    return in.read_data();
}

/// Reads an image file and its label file; both headers (and the counts agreeing) are checked before
/// either file's data is read.
inline Dataset load_idx_pair(const std::filesystem::path& images_path, const std::filesystem::path& labels_path) {
    detail::IdxReader images(images_path, detail::IdxKind::images);
    detail::IdxReader labels(labels_path, detail::IdxKind::labels);
    if (images.count() != labels.count())
        throw io_error(images.name() + " holds " + detail::with_commas(images.count()) + " images but " +
                       labels.name() + " holds " + detail::with_commas(labels.count()) +
                       " labels; the two files must be the same split of the same dataset");
    auto pixels = images.read_data();
    return Dataset(std::move(pixels), static_cast<Index>(images.rows()), static_cast<Index>(images.cols()),
                   labels.read_data());
}

/// Loads the "train" or "test" split of MNIST (or Fashion-MNIST) from `dir`, where the files carry their
/// canonical names — train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
/// t10k-labels-idx1-ubyte — each raw or with .gz (the raw one is used when both are there).
inline Dataset load_mnist(const std::filesystem::path& dir, const std::string& split) {
    if (split != "train" && split != "test")
        throw config_error("load_mnist: split is \"" + split + "\"; use \"train\" or \"test\"");
    const std::string prefix = split == "train" ? "train" : "t10k";
    const std::string fix = "; run `scripts/get-data mnist " + dir.string() + "` (or `scripts/get-data fashion " +
                            dir.string() + "`) to fetch them";
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw io_error(dir.string() + ": not found or not a directory, so no MNIST " + split + " files" + fix);

    std::string missing;
    auto find = [&](const std::string& stem) {
        const auto raw = dir / stem;
        const auto gz = dir / (stem + ".gz");
        if (std::filesystem::exists(raw, ec)) return raw;
        if (std::filesystem::exists(gz, ec)) return gz;
        missing += (missing.empty() ? "" : ", ") + raw.string() + " or " + gz.string();
        return raw;
    };
    const auto images = find(prefix + "-images-idx3-ubyte");
    const auto labels = find(prefix + "-labels-idx1-ubyte");
    if (!missing.empty())
        throw io_error(dir.string() + ": MNIST " + split + " files missing; looked for " + missing + fix);
    return load_idx_pair(images, labels);
}

/// Writes the images of `data` as a raw IDX image file (magic 0x00000803), atomically.
inline void write_idx_images(const std::filesystem::path& path, const Dataset& data) {
    if (data.holds_floats())
        throw config_error(path.string() + ": IDX images are bytes, but this dataset holds float features");
    detail::check_fits_idx(path, data.size());
    detail::check_fits_idx(path, data.rows());
    detail::check_fits_idx(path, data.cols());
    AtomicWriter out(path.string());
    detail::write_be32(out, 0x00000803);
    detail::write_be32(out, static_cast<std::uint64_t>(data.size()));
    detail::write_be32(out, static_cast<std::uint64_t>(data.rows()));
    detail::write_be32(out, static_cast<std::uint64_t>(data.cols()));
    out.write(data.pixels().data(), data.pixels().size());
    out.commit();
}

/// Writes `labels` as a raw IDX label file (magic 0x00000801), atomically.
inline void write_idx_labels(const std::filesystem::path& path, const std::vector<std::uint8_t>& labels) {
    detail::check_fits_idx(path, static_cast<Index>(labels.size()));
    AtomicWriter out(path.string());
    detail::write_be32(out, 0x00000801);
    detail::write_be32(out, labels.size());
    out.write(labels.data(), labels.size());
    out.commit();
}

}  // namespace vaelet
