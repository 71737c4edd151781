// Tests for vaelet/data/batcher.hpp: batch shapes and scaling, a seeded shuffle that visits every
// example once per epoch, the reused buffer, and exact mid-epoch resume.
#include <doctest/doctest.h>

#include "vaelet/data/batcher.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

using vaelet::Batcher;
using vaelet::Dataset;
using vaelet::Index;
using vaelet::Matrix;
using vaelet::numeric_error;
using vaelet::Rng;

namespace {

/// n examples of 2×3 pixels; example i has pixels 10*i .. 10*i+5 (mod 256) and label i % 10.
Dataset counting_dataset(Index n) {
    std::vector<std::uint8_t> pixels, labels;
    for (Index i = 0; i < n; ++i) {
        for (int p = 0; p < 6; ++p) pixels.push_back(static_cast<std::uint8_t>((10 * i + p) % 256));
        labels.push_back(static_cast<std::uint8_t>(i % 10));
    }
    return Dataset(pixels, 2, 3, labels);
}

/// The dataset indices of every batch of one epoch, batch by batch.
template <class T>
std::vector<std::vector<Index>> epoch_indices(Batcher<T>& batches) {
    std::vector<std::vector<Index>> out;
    while (batches.next()) out.push_back(batches.indices());
    return out;
}

}  // namespace

TEST_CASE_TEMPLATE("batches have the right shapes, values and labels", T, float, double) {
    const Dataset data = counting_dataset(10);
    Rng rng(7);
    Batcher<T> batches(data, 4, rng, /*shuffle=*/false);
    CHECK(batches.batches_per_epoch() == 3);
    batches.start_epoch();

    std::vector<Index> sizes;
    while (batches.next()) {
        const auto x = batches.x();
        sizes.push_back(x.rows());
        CHECK(x.cols() == 6);
        REQUIRE(batches.indices().size() == static_cast<std::size_t>(x.rows()));
        REQUIRE(batches.labels().size() == static_cast<std::size_t>(x.rows()));
        for (Index r = 0; r < x.rows(); ++r) {
            const Index i = batches.indices()[static_cast<std::size_t>(r)];
            CHECK(batches.labels()[static_cast<std::size_t>(r)] == data.label(i));
            for (Index c = 0; c < 6; ++c) CHECK(x(r, c) == T(data.image(i)[c]) / T(255));
        }
    }
    CHECK(sizes == std::vector<Index>{4, 4, 2});
    CHECK(batches.position() == 3);
    CHECK_FALSE(batches.next());
}

TEST_CASE_TEMPLATE("pixels 0 and 255 map to exactly 0 and 1", T, float, double) {
    const Dataset data(std::vector<std::uint8_t>{0, 255, 51, 128}, 1, 4);
    Rng rng(1);
    Batcher<T> batches(data, 8, rng);
    batches.start_epoch();
    REQUIRE(batches.next());
    const auto x = batches.x();
    REQUIRE(x.rows() == 1);
    CHECK(x(0, 0) == T(0));
    CHECK(x(0, 1) == T(1));
    CHECK(x(0, 2) == doctest::Approx(0.2).epsilon(1e-7));
    CHECK(x(0, 3) == doctest::Approx(128.0 / 255.0).epsilon(1e-7));
    CHECK(batches.labels().empty());
}

TEST_CASE("unshuffled batches follow dataset order and leave the rng alone") {
    const Dataset data = counting_dataset(5);
    Rng rng(3);
    const auto before = rng.state().s;
    Batcher<float> batches(data, 2, rng, /*shuffle=*/false);
    batches.start_epoch();
    CHECK(epoch_indices(batches) == std::vector<std::vector<Index>>{{0, 1}, {2, 3}, {4}});
    CHECK(rng.state().s == before);
}

TEST_CASE("drop_last skips the final short batch") {
    const Dataset data = counting_dataset(10);
    Rng rng(5);
    Batcher<float> batches(data, 4, rng, /*shuffle=*/true, /*drop_last=*/true);
    CHECK(batches.batches_per_epoch() == 2);
    batches.start_epoch();
    const auto epoch = epoch_indices(batches);
    REQUIRE(epoch.size() == 2);
    CHECK(epoch[0].size() == 4);
    CHECK(epoch[1].size() == 4);
}

TEST_CASE("every example is visited once per epoch, in a new order each epoch") {
    const Dataset data = counting_dataset(103);
    Rng rng(11);
    Batcher<float> batches(data, 16, rng);
    std::vector<std::vector<Index>> orders;
    for (int epoch = 0; epoch < 3; ++epoch) {
        batches.start_epoch();
        std::vector<Index> seen;
        for (const auto& batch : epoch_indices(batches)) seen.insert(seen.end(), batch.begin(), batch.end());
        orders.push_back(seen);
        std::sort(seen.begin(), seen.end());
        std::vector<Index> all(103);
        for (Index i = 0; i < 103; ++i) all[static_cast<std::size_t>(i)] = i;
        CHECK(seen == all);
    }
    CHECK(orders[0] != orders[1]);
    CHECK(orders[1] != orders[2]);
}

TEST_CASE("the same seed gives the same batches, another seed others") {
    const Dataset data = counting_dataset(50);
    auto run = [&](std::uint64_t seed) {
        Rng rng(seed);
        Batcher<double> batches(data, 8, rng);
        std::vector<std::vector<Index>> all;
        for (int epoch = 0; epoch < 2; ++epoch) {
            batches.start_epoch();
            for (const auto& b : epoch_indices(batches)) all.push_back(b);
        }
        return all;
    };
    CHECK(run(42) == run(42));
    CHECK(run(42) != run(43));
}

TEST_CASE("after the first batch no buffer moves or grows") {
    const Dataset data = counting_dataset(10);
    Rng rng(9);
    Batcher<float> batches(data, 4, rng);
    batches.start_epoch();
    REQUIRE(batches.next());
    const float* buffer = batches.x().data();
    const auto* labels = batches.labels().data();
    const auto* indices = batches.indices().data();
    for (int epoch = 0; epoch < 3; ++epoch) {
        while (batches.next()) {  // includes the short last batch of 2
            CHECK(batches.x().data() == buffer);
            CHECK(batches.labels().data() == labels);
            CHECK(batches.indices().data() == indices);
        }
        batches.start_epoch();
    }
}

TEST_CASE_TEMPLATE("resuming mid-epoch from state() gives the same batches", T, float, double) {
    const Dataset data = counting_dataset(37);
    Rng rng(2024);
    Batcher<T> batches(data, 5, rng);
    batches.start_epoch();  // epoch 1, played through
    while (batches.next()) {
    }
    batches.start_epoch();  // epoch 2: stop after 3 batches, as a checkpoint would
    for (int i = 0; i < 3; ++i) REQUIRE(batches.next());
    const auto saved = batches.state();
    CHECK(saved.position == 3);
    const auto saved_rng = rng.state();

    std::vector<std::vector<Index>> rest = epoch_indices(batches);
    batches.start_epoch();
    std::vector<std::vector<Index>> next_epoch = epoch_indices(batches);
    REQUIRE(batches.next() == false);
    T last_value = batches.x()(0, 0);

    Rng resumed_rng(1);  // a fresh process: other seed, then the checkpoint's states
    resumed_rng.set_state(saved_rng);
    Batcher<T> resumed(data, 5, resumed_rng);
    resumed.restore(saved);
    CHECK(resumed_rng.state().s == saved_rng.s);  // restore() does not draw from the rng
    CHECK(resumed.position() == 3);
    CHECK(epoch_indices(resumed) == rest);
    resumed.start_epoch();
    CHECK(epoch_indices(resumed) == next_epoch);
    CHECK(resumed.x()(0, 0) == last_value);
}

TEST_CASE("bad arguments are config errors") {
    const Dataset data = counting_dataset(3);
    Rng rng(1);
    CHECK_THROWS_AS(Batcher<float>(data, 0, rng), vaelet::config_error);
    CHECK_THROWS_AS(Batcher<float>(Dataset(), 4, rng), vaelet::config_error);
    CHECK_THROWS_AS(Batcher<float>(data, 4, rng, true, /*drop_last=*/true), vaelet::config_error);
    Batcher<float> batches(data, 2, rng);
    CHECK_THROWS_AS(batches.next(), vaelet::config_error);
    CHECK_THROWS_AS(batches.restore({rng.state(), 3}), vaelet::config_error);
}

TEST_CASE_TEMPLATE("a dataset of float rows is batched as it is, shuffled and resumed like bytes", T, float, double) {
    vaelet::Matrix<float> values(7, 3);
    for (Index i = 0; i < values.rows(); ++i)
        for (Index j = 0; j < values.cols(); ++j) values(i, j) = float(i) - 0.25f * float(j);
    const Dataset data(values, {0, 1, 2, 0, 1, 2, 0});
    REQUIRE(data.holds_floats());
    CHECK(data.size() == 7);
    CHECK(data.features() == 3);
    CHECK_THROWS_AS(data.image(0), vaelet::config_error);

    Rng rng(5);
    Batcher<T> batcher(data, 3, rng);
    batcher.start_epoch();
    REQUIRE(batcher.next());
    const auto saved = batcher.state();
    for (Index r = 0; r < batcher.x().rows(); ++r) {
        const Index i = batcher.indices()[std::size_t(r)];
        CHECK(batcher.labels()[std::size_t(r)] == data.label(i));
        for (Index j = 0; j < 3; ++j) CHECK(batcher.x()(r, j) == T(values(i, j)));  // exact: no scaling
    }
    std::vector<Index> rest;
    while (batcher.next()) rest.insert(rest.end(), batcher.indices().begin(), batcher.indices().end());

    Batcher<T> resumed(data, 3, rng);
    resumed.restore(saved);
    std::vector<Index> again;
    while (resumed.next()) again.insert(again.end(), resumed.indices().begin(), resumed.indices().end());
    CHECK(again == rest);

    const Dataset picked = data.subset({6, 2});
    CHECK(picked.holds_floats());
    CHECK(picked.values(0)[1] == values(6, 1));
    CHECK(picked.label(1) == 2);
    CHECK(data.exclude_labels({0}).size() == 4);
}

TEST_CASE("split batchers hand out contiguous slices that together are the unsplit batch") {
    const Dataset data = counting_dataset(23);  // batches of 8, 8 and 7
    for (const int parts : {2, 3, 9}) {
        CAPTURE(parts);
        Rng whole_rng(3);
        Batcher<float> whole(data, 8, whole_rng);
        whole.start_epoch();
        const auto batches = epoch_indices(whole);
        std::vector<std::vector<Index>> joined(batches.size());
        for (int part = 0; part < parts; ++part) {
            Rng rng(3);
            Batcher<float> slices(data, 8, rng);
            slices.split(part, parts);
            slices.start_epoch();
            for (std::size_t b = 0; slices.next(); ++b) {
                CHECK(slices.batch_rows() == Index(batches[b].size()));
                CHECK(slices.slice_begin() == Index(joined[b].size()));  // slices follow each other in part order
                CHECK(slices.x().rows() == Index(slices.indices().size()));
                const Index fair = slices.batch_rows() / parts;
                CHECK((slices.x().rows() == fair || slices.x().rows() == fair + 1));
                for (Index r = 0; r < slices.x().rows(); ++r)
                    CHECK(slices.x()(r, 0) == float((10 * slices.indices()[std::size_t(r)]) % 256) / 255.0f);
                joined[b].insert(joined[b].end(), slices.indices().begin(), slices.indices().end());
            }
        }
        CHECK(joined == batches);
    }
    Rng rng(1);
    Batcher<float> b(data, 8, rng);
    CHECK_THROWS_WITH_AS(b.split(2, 2), "Batcher::split: part 2 of 2 does not exist; parts start at 0",
                         vaelet::config_error);
}

TEST_CASE("a Dataset of floats refuses a NaN or infinity once (naming its row and column) unless told not to check" *
          doctest::test_suite("misuse")) {
    Matrix<float> values = Matrix<float>::Ones(4, 3);
    values(2, 1) = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(Dataset{values}, doctest::Contains("row 2, column 1 is nan"), numeric_error);
    values(2, 1) = 1.0f;
    values(3, 0) = std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(Dataset{values}, doctest::Contains("row 3, column 0 is inf"), numeric_error);
    CHECK(Dataset(values, {}, /*check_finite=*/false).size() == 4);
}
