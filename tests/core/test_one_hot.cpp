#include "vaelet/core/one_hot.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using vaelet::Matrix;

TEST_CASE("one_hot puts a 1 in each row at the label's column") {
    const Matrix<double> c = vaelet::one_hot<double>(std::vector<int>{0, 2, 1, 2}, 3);
    Matrix<double> expected(4, 3);
    expected << 1, 0, 0,
                0, 0, 1,
                0, 1, 0,
                0, 0, 1;
    CHECK(c == expected);
    CHECK(vaelet::one_hot<float>(std::vector<int>{}, 3).rows() == 0);
}

TEST_CASE("one_hot_into reuses its buffer and clears the previous batch's ones") {
    Matrix<float> buffer;
    vaelet::one_hot_into(std::vector<std::uint8_t>{1, 0}, 4, buffer);
    const float* memory = buffer.data();
    vaelet::one_hot_into(std::vector<std::uint8_t>{3, 3}, 4, buffer);
    CHECK(buffer.data() == memory);  // same shape: no new allocation
    CHECK(buffer == vaelet::one_hot<float>(std::vector<int>{3, 3}, 4));
    vaelet::one_hot_into(std::vector<std::uint8_t>{2}, 4, buffer);  // a last, smaller batch
    CHECK(buffer == vaelet::one_hot<float>(std::vector<int>{2}, 4));
}

TEST_CASE("a label out of range is a config_error naming its row") {
    CHECK_THROWS_WITH_AS(vaelet::one_hot<double>(std::vector<int>{0, 3}, 3),
                         doctest::Contains("label 3 at row 1 is outside [0, 3)"), vaelet::config_error);
    CHECK_THROWS_AS(vaelet::one_hot<double>(std::vector<int>{-1}, 3), vaelet::config_error);
}
