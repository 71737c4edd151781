#include "vaelet/core/tabular_layout.hpp"

#include <doctest/doctest.h>

using vaelet::TabularLayout;

TEST_CASE("a layout's width is its numbers plus its one-hot blocks") {
    CHECK(TabularLayout{3, {4, 2}}.width() == 9);
    CHECK(TabularLayout{0, {5}}.width() == 5);
    CHECK(TabularLayout{2, {}}.width() == 2);
    CHECK(TabularLayout{2, {3}} == TabularLayout{2, {3}});
    CHECK(TabularLayout{2, {3}} != TabularLayout{2, {3, 1}});
}

TEST_CASE("validate refuses negative counts, empty blocks and a layout of no columns") {
    CHECK_NOTHROW(TabularLayout{1, {1}}.validate());
    const TabularLayout negative{-1, {2}}, empty_block{1, {3, 0}}, nothing{0, {}};
    CHECK_THROWS_WITH_AS(negative.validate(), doctest::Contains("numeric must be 0 or more"), vaelet::config_error);
    CHECK_THROWS_WITH_AS(empty_block.validate(), doctest::Contains("block 1 has 0 categories"), vaelet::config_error);
    CHECK_THROWS_WITH_AS(nothing.validate(), doctest::Contains("no columns"), vaelet::config_error);
}
