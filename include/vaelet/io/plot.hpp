/// \file
/// vaelet/io/plot.hpp — a small line chart as an Image, e.g. the loss curves a trainer writes to loss.png.
///
///     auto chart = vaelet::line_chart({{"train", train_loss}, {"test", test_loss}}, {"negative ELBO"});
///     vaelet::save_png("loss.png", chart);   // 640×400 RGB: axes with numeric ticks, a legend, one colour per series
///
/// Self-contained: text uses a built-in 5×7 bitmap font (printable ASCII), lines are Bresenham's, two pixels wide.
#pragma once

#include "vaelet/core/error.hpp"
#include "vaelet/io/image.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace vaelet {

/// One named line. `x` may be left empty: then the points are at x = 1, 2, ..., y.size() (epochs).
struct Series {
    std::string name;            ///< shown in the legend
    std::vector<double> y;       ///< the values, one per point; at least one
    std::vector<double> x = {};  ///< as many as y, or empty for 1, 2, …
};

/// The frame of a line_chart. Text is drawn in printable ASCII (anything else shows as '?').
struct PlotOptions {
    std::string title;              ///< above the chart, twice the text size; none when empty
    std::string x_label = "epoch";  ///< below the x axis
    std::string y_label = "loss";   ///< above the y axis
    int width = 640;                ///< of the image in pixels, at least 160
    int height = 400;               ///< of the image in pixels, at least 120
};

namespace detail {

struct Rgb {
    std::uint8_t r, g, b;
};

// matplotlib's default colours ("tab10"), in order; series beyond ten reuse them.
inline constexpr Rgb plot_palette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                                       {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                                       {188, 189, 34}, {23, 190, 207}};

// A 5×7 font for ASCII 32..126: seven rows per glyph, top first; bit 4 is the leftmost column.
inline constexpr std::uint8_t font5x7[95][7] = {
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // ' '
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04},  // !
    {0x0A, 0x0A, 0x0A, 0x00, 0x00, 0x00, 0x00},  // "
    {0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A},  // #
    {0x04, 0x0F, 0x14, 0x0E, 0x05, 0x1E, 0x04},  // $
    {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03},  // %
    {0x0C, 0x12, 0x14, 0x08, 0x15, 0x12, 0x0D},  // &
    {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00},  // '
    {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02},  // (
    {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08},  // )
    {0x00, 0x04, 0x15, 0x0E, 0x15, 0x04, 0x00},  // *
    {0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00},  // +
    {0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08},  // ,
    {0x00, 0x00, 0x00, 0x1F, 0x00, 0x00, 0x00},  // -
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C},  // .
    {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00},  // /
    {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E},  // 0
    {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E},  // 1
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F},  // 2
    {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E},  // 3
    {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02},  // 4
    {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E},  // 5
    {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E},  // 6
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // 7
    {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E},  // 8
    {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C},  // 9
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00},  // :
    {0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x04, 0x08},  // ;
    {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02},  // <
    {0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00},  // =
    {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08},  // >
    {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04},  // ?
    {0x0E, 0x11, 0x01, 0x0D, 0x15, 0x15, 0x0E},  // @
    {0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11},  // A
    {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E},  // B
    {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E},  // C
    {0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C},  // D
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F},  // E
    {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10},  // F
    {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F},  // G
    {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11},  // H
    {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},  // I
    {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C},  // J
    {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11},  // K
    {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F},  // L
    {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11},  // M
    {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11},  // N
    {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},  // O
    {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10},  // P
    {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D},  // Q
    {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11},  // R
    {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E},  // S
    {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},  // T
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E},  // U
    {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04},  // V
    {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A},  // W
    {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11},  // X
    {0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04},  // Y
    {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F},  // Z
    {0x0E, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0E},  // [
    {0x00, 0x10, 0x08, 0x04, 0x02, 0x01, 0x00},  // backslash
    {0x0E, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0E},  // ]
    {0x04, 0x0A, 0x11, 0x00, 0x00, 0x00, 0x00},  // ^
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F},  // _
    {0x08, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00},  // `
    {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F},  // a
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E},  // b
    {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E},  // c
    {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F},  // d
    {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E},  // e
    {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08},  // f
    {0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E},  // g
    {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11},  // h
    {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E},  // i
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0C},  // j
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12},  // k
    {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E},  // l
    {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11},  // m
    {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11},  // n
    {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E},  // o
    {0x00, 0x00, 0x1E, 0x11, 0x1E, 0x10, 0x10},  // p
    {0x00, 0x00, 0x0D, 0x13, 0x0F, 0x01, 0x01},  // q
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10},  // r
    {0x00, 0x00, 0x0E, 0x10, 0x0E, 0x01, 0x1E},  // s
    {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06},  // t
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D},  // u
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04},  // v
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A},  // w
    {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11},  // x
    {0x00, 0x00, 0x11, 0x11, 0x0F, 0x01, 0x0E},  // y
    {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F},  // z
    {0x02, 0x04, 0x04, 0x08, 0x04, 0x04, 0x02},  // {
    {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04},  // |
    {0x08, 0x04, 0x04, 0x02, 0x04, 0x04, 0x08},  // }
    {0x00, 0x00, 0x00, 0x0D, 0x12, 0x00, 0x00},  // ~
};

inline void put_pixel(Image& img, int x, int y, Rgb c) {
    if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
    std::uint8_t* p = img.at(x, y);
    p[0] = c.r;
    p[1] = c.g;
    p[2] = c.b;
}

inline void fill_rect(Image& img, int x, int y, int w, int h, Rgb c) {
    for (int j = y; j < y + h; ++j)
        for (int i = x; i < x + w; ++i) put_pixel(img, i, j, c);
}

// Bresenham's line from (x0, y0) to (x1, y1), stamping a width × width square at each step.
inline void draw_line(Image& img, int x0, int y0, int x1, int y1, Rgb c, int width = 1) {
    const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
    const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    for (;;) {
        fill_rect(img, x0 - (width - 1) / 2, y0 - (width - 1) / 2, width, width, c);
        if (x0 == x1 && y0 == y1) return;
        const int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x0 += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y0 += sy;
        }
    }
}

// Pixels `text` takes across: 5 per glyph plus 1 between glyphs, times `scale`.
inline int text_width(std::string_view text, int scale = 1) {
    return text.empty() ? 0 : (6 * static_cast<int>(text.size()) - 1) * scale;
}

// Draws `text` with its top-left corner at (x, y); a glyph is 7 × scale pixels high. Non-ASCII shows as '?'.
inline void draw_text(Image& img, int x, int y, std::string_view text, Rgb c, int scale = 1) {
    for (const char ch : text) {
        const int code = static_cast<unsigned char>(ch);
        const auto& glyph = font5x7[(code >= 32 && code <= 126 ? code : '?') - 32];
        for (int row = 0; row < 7; ++row)
            for (int col = 0; col < 5; ++col)
                if (glyph[row] & (0x10 >> col)) fill_rect(img, x + col * scale, y + row * scale, scale, scale, c);
        x += 6 * scale;
    }
}

// An axis from `lo` to `hi` in round steps of 1, 2 or 5 × 10^k, about `ticks` of them, widened to whole steps.
struct Axis {
    double lo, hi, step;
};

inline Axis nice_axis(double lo, double hi, int ticks, bool whole_steps) {
    if (lo == hi) {  // a constant series: give it room instead of dividing by zero
        const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
        lo -= pad;
        hi += pad;
    }
    const double raw = hi / ticks - lo / ticks;  // written so that it cannot overflow
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    const double f = raw / magnitude;
    double step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
    if (whole_steps) step = std::max(step, 1.0);
    return {std::floor(lo / step) * step, std::ceil(hi / step) * step, step};
}

// Tick values from axis.lo to axis.hi; values within rounding noise of zero are exactly zero.
inline std::vector<double> axis_ticks(const Axis& axis) {
    std::vector<double> ticks;
    for (int k = 0; k <= 100; ++k) {
        double v = axis.lo + k * axis.step;
        if (v > axis.hi + axis.step * 1e-6) break;
        if (std::abs(v) < axis.step * 1e-6) v = 0;
        ticks.push_back(v);
    }
    return ticks;
}

// A tick label with as many decimals as the step needs ("0.5", "250"), or in e-notation for extreme scales.
inline std::string tick_label(double v, const Axis& axis) {
    char text[32];
    const double magnitude = std::max(std::abs(axis.lo), std::abs(axis.hi));
    if (axis.step >= 1e-3 && magnitude < 1e6) {
        const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(axis.step) - 1e-9)));
        std::snprintf(text, sizeof text, "%.*f", decimals, v);
    } else {
        const int digits = std::clamp(static_cast<int>(std::ceil(std::log10(magnitude / axis.step))) + 1, 2, 15);
        std::snprintf(text, sizeof text, "%.*g", digits, v);
    }
    return text;
}

}  // namespace detail

/// Draws `series` as lines on shared axes: white background, light grid, numeric ticks, a legend at the top
/// right, optional title and axis labels. Throws config_error for no series, an empty series or mismatched x and
/// y, and numeric_error naming the series and point for a NaN or infinite value.
inline Image line_chart(const std::vector<Series>& series, const PlotOptions& options = {}) {
    using detail::Rgb;
    if (options.width < 160 || options.height < 120)
        throw config_error("line_chart: " + std::to_string(options.width) + "x" + std::to_string(options.height) +
                           " is too small; use at least 160x120");
    if (series.empty()) throw config_error("line_chart: no series to draw");

    // Every point's coordinates, with x filled in where the series leaves it empty.
    std::vector<std::vector<double>> xs;
    const double inf = std::numeric_limits<double>::infinity();
    double xmin = inf, xmax = -inf, ymin = inf, ymax = -inf;
    bool whole_x = true;
    for (const auto& s : series) {
        if (s.y.empty()) throw config_error("line_chart: series \"" + s.name + "\" has no points");
        if (!s.x.empty() && s.x.size() != s.y.size())
            throw config_error("line_chart: series \"" + s.name + "\" has " + std::to_string(s.x.size()) +
                               " x values but " + std::to_string(s.y.size()) + " y values");
        std::vector<double> x = s.x;
        for (std::size_t i = 0; x.size() < s.y.size(); ++i) x.push_back(static_cast<double>(i + 1));
        for (std::size_t i = 0; i < x.size(); ++i) {
            if (!std::isfinite(x[i]) || !std::isfinite(s.y[i]))
                throw numeric_error("line_chart: series \"" + s.name + "\" has a non-finite value at point " +
                                    std::to_string(i) + " (x = " + std::to_string(x[i]) + ", y = " +
                                    std::to_string(s.y[i]) + "); only finite values can be plotted");
            xmin = std::min(xmin, x[i]);
            xmax = std::max(xmax, x[i]);
            ymin = std::min(ymin, s.y[i]);
            ymax = std::max(ymax, s.y[i]);
            whole_x = whole_x && x[i] == std::floor(x[i]);
        }
        xs.push_back(std::move(x));
    }

    const Rgb black{0, 0, 0}, gray{110, 110, 110}, light{228, 228, 228};
    const int width = options.width, height = options.height;
    Image img(width, height, 3, 255);

    // The y tick labels decide the left margin; the rest is fixed.
    const int top = options.title.empty() ? 30 : 42, bottom = height - 40, right = width - 20;
    const double margin = ymax * 0.02 - ymin * 0.02;  // keeps lines off the frame; written not to overflow
    const detail::Axis yaxis = detail::nice_axis(ymin - margin, ymax + margin, std::max(2, (bottom - top) / 50), false);
    const std::vector<double> yticks = detail::axis_ticks(yaxis);
    int label_width = 0;
    for (const double v : yticks) label_width = std::max(label_width, detail::text_width(detail::tick_label(v, yaxis)));
    const int left = 12 + label_width + 6;
    const detail::Axis xaxis = detail::nice_axis(xmin, xmax, std::max(2, (right - left) / 70), whole_x);
    const std::vector<double> xticks = detail::axis_ticks(xaxis);
    const auto px = [&](double x) {
        return left + static_cast<int>(std::lround((x - xaxis.lo) / (xaxis.hi - xaxis.lo) * (right - left)));
    };
    const auto py = [&](double y) {
        return bottom - static_cast<int>(std::lround((y - yaxis.lo) / (yaxis.hi - yaxis.lo) * (bottom - top)));
    };

    for (const double v : yticks) {
        const int y = py(v);
        const std::string label = detail::tick_label(v, yaxis);
        detail::draw_line(img, left, y, right, y, light);
        detail::draw_line(img, left - 4, y, left, y, black);
        detail::draw_text(img, left - 6 - detail::text_width(label), y - 3, label, black);
    }
    for (const double v : xticks) {
        const int x = px(v);
        const std::string label = detail::tick_label(v, xaxis);
        detail::draw_line(img, x, top, x, bottom, light);
        detail::draw_line(img, x, bottom, x, bottom + 4, black);
        detail::draw_text(img, x - detail::text_width(label) / 2, bottom + 8, label, black);
    }
    detail::draw_line(img, left, top, left, bottom, black);
    detail::draw_line(img, left, bottom, right, bottom, black);
    const int x_label_left = (left + right - detail::text_width(options.x_label)) / 2;
    detail::draw_text(img, x_label_left, bottom + 22, options.x_label, black);
    detail::draw_text(img, left - 6, top - 14, options.y_label, black);
    detail::draw_text(img, (width - detail::text_width(options.title, 2)) / 2, 8, options.title, black, 2);

    // Lines two pixels wide; markers only where points are sparse enough to tell apart (a single point needs one).
    for (std::size_t k = 0; k < series.size(); ++k) {
        const Rgb colour = detail::plot_palette[k % std::size(detail::plot_palette)];
        const auto& y = series[k].y;
        for (std::size_t i = 0; i < y.size(); ++i) {
            if (i > 0) detail::draw_line(img, px(xs[k][i - 1]), py(y[i - 1]), px(xs[k][i]), py(y[i]), colour, 2);
            if (y.size() <= 50) detail::fill_rect(img, px(xs[k][i]) - 2, py(y[i]) - 2, 5, 5, colour);
        }
    }

    // The legend, boxed, in the top right corner of the plot area.
    int name_width = 0;
    for (const auto& s : series) name_width = std::max(name_width, detail::text_width(s.name));
    const int box_w = 8 + 20 + 6 + name_width + 8, box_h = 6 + 12 * static_cast<int>(series.size()) + 2;
    const int box_x = right - 8 - box_w, box_y = top + 8;
    detail::fill_rect(img, box_x, box_y, box_w, box_h, Rgb{255, 255, 255});
    detail::draw_line(img, box_x, box_y, box_x + box_w - 1, box_y, gray);
    detail::draw_line(img, box_x, box_y + box_h - 1, box_x + box_w - 1, box_y + box_h - 1, gray);
    detail::draw_line(img, box_x, box_y, box_x, box_y + box_h - 1, gray);
    detail::draw_line(img, box_x + box_w - 1, box_y, box_x + box_w - 1, box_y + box_h - 1, gray);
    for (std::size_t k = 0; k < series.size(); ++k) {
        const Rgb colour = detail::plot_palette[k % std::size(detail::plot_palette)];
        const int y = box_y + 6 + 12 * static_cast<int>(k);
        detail::draw_line(img, box_x + 8, y + 3, box_x + 28, y + 3, colour, 2);
        detail::draw_text(img, box_x + 34, y, series[k].name, black);
    }
    return img;
}

}  // namespace vaelet
