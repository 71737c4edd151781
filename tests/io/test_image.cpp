#include "vaelet/io/image.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

// A private copy of stb_image, only to decode what we wrote.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC only; clang has no such group
#endif
#if __has_include(<stb/stb_image.h>)
#include <stb/stb_image.h>
#else
#include <stb_image.h>
#endif
#pragma GCC diagnostic pop

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace fs = std::filesystem;

using vaelet::testing::TempDir;

namespace {

std::uint32_t big_endian_u32(const std::string& bytes, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
    return v;
}

// The pixels stb_image decodes from `png`, which must have the size and channels of `expected`.
std::vector<std::uint8_t> decode(const std::string& png, const vaelet::Image& expected) {
    int w = 0, h = 0, c = 0;
    stbi_uc* data = stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(png.data()), static_cast<int>(png.size()),
                                          &w, &h, &c, 0);
    REQUIRE(data != nullptr);
    CHECK(w == expected.width);
    CHECK(h == expected.height);
    CHECK(c == expected.channels);
    std::vector<std::uint8_t> pixels(data, data + static_cast<std::size_t>(w) * h * c);
    stbi_image_free(data);
    return pixels;
}

}  // namespace

TEST_CASE_TEMPLATE("make_grid lays rows out as tiles, clamps to [0, 1] and pads in gray", T, float, double) {
    // Five 2×3 images, two per grid row, padding 1: a 9 × 10 grid with the sixth slot empty.
    vaelet::Matrix<T> images(5, 6);
    for (int i = 0; i < 5; ++i)
        for (int p = 0; p < 6; ++p) images(i, p) = T(i * 6 + p) / T(29);
    images(0, 0) = T(-0.5);
    images(0, 1) = T(1.7);
    images(0, 2) = T(0.5);
    images(4, 5) = std::numeric_limits<T>::infinity();

    const vaelet::Image grid = vaelet::make_grid(images, 2, 3, 2, 1);
    CHECK(grid.width == 2 * (3 + 1) + 1);
    CHECK(grid.height == 3 * (2 + 1) + 1);
    CHECK(grid.channels == 1);
    CHECK(*grid.at(0, 0) == 128);                  // padding
    CHECK(*grid.at(1, 1) == 0);                    // image 0, pixel (0, 0): -0.5 clamped
    CHECK(*grid.at(2, 1) == 255);                  // pixel (1, 0): 1.7 clamped
    CHECK(*grid.at(3, 1) == 128);                  // 0.5 → 127.5 rounds to 128
    CHECK(*grid.at(4, 1) == 128);                  // the padding column between tiles
    const int left1 = 1 + 3 + 1, top2 = 1 + 2 * (2 + 1);
    CHECK(*grid.at(left1 + 2, 2) == std::lround(11.0 / 29 * 255));  // image 1, pixel (2, 1)
    CHECK(*grid.at(1 + 2, top2 + 1) == 255);        // image 4, last pixel: +inf clamped
    CHECK(*grid.at(left1 + 1, top2) == 128);        // the empty sixth slot stays gray

    const vaelet::Image one_row = vaelet::make_grid(images.topRows(2), 2, 3, 8, 0);
    CHECK(one_row.width == 6);
    CHECK(one_row.height == 2);
}

TEST_CASE("make_grid rejects wrong sizes, bad arguments and NaN") {
    vaelet::Matrix<float> images = vaelet::Matrix<float>::Zero(3, 4);
    CHECK_THROWS_AS(vaelet::make_grid(images, 2, 3, 2), vaelet::shape_error);
    CHECK_THROWS_AS(vaelet::make_grid(vaelet::Matrix<float>(0, 4), 2, 2, 2), vaelet::shape_error);
    CHECK_THROWS_AS(vaelet::make_grid(images, 2, 2, 0), vaelet::config_error);
    CHECK_THROWS_AS(vaelet::make_grid(images, 2, 2, 2, -1), vaelet::config_error);
    images(2, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(vaelet::make_grid(images, 2, 2, 2), "make_grid: row 2 has NaN at pixel 1; the model output "
                                                              "is not finite", vaelet::numeric_error);
    CHECK_THROWS_AS(vaelet::Image(0, 5, 1), vaelet::config_error);
    CHECK_THROWS_AS(vaelet::Image(5, 5, 2), vaelet::config_error);
}

TEST_CASE("encode_png writes a PNG with the right header that decodes to the same pixels") {
    vaelet::Image gray(7, 5, 1);
    for (std::size_t i = 0; i < gray.pixels.size(); ++i) gray.pixels[i] = static_cast<std::uint8_t>(i * 7);
    vaelet::Image rgb(4, 3, 3, 255);
    rgb.at(1, 2)[0] = 10;
    rgb.at(1, 2)[1] = 20;
    rgb.at(1, 2)[2] = 30;

    const std::string png = vaelet::encode_png(gray);
    REQUIRE(png.size() > 33);
    CHECK(png.substr(0, 8) == "\x89PNG\r\n\x1a\n");
    CHECK(png.substr(12, 4) == "IHDR");
    CHECK(big_endian_u32(png, 16) == 7);
    CHECK(big_endian_u32(png, 20) == 5);
    CHECK(png[24] == 8);  // bit depth
    CHECK(png[25] == 0);  // color type: gray
    CHECK(decode(png, gray) == gray.pixels);

    const std::string png_rgb = vaelet::encode_png(rgb);
    CHECK(png_rgb[25] == 2);  // color type: RGB
    CHECK(decode(png_rgb, rgb) == rgb.pixels);

    vaelet::Image broken = gray;
    broken.pixels.resize(broken.pixels.size() - 1);  // (pop_back trips a GCC 12 -Warray-bounds false positive)
    CHECK_THROWS_AS(vaelet::encode_png(broken), vaelet::config_error);
}

TEST_CASE("save_png writes the encoded bytes atomically") {
    TempDir dir;
    vaelet::Matrix<double> images = vaelet::Matrix<double>::Constant(4, 9, 0.25);
    const vaelet::Image grid = vaelet::make_grid(images, 3, 3, 2);
    vaelet::save_png(dir / "grid.png", grid);
    std::ifstream in(dir / "grid.png", std::ios::binary);
    const std::string bytes(std::istreambuf_iterator<char>(in), {});
    CHECK(bytes == vaelet::encode_png(grid));
    CHECK_FALSE(fs::exists(dir / "grid.png.tmp"));
    CHECK_THROWS_AS(vaelet::save_png(dir / "missing/grid.png", grid), vaelet::io_error);
}
