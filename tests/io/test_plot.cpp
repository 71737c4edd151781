#include "vaelet/io/plot.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

using vaelet::Image;
using vaelet::Series;
using vaelet::detail::Rgb;

namespace {

int count_pixels(const Image& img, Rgb c) {
    int n = 0;
    for (int y = 0; y < img.height; ++y)
        for (int x = 0; x < img.width; ++x) {
            const auto* p = img.at(x, y);
            n += p[0] == c.r && p[1] == c.g && p[2] == c.b;
        }
    return n;
}

std::vector<double> decaying(int n, double scale) {
    std::vector<double> y;
    for (int e = 1; e <= n; ++e) y.push_back(90 + scale * std::exp(-e / 3.0));
    return y;
}

}  // namespace

TEST_CASE("a loss chart: size, white background, black axes, each series in its own colour") {
    const Image img = vaelet::line_chart({{"train", decaying(30, 450)}, {"test", decaying(30, 420)}},
                                         {"negative ELBO"});
    CHECK(img.width == 640);
    CHECK(img.height == 400);
    CHECK(img.channels == 3);
    CHECK(img.at(0, 0)[0] == 255);
    CHECK(img.at(639, 399)[2] == 255);
    const Rgb blue = vaelet::detail::plot_palette[0], orange = vaelet::detail::plot_palette[1];
    CHECK(count_pixels(img, blue) > 500);
    CHECK(count_pixels(img, orange) > 500);
    CHECK(count_pixels(img, vaelet::detail::plot_palette[2]) == 0);
    CHECK(count_pixels(img, Rgb{0, 0, 0}) > 1000);  // axes, ticks and text
    CHECK(vaelet::encode_png(img).substr(1, 3) == "PNG");

    const Image small = vaelet::line_chart({{"a", {1, 2}}}, {"", "x", "y", 200, 150});
    CHECK(small.width == 200);
    CHECK(small.height == 150);
}

TEST_CASE("edge cases draw without dividing by zero") {
    const auto check_drawn = [](const std::vector<Series>& series) {
        const Image img = vaelet::line_chart(series);
        CHECK(img.pixels.size() == 640u * 400u * 3u);
        CHECK(count_pixels(img, vaelet::detail::plot_palette[0]) > 20);  // the first series shows, legend or not
    };
    check_drawn({{"one point", {123.4}}});
    check_drawn({{"constant", {5, 5, 5, 5}}});
    check_drawn({{"zeros", {0, 0}}});
    check_drawn({{"huge", {1e300, -1e300}}});
    check_drawn({{"tiny", {1e-300, 2e-300, 0}}});
    check_drawn({{"same x", {1, 2, 3}, {4, 4, 4}}});
    check_drawn({{"fractional x", {3, 1, 2}, {0.1, 0.25, 0.3}}});
    check_drawn({{"non-ASCII name \xc3\xa9", {1, 2}}, {"", {2, 1}}});
    std::vector<double> long_run;
    for (int i = 0; i < 5000; ++i) long_run.push_back(std::sin(i * 0.01));
    check_drawn({{"5000 points", long_run}});
    std::vector<Series> many;
    for (int k = 0; k < 12; ++k) many.push_back({"s" + std::to_string(k), {double(k), double(k + 1)}});
    check_drawn(many);
}

TEST_CASE("bad input: NaN names the series, and empty or mismatched series and tiny sizes are config errors") {
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(vaelet::line_chart({{"train", {1, 2}}, {"test", {3, nan, 4}}}),
                         doctest::Contains("series \"test\" has a non-finite value at point 1"),
                         vaelet::numeric_error);
    CHECK_THROWS_AS(vaelet::line_chart({{"train", {1, std::numeric_limits<double>::infinity()}}}),
                    vaelet::numeric_error);
    CHECK_THROWS_AS(vaelet::line_chart({{"train", {1, 2}, {0, nan}}}), vaelet::numeric_error);
    CHECK_THROWS_AS(vaelet::line_chart({}), vaelet::config_error);
    CHECK_THROWS_WITH_AS(vaelet::line_chart({{"test", {}}}), "line_chart: series \"test\" has no points",
                         vaelet::config_error);
    CHECK_THROWS_AS(vaelet::line_chart({{"train", {1, 2}, {1}}}), vaelet::config_error);
    CHECK_THROWS_AS(vaelet::line_chart({{"train", {1, 2}}}, {"", "", "", 100, 100}), vaelet::config_error);
}

TEST_CASE("axes get round ticks and labels") {
    const auto axis = vaelet::detail::nice_axis(90, 413, 6, false);
    CHECK(axis.step == 50);
    CHECK(axis.lo == 50);
    CHECK(axis.hi == 450);
    CHECK(vaelet::detail::axis_ticks(axis).size() == 9);
    CHECK(vaelet::detail::tick_label(150, axis) == "150");

    const auto fine = vaelet::detail::nice_axis(-0.3, 0.8, 5, false);
    CHECK(vaelet::detail::tick_label(vaelet::detail::axis_ticks(fine)[1], fine) == "-0.2");
    CHECK(vaelet::detail::axis_ticks(fine)[2] == 0.0);  // exactly zero, printed "0.0" rather than "-0.0"

    const auto epochs = vaelet::detail::nice_axis(1, 3, 8, true);
    CHECK(epochs.step == 1);  // whole epochs, not 0.2 steps
    const auto flat = vaelet::detail::nice_axis(7, 7, 5, false);
    CHECK(flat.lo < 7);
    CHECK(flat.hi > 7);
    const auto tiny = vaelet::detail::nice_axis(-3e-5, 2e-5, 5, false);
    CHECK(vaelet::detail::tick_label(tiny.lo, tiny) == "-3e-05");
}

TEST_CASE("text uses the 5x7 font: '1' sets exactly its glyph's pixels") {
    Image img(8, 9, 3, 255);
    vaelet::detail::draw_text(img, 1, 1, "1", Rgb{0, 0, 0});
    CHECK(count_pixels(img, Rgb{0, 0, 0}) == 10);  // the glyph has ten set bits
    CHECK(img.at(3, 1)[0] == 0);                    // the top of the stem: column 2 of row 0
    CHECK(img.at(1, 1)[0] == 255);
    CHECK(vaelet::detail::text_width("loss") == 23);
}
