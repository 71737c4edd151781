#include "vaelet/io/safetensors_parameters.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include <cstdint>
#include <string>
#include <vector>

using doctest::Contains;
using vaelet::io_error;

TEST_CASE_TEMPLATE("save_parameters / load_parameters check names, shapes and dtypes", T, float, double) {
    vaelet::testing::TempDir dir;
    vaelet::Parameter<T> w(3, 2), b(1, 3, /*vector=*/true);
    w.value << 1, 2, 3, 4, 5, T(0.3);
    b.value << -1, T(1e-7), 9;
    const vaelet::ParameterList<T> model{{"fc1.weight", &w}, {"fc1.bias", &b}};
    vaelet::SafeTensors st;
    vaelet::save_parameters(st, model);
    const std::string path = dir / "ckpt.safetensors";
    vaelet::save_safetensors(path, st);
    const auto file = vaelet::load_safetensors(path);
    CHECK(file.at("fc1.bias").shape == std::vector<std::int64_t>{3});

    vaelet::Parameter<T> w2(3, 2), b2(1, 3, true);
    const vaelet::ParameterList<T> fresh{{"fc1.weight", &w2}, {"fc1.bias", &b2}};
    vaelet::load_parameters(file, fresh, vaelet::Strict::yes);
    CHECK(w2.value == w.value);
    CHECK(b2.value == b.value);

    SUBCASE("a shape mismatch names the file, the tensor and both shapes, and changes nothing") {
        vaelet::Parameter<T> wide(4, 2), b3(1, 3, true);
        const vaelet::ParameterList<T> other{{"fc1.bias", &b3}, {"fc1.weight", &wide}};
        CHECK_THROWS_WITH_AS(vaelet::load_parameters(file, other), Contains(path.c_str()), io_error);
        CHECK_THROWS_WITH_AS(vaelet::load_parameters(file, other),
                             Contains("tensor fc1.weight has shape [3, 2] but the model expects [4, 2]"), io_error);
        CHECK(b3.value.isZero());  // checked before copying anything
    }
    SUBCASE("a missing tensor") {
        vaelet::Parameter<T> extra(2, 2);
        const vaelet::ParameterList<T> more{{"fc1.weight", &w2}, {"fc2.weight", &extra}};
        CHECK_THROWS_WITH_AS(vaelet::load_parameters(file, more),
                             Contains("tensor fc2.weight is missing (the model expects shape [2, 2])"), io_error);
    }
    SUBCASE("extra tensors are an error only in strict mode") {
        const vaelet::ParameterList<T> part{{"fc1.weight", &w2}};
        vaelet::load_parameters(file, part);
        CHECK_THROWS_WITH_AS(vaelet::load_parameters(file, part, vaelet::Strict::yes),
                             Contains("tensors the model does not have: fc1.bias"), io_error);
    }
    SUBCASE("a bias stored as 2-D does not pass for a vector") {
        vaelet::Parameter<T> b_as_matrix(1, 3);
        const vaelet::ParameterList<T> flat{{"fc1.bias", &b_as_matrix}};
        CHECK_THROWS_WITH_AS(vaelet::load_parameters(file, flat),
                             Contains("has shape [3] but the model expects [1, 3]"), io_error);
    }
}

TEST_CASE_TEMPLATE("a parameter with a tensor_shape (a conv weight) is written and read with that shape", T, float,
                   double) {
    vaelet::testing::TempDir dir;
    vaelet::Parameter<T> w(3, 2 * 2 * 2), b(1, 3, /*vector=*/true);  // Conv2d(2, 3, 2): weight 3×2×2×2
    w.tensor_shape = {3, 2, 2, 2};
    for (int i = 0; i < 24; ++i) w.value.data()[i] = T(i) / T(8);
    const vaelet::ParameterList<T> model{{"conv.weight", &w}, {"conv.bias", &b}};
    vaelet::SafeTensors st;
    vaelet::save_parameters(st, model);
    const std::string path = dir / "conv.safetensors";
    vaelet::save_safetensors(path, st);
    const auto file = vaelet::load_safetensors(path);
    CHECK(file.at("conv.weight").shape == std::vector<std::int64_t>{3, 2, 2, 2});
    CHECK(file.get_matrix<T>("conv.weight") == w.value);  // [out, in, kH, kW] read as out × in·kH·kW

    vaelet::Parameter<T> w2(3, 8), b2(1, 3, true);
    w2.tensor_shape = {3, 2, 2, 2};
    const vaelet::ParameterList<T> conv{{"conv.weight", &w2}, {"conv.bias", &b2}};
    vaelet::load_parameters(file, conv, vaelet::Strict::yes);
    CHECK(w2.value == w.value);

    // The same 24 numbers in another shape are another tensor: a 2-D [3, 8], or [3, 2, 4, 1] (another kernel).
    vaelet::Parameter<T> flat(3, 8), other(3, 8);
    other.tensor_shape = {3, 2, 4, 1};
    const vaelet::ParameterList<T> as_matrix{{"conv.weight", &flat}}, other_kernel{{"conv.weight", &other}};
    CHECK_THROWS_WITH_AS(vaelet::load_parameters(file, as_matrix),
                         Contains("has shape [3, 2, 2, 2] but the model expects [3, 8]"), io_error);
    CHECK_THROWS_WITH_AS(vaelet::load_parameters(file, other_kernel),
                         Contains("has shape [3, 2, 2, 2] but the model expects [3, 2, 4, 1]"), io_error);
    CHECK_THROWS_AS(st.put_matrix("bad", w.value, std::vector<std::int64_t>{3, 2, 2}), vaelet::shape_error);
}

TEST_CASE("load_parameters converts between float and double only when asked") {
    vaelet::Parameter<double> w(1, 2);
    w.value << 0.1, 0.2;
    vaelet::SafeTensors st;
    vaelet::save_parameters(st, vaelet::ParameterList<double>{{"w", &w}});
    vaelet::Parameter<float> wf(1, 2);
    const vaelet::ParameterList<float> model{{"w", &wf}};
    CHECK_THROWS_WITH_AS(vaelet::load_parameters(st, model), Contains("is F64 but the model is F32"), io_error);
    vaelet::load_parameters(st, model, vaelet::Strict::no, vaelet::FloatCast::allow);
    CHECK(wf.value(0, 1) == 0.2f);
}
