/// \file
/// vaelet/io/image.hpp — 8-bit images, a grid of tiles from a batch of flattened images, and PNG files.
///
///     vaelet::Image grid = vaelet::make_grid(x_hat, 28, 28, 8);   // each row of x_hat (values in [0, 1]) is a tile
///     vaelet::save_png("samples.png", grid);                      // atomic: samples.png.tmp, then rename
///     std::string png = vaelet::encode_png(grid);                 // or the PNG bytes in memory
///
/// PNG encoding uses stb_image_write (Debian: libstb-dev) compiled with STB_IMAGE_WRITE_STATIC, so every
/// translation unit that includes this header gets its own private copy: no program needs to define
/// STB_IMAGE_WRITE_IMPLEMENTATION, and there are no duplicate symbols. A file that also uses stb_image_write itself
/// must include it after this header and without STB_IMAGE_WRITE_IMPLEMENTATION (this header then provides it).
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#if defined(INCLUDE_STB_IMAGE_WRITE_H) || defined(STB_IMAGE_WRITE_IMPLEMENTATION)
#error "vaelet/io/image.hpp brings its own private stb_image_write: include it first, and do not define STB_IMAGE_WRITE_IMPLEMENTATION in this file"
#endif
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
// stb's own code is not ours to fix: keep -Wall -Wextra quiet when it is found outside the system include paths.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"  // we use only stbi_write_png_to_func of the static copy
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#if __has_include(<stb/stb_image_write.h>)
#include <stb/stb_image_write.h>
#else
#include <stb_image_write.h>
#endif
#pragma GCC diagnostic pop
#undef STB_IMAGE_WRITE_IMPLEMENTATION
#undef STB_IMAGE_WRITE_STATIC

namespace vaelet {

/// An 8-bit image: `channels` is 1 (gray) or 3 (RGB); `pixels` holds rows top to bottom, each pixel's channels
/// together (width * height * channels bytes).
struct Image {
    int width = 0;                     ///< in pixels
    int height = 0;                    ///< in pixels
    int channels = 1;                  ///< 1 (gray) or 3 (RGB)
    std::vector<std::uint8_t> pixels;  ///< width * height * channels bytes, rows top to bottom

    Image() = default;
    /// A width × height image with every byte set to `fill` (0 black, 255 white).
    Image(int w, int h, int c, std::uint8_t fill = 0) : width(w), height(h), channels(c) {
        if (width <= 0 || height <= 0 || (channels != 1 && channels != 3))
            throw config_error("Image " + std::to_string(width) + "x" + std::to_string(height) + " with " +
                               std::to_string(channels) + " channels: sizes must be positive and channels 1 or 3");
        pixels.assign(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * channels, fill);
    }

    /// The first channel of pixel (x, y); x counts columns from the left, y rows from the top.
    std::uint8_t* at(int x, int y) { return pixels.data() + (static_cast<std::size_t>(y) * width + x) * channels; }
    /// The same, read-only.
    const std::uint8_t* at(int x, int y) const {
        return pixels.data() + (static_cast<std::size_t>(y) * width + x) * channels;
    }
};

/// Lays the rows of `images` out as img_h × img_w gray tiles, `grid_cols` per row of the grid (fewer if there
/// are fewer images), `padding` pixels of mid-gray between and around them. Values are clamped to [0, 1] and
/// mapped to 0..255; NaN is a numeric_error naming the row.
template <class Derived>
Image make_grid(const Eigen::MatrixBase<Derived>& images, int img_h, int img_w, int grid_cols, int padding = 2) {
    if (img_h <= 0 || img_w <= 0 || grid_cols <= 0 || padding < 0)
        throw config_error("make_grid: img_h, img_w and grid_cols must be positive and padding not negative (got " +
                           std::to_string(img_h) + ", " + std::to_string(img_w) + ", " + std::to_string(grid_cols) +
                           ", " + std::to_string(padding) + ")");
    if (images.rows() == 0 || images.cols() != Index(img_h) * img_w)
        throw shape_error("make_grid: images are " + shape_string(images) + ", but tiles of " +
                          std::to_string(img_h) + "x" + std::to_string(img_w) + " need at least one row of " +
                          std::to_string(Index(img_h) * img_w) + " values");
    const int n = static_cast<int>(images.rows());
    const int cols = std::min(grid_cols, n);
    const int rows = (n + cols - 1) / cols;
    Image grid(cols * (img_w + padding) + padding, rows * (img_h + padding) + padding, 1, 128);
    for (int i = 0; i < n; ++i) {
        const int left = padding + (i % cols) * (img_w + padding);
        const int top = padding + (i / cols) * (img_h + padding);
        for (int y = 0; y < img_h; ++y)
            for (int x = 0; x < img_w; ++x) {
                const double v = static_cast<double>(images(i, Index(y) * img_w + x));
                if (std::isnan(v))
                    throw numeric_error("make_grid: row " + std::to_string(i) + " has NaN at pixel " +
                                        std::to_string(y * img_w + x) + "; the model output is not finite");
                *grid.at(left + x, top + y) = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
            }
    }
    return grid;
}

/// The PNG file bytes of `image`.
inline std::string encode_png(const Image& image) {
    if (image.width <= 0 || image.height <= 0 || (image.channels != 1 && image.channels != 3) ||
        image.pixels.size() != static_cast<std::size_t>(image.width) * image.height * image.channels)
        throw config_error("encode_png: the image is " + std::to_string(image.width) + "x" +
                           std::to_string(image.height) + " with " + std::to_string(image.channels) + " channels and " +
                           std::to_string(image.pixels.size()) + " bytes; it needs positive sizes, 1 or 3 channels "
                           "and width * height * channels bytes");
    std::string png;
    const auto append = [](void* context, void* data, int size) {
        static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<std::size_t>(size));
    };
    if (!stbi_write_png_to_func(append, &png, image.width, image.height, image.channels, image.pixels.data(),
                                image.width * image.channels))
        throw error("encode_png: stb_image_write failed for a " + std::to_string(image.width) + "x" +
                    std::to_string(image.height) + " image (out of memory?)");
    return png;
}

/// Writes `image` as a PNG file, atomically (path.tmp, then rename). Throws io_error naming the path.
inline void save_png(const std::string& path, const Image& image) { write_file_atomic(path, encode_png(image)); }

}  // namespace vaelet
