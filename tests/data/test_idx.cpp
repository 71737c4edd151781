// Tests for vaelet/data/idx.hpp (and the Dataset it returns): good files raw and gzip, and every way a
// file can be wrong — each must give an io_error whose message says what is wrong.
#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include "vaelet/data/idx.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#ifdef VAELET_HAVE_ZLIB
#include <zlib.h>
#endif

namespace fs = std::filesystem;
using vaelet::Dataset;
using vaelet::Index;
using Bytes = std::vector<std::uint8_t>;

using vaelet::testing::TempDir;  // mkdtemp: parallel test processes never share one

namespace {

void write_bytes(const fs::path& p, const Bytes& bytes) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

void put_be32(Bytes& b, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}

/// An IDX image file: header declaring n × rows × cols, followed by `data_bytes` bytes (value i % 251).
Bytes image_file(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, std::size_t data_bytes,
                 std::uint32_t magic = 0x00000803) {
    Bytes b;
    put_be32(b, magic);
    put_be32(b, n);
    put_be32(b, rows);
    put_be32(b, cols);
    for (std::size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<std::uint8_t>(i % 251));
    return b;
}

Bytes label_file(std::uint32_t n, std::size_t data_bytes) {
    Bytes b;
    put_be32(b, 0x00000801);
    put_be32(b, n);
    for (std::size_t i = 0; i < data_bytes; ++i) b.push_back(static_cast<std::uint8_t>(i % 10));
    return b;
}

/// A small labelled dataset: 5 images of 3×4 with distinct pixels, labels 0..4.
Dataset small_dataset() {
    Bytes pixels(5 * 12);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 4 + 1);
    return Dataset(pixels, 3, 4, Bytes{0, 1, 2, 3, 4});
}

/// Runs `f`, requires a vaelet::io_error, and returns its message.
template <class F>
std::string io_message(F f) {
    try {
        f();
    } catch (const vaelet::io_error& e) {
        return e.what();
    }
    FAIL("expected vaelet::io_error");
    return {};
}

bool has(const std::string& message, const std::string& part) {
    if (message.find(part) != std::string::npos) return true;
    MESSAGE("message: " << message << "\nlacks: " << part);
    return false;
}

#ifdef VAELET_HAVE_ZLIB
Bytes read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Bytes gzip(const Bytes& raw) {
    uLongf size = compressBound(static_cast<uLong>(raw.size())) + 32;
    Bytes out(size);
    z_stream z{};
    REQUIRE(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);  // +16: gzip wrapper
    z.next_in = const_cast<Bytef*>(raw.data());
    z.avail_in = static_cast<uInt>(raw.size());
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    REQUIRE(deflate(&z, Z_FINISH) == Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}
#endif

}  // namespace

TEST_CASE("write then read raw IDX images and labels") {
    TempDir dir;
    const Dataset d = small_dataset();
    vaelet::write_idx_images(dir / "x-idx3-ubyte", d);
    vaelet::write_idx_labels(dir / "y-idx1-ubyte", d.labels());
    CHECK_FALSE(fs::exists(dir / "x-idx3-ubyte.tmp"));
    CHECK(fs::file_size(dir / "x-idx3-ubyte") == 16 + 60);
    CHECK(fs::file_size(dir / "y-idx1-ubyte") == 8 + 5);

    const Dataset back = vaelet::load_idx_pair(dir / "x-idx3-ubyte", dir / "y-idx1-ubyte");
    CHECK(back.size() == 5);
    CHECK(back.rows() == 3);
    CHECK(back.cols() == 4);
    CHECK(back.features() == 12);
    CHECK(back.pixels() == d.pixels());
    CHECK(back.labels() == d.labels());

    const Dataset images = vaelet::read_idx_images(dir / "x-idx3-ubyte");
    CHECK(images.size() == 5);
    CHECK_FALSE(images.has_labels());
    CHECK(vaelet::read_idx_labels(dir / "y-idx1-ubyte") == d.labels());
}

TEST_CASE("write_idx replaces an existing file") {
    TempDir dir;
    write_bytes(dir / "y", Bytes(100, 7));
    vaelet::write_idx_labels(dir / "y", Bytes{1, 2, 3});
    CHECK(vaelet::read_idx_labels(dir / "y") == Bytes{1, 2, 3});
    CHECK_FALSE(fs::exists(dir / "y.tmp"));
}

TEST_CASE("a header that promises more than the file holds says truncated") {
    TempDir dir;
    write_bytes(dir / "train-images-idx3-ubyte", image_file(60000, 28, 28, 1000));
    const auto m = io_message([&] { vaelet::read_idx_images(dir / "train-images-idx3-ubyte"); });
    CHECK(has(m, "train-images-idx3-ubyte"));
    CHECK(has(m, "60,000 images of 28x28 (47,040,000 bytes)"));
    CHECK(has(m, "only 1,000 bytes after the header"));
    CHECK(has(m, "truncated"));
    CHECK(has(m, "scripts/get-data"));

    write_bytes(dir / "labels", label_file(10, 9));
    CHECK(has(io_message([&] { vaelet::read_idx_labels(dir / "labels"); }), "truncated"));
}

TEST_CASE("bytes beyond what the header declares are an error") {
    TempDir dir;
    write_bytes(dir / "x", image_file(2, 2, 2, 9));
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "x"); }), "disagree"));
}

TEST_CASE("a file shorter than its header is truncated") {
    TempDir dir;
    write_bytes(dir / "tiny", Bytes{0, 0});
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "tiny"); }), "too short"));
    write_bytes(dir / "half", Bytes{0, 0, 8, 3, 0, 0, 0, 1});
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "half"); }), "shorter than the 16-byte"));
    write_bytes(dir / "empty", Bytes{});
    CHECK(has(io_message([&] { vaelet::read_idx_labels(dir / "empty"); }), "truncated"));
}

TEST_CASE("wrong magic numbers are named") {
    TempDir dir;
    write_bytes(dir / "text", Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!'});
    const auto m = io_message([&] { vaelet::read_idx_images(dir / "text"); });
    CHECK(has(m, "not an IDX file"));
    CHECK(has(m, "0x68656c6c"));
    CHECK(has(m, "0x00000803"));

    write_bytes(dir / "floats", image_file(1, 1, 1, 4, 0x00000d03));
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "floats"); }), "element type 0x0d is not supported"));

    write_bytes(dir / "labels", label_file(4, 4));
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "labels"); }), "swapped"));
    write_bytes(dir / "images", image_file(1, 2, 2, 4));
    CHECK(has(io_message([&] { vaelet::read_idx_labels(dir / "images"); }), "swapped"));
}

TEST_CASE("absurd dimensions are rejected before any allocation") {
    TempDir dir;
    write_bytes(dir / "overflow", image_file(0xffffffffu, 0xffffffffu, 0xffffffffu, 16));
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "overflow"); }), "overflow 64 bits"));

    write_bytes(dir / "huge", image_file(100000, 1000, 1000, 16));  // 100 GB
    const auto m = io_message([&] { vaelet::read_idx_images(dir / "huge"); });
    CHECK(has(m, "more than the 4,294,967,296 bytes"));
    CHECK(has(m, "corrupt"));

    write_bytes(dir / "zero", image_file(3, 0, 28, 0));
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "zero"); }), "rows = 0"));
    write_bytes(dir / "no-labels", label_file(0, 0));
    CHECK(has(io_message([&] { vaelet::read_idx_labels(dir / "no-labels"); }), "count = 0"));
}

TEST_CASE("image and label counts must agree") {
    TempDir dir;
    write_bytes(dir / "x", image_file(3, 2, 2, 12));
    write_bytes(dir / "y", label_file(4, 4));
    const auto m = io_message([&] { vaelet::load_idx_pair(dir / "x", dir / "y"); });
    CHECK(has(m, "3 images"));
    CHECK(has(m, "4 labels"));
    CHECK(has(m, "same split"));
}

TEST_CASE("missing files and directories get clear messages") {
    TempDir dir;
    const auto missing = io_message([&] { vaelet::read_idx_images(dir / "nope"); });
    CHECK(has(missing, "nope"));
    CHECK(has(missing, "no such file"));
    CHECK(has(io_message([&] { vaelet::read_idx_labels(dir.path); }), "is a directory"));
}

TEST_CASE("load_mnist finds the canonical names and says how to get them") {
    TempDir dir;
    const Dataset d = small_dataset();
    vaelet::write_idx_images(dir / "t10k-images-idx3-ubyte", d);
    vaelet::write_idx_labels(dir / "t10k-labels-idx1-ubyte", d.labels());
    const Dataset test = vaelet::load_mnist(dir.path, "test");
    CHECK(test.size() == 5);
    CHECK(test.labels() == d.labels());

    const auto m = io_message([&] { vaelet::load_mnist(dir.path, "train"); });
    CHECK(has(m, "train-images-idx3-ubyte"));
    CHECK(has(m, "train-images-idx3-ubyte.gz"));
    CHECK(has(m, "scripts/get-data mnist " + dir.path.string()));

    CHECK(has(io_message([&] { vaelet::load_mnist(dir / "absent", "test"); }), "scripts/get-data mnist"));
    CHECK_THROWS_AS(vaelet::load_mnist(dir.path, "validation"), vaelet::config_error);
}

#ifdef VAELET_HAVE_ZLIB

TEST_CASE("gzip files are read whatever their name") {
    TempDir dir;
    const Dataset d = small_dataset();
    vaelet::write_idx_images(dir / "raw-x", d);
    vaelet::write_idx_labels(dir / "raw-y", d.labels());
    write_bytes(dir / "train-images-idx3-ubyte.gz", gzip(read_bytes(dir / "raw-x")));
    write_bytes(dir / "train-labels-idx1-ubyte.gz", gzip(read_bytes(dir / "raw-y")));
    write_bytes(dir / "no-extension", gzip(read_bytes(dir / "raw-x")));

    const Dataset train = vaelet::load_mnist(dir.path, "train");
    CHECK(train.pixels() == d.pixels());
    CHECK(train.labels() == d.labels());
    CHECK(vaelet::read_idx_images(dir / "no-extension").pixels() == d.pixels());
}

TEST_CASE("broken gzip files are truncated, lying or overlong") {
    TempDir dir;
    const Bytes packed = gzip(image_file(200, 28, 28, 200 * 784));
    write_bytes(dir / "cut.gz", Bytes(packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(packed.size() / 2)));
    const auto cut = io_message([&] { vaelet::read_idx_images(dir / "cut.gz"); });
    CHECK(has(cut, "cut.gz"));
    CHECK(has(cut, "truncated"));

    write_bytes(dir / "lying.gz", gzip(image_file(60000, 28, 28, 5000)));
    const auto lying = io_message([&] { vaelet::read_idx_images(dir / "lying.gz"); });
    CHECK(has(lying, "decompressed file holds only 5,000 bytes"));
    CHECK(has(lying, "truncated"));

    write_bytes(dir / "long.gz", gzip(label_file(3, 4)));
    CHECK(has(io_message([&] { vaelet::read_idx_labels(dir / "long.gz"); }), "more bytes"));

    write_bytes(dir / "huge.gz", gzip(image_file(100000, 1000, 1000, 64)));
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "huge.gz"); }), "4,294,967,296"));

    Bytes garbled = gzip(image_file(100, 28, 28, 100 * 784));
    for (std::size_t i = 20; i < garbled.size() - 8; i += 7) garbled[i] ^= 0x5a;
    write_bytes(dir / "garbled.gz", garbled);
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "garbled.gz"); }), "garbled.gz"));
}

#else

TEST_CASE("without zlib a gzip file says so") {
    TempDir dir;
    write_bytes(dir / "x.gz", Bytes{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3});
    CHECK(has(io_message([&] { vaelet::read_idx_images(dir / "x.gz"); }), "built without zlib"));
}

#endif

TEST_CASE("Dataset checks its shape") {
    CHECK_THROWS_AS(Dataset(Bytes(10), 3, 3), vaelet::shape_error);
    CHECK_THROWS_AS(Dataset(Bytes(18), 3, 3, Bytes{1}), vaelet::shape_error);
    CHECK_THROWS_AS(Dataset(Bytes(9), 0, 3), vaelet::shape_error);
    const Dataset unlabelled(Bytes(18), 3, 3);
    CHECK(unlabelled.size() == 2);
    CHECK_THROWS_AS(unlabelled.label(0), vaelet::config_error);
    CHECK_THROWS_AS(unlabelled.select_labels({1}), vaelet::config_error);
    CHECK(Dataset().size() == 0);
}

TEST_CASE("Dataset subsets keep images and labels together") {
    const Dataset d = small_dataset();
    CHECK(d.image(2)[0] == d.pixels()[24]);
    CHECK(d.label(4) == 4);
    CHECK_THROWS_AS(d.image(5), vaelet::config_error);

    const Dataset picked = d.subset({4, 0, 4});
    REQUIRE(picked.size() == 3);
    CHECK(picked.labels() == Bytes{4, 0, 4});
    CHECK(std::equal(picked.image(0), picked.image(0) + 12, d.image(4)));
    CHECK(std::equal(picked.image(1), picked.image(1) + 12, d.image(0)));
    CHECK_THROWS_AS(d.subset({7}), vaelet::config_error);

    CHECK(d.select_labels({1, 3}).labels() == Bytes{1, 3});
    const Dataset rest = d.exclude_labels({1, 3});
    CHECK(rest.labels() == Bytes{0, 2, 4});
    CHECK(std::equal(rest.image(1), rest.image(1) + 12, d.image(2)));
    CHECK(d.indices_where([](std::uint8_t l) { return l % 2 == 0; }) == std::vector<Index>{0, 2, 4});
    CHECK(d.head(2).labels() == Bytes{0, 1});
    CHECK(d.head(99).size() == 5);
}
