#include "vaelet/io/safetensors.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

using vaelet::testing::TempDir;

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_raw(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string u64_le(std::uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>(v >> (8 * i));
    return s;
}

// A safetensors file made by hand: the header size, `header` as given, then `data`.
std::string hand_made(const std::string& header, const std::string& data) {
    return u64_le(header.size()) + header + data;
}

template <class F>
std::string io_error_message(F&& f) {
    try {
        f();
    } catch (const vaelet::io_error& e) {
        return e.what();
    }
    return "(no io_error was thrown)";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

template <class T>
bool same_bits(const vaelet::Matrix<T>& a, const vaelet::Matrix<T>& b) {
    return a.rows() == b.rows() && a.cols() == b.cols() &&
           std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(T)) == 0;
}

}  // namespace

TEST_CASE_TEMPLATE("matrices and 1-D biases round-trip bit for bit", T, float, double) {
    TempDir dir;
    vaelet::Matrix<T> w(3, 4);
    for (int i = 0; i < 12; ++i) w.data()[i] = T(std::sin(i + 0.5)) / T(7);
    w(0, 1) = -T(0);
    w(1, 2) = std::numeric_limits<T>::denorm_min();
    w(2, 3) = std::numeric_limits<T>::infinity();
    w(2, 0) = std::numeric_limits<T>::quiet_NaN();
    vaelet::Matrix<T> b(1, 5);
    b << 1, 2, 3, 4, T(0.1);

    vaelet::SafeTensors st;
    st.put_matrix("fc.weight", w);
    st.put_matrix("fc.bias", b, /*as_vector=*/true);
    st.metadata["epoch"] = "7";
    vaelet::save_safetensors(dir / "m.safetensors", st);

    const auto loaded = vaelet::load_safetensors(dir / "m.safetensors");
    CHECK(loaded.source == dir / "m.safetensors");
    CHECK(loaded.metadata.at("epoch") == "7");
    REQUIRE(loaded.tensors().size() == 2);
    CHECK(loaded.tensors()[0].first == "fc.weight");
    CHECK(loaded.at("fc.weight").shape == std::vector<std::int64_t>{3, 4});
    CHECK(loaded.at("fc.bias").shape == std::vector<std::int64_t>{5});
    CHECK(loaded.at("fc.weight").dtype == vaelet::dtype_of<T>());
    CHECK(same_bits<T>(loaded.get_matrix<T>("fc.weight"), w));
    CHECK(same_bits<T>(loaded.get_matrix<T>("fc.bias"), b));  // a 1-D tensor comes back as 1×n
}

TEST_CASE_TEMPLATE("a borrowed matrix writes the bytes a copied one writes, and reads back while it lives", T, float,
                   double) {
    TempDir dir;
    vaelet::Matrix<T> w(3, 4);
    for (int i = 0; i < 12; ++i) w.data()[i] = T(std::cos(i + 0.25));
    vaelet::SafeTensors copied, borrowed;
    copied.put_matrix("conv.weight", w, std::vector<std::int64_t>{3, 2, 1, 2});
    borrowed.borrow_matrix("conv.weight", w, {3, 2, 1, 2});
    const vaelet::Tensor& t = borrowed.at("conv.weight");
    CHECK(t.bytes.empty());  // no copy
    CHECK(t.data() == reinterpret_cast<const std::uint8_t*>(w.data()));
    CHECK(t.byte_count() == 12 * sizeof(T));
    CHECK(same_bits<T>(borrowed.get_matrix<T>("conv.weight"), w));
    vaelet::save_safetensors(dir / "copied.safetensors", copied);
    vaelet::save_safetensors(dir / "borrowed.safetensors", borrowed);
    CHECK(read_all(dir / "borrowed.safetensors") == read_all(dir / "copied.safetensors"));

    CHECK_THROWS_WITH_AS(borrowed.borrow_matrix("other", w, {5, 2}),
                         doctest::Contains("tensor other is 3x4, so it cannot be stored with shape [5, 2]"),
                         vaelet::shape_error);
    CHECK_THROWS_WITH_AS(borrowed.borrow_matrix("conv.weight", w, {3, 4}), doctest::Contains("already there"),
                         vaelet::config_error);
}

TEST_CASE("the file layout: u64 header size, compact JSON in put order padded to 8, then the data") {
    TempDir dir;
    vaelet::SafeTensors st;
    vaelet::Matrix<float> z(1, 2);
    z << 1.5f, -2.0f;
    st.put_matrix("z", z, true);
    st.put_vector<std::uint64_t>("a.rng", {1, 0xFFFFFFFFFFFFFFFFull});
    st.put_vector<std::int64_t>("a.step", {-3});
    st.metadata["format"] = "pt";
    vaelet::save_safetensors(dir / "x.safetensors", st);

    const std::string bytes = read_all(dir / "x.safetensors");
    std::string json = "{\"__metadata__\":{\"format\":\"pt\"},"
                       "\"z\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"a.rng\":{\"dtype\":\"U64\",\"shape\":[2],\"data_offsets\":[8,24]},"
                       "\"a.step\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[24,32]}}";
    json.append((8 - json.size() % 8) % 8, ' ');
    REQUIRE(bytes.size() == 8 + json.size() + 32);
    CHECK(bytes.substr(0, 8) == u64_le(json.size()));
    CHECK(bytes.substr(8, json.size()) == json);
    CHECK(json.size() % 8 == 0);
    const std::string data = bytes.substr(8 + json.size());
    float f[2];
    std::uint64_t u[2];
    std::int64_t i;
    std::memcpy(f, data.data(), 8);
    std::memcpy(u, data.data() + 8, 16);
    std::memcpy(&i, data.data() + 24, 8);
    CHECK(f[0] == 1.5f);
    CHECK(f[1] == -2.0f);
    CHECK(u[0] == 1);
    CHECK(u[1] == 0xFFFFFFFFFFFFFFFFull);
    CHECK(i == -3);
}

TEST_CASE("vectors, dtype checks and F32 <-> F64 only when asked") {
    vaelet::SafeTensors st;
    st.put_vector<std::uint64_t>("rng", {5, 6, 7, 8});
    st.put_vector<std::int64_t>("step", {12345});
    st.put_vector<double>("losses", {1.25, 0.5});
    st.put_vector<std::uint8_t>("pixels", {0, 255});
    st.put_vector<std::uint64_t>("empty", {});
    vaelet::Matrix<float> m(2, 2);
    m << 1, 2, 3, 0.1f;
    st.put_matrix("m", m);

    CHECK(st.get_vector<std::uint64_t>("rng") == std::vector<std::uint64_t>{5, 6, 7, 8});
    CHECK(st.get_vector<std::int64_t>("step") == std::vector<std::int64_t>{12345});
    CHECK(st.get_vector<double>("losses") == std::vector<double>{1.25, 0.5});
    CHECK(st.get_vector<std::uint8_t>("pixels") == std::vector<std::uint8_t>{0, 255});
    CHECK(st.get_vector<std::uint64_t>("empty").empty());

    CHECK(contains(io_error_message([&] { st.get_vector<std::int64_t>("rng"); }), "is U64 but I64"));
    const std::string no_cast = io_error_message([&] { st.get_matrix<double>("m"); });
    CHECK(contains(no_cast, "tensor m is F32 but F64"));
    CHECK(contains(no_cast, "FloatCast::allow"));
    const auto md = st.get_matrix<double>("m", vaelet::FloatCast::allow);
    CHECK(md(1, 1) == double(0.1f));
    CHECK(st.get_vector<float>("losses", vaelet::FloatCast::allow) == std::vector<float>{1.25f, 0.5f});
    CHECK(contains(io_error_message([&] { st.get_vector<float>("m"); }), "needs 1 dimension"));
    CHECK(contains(io_error_message([&] { st.at("nope"); }), "no tensor nope (it has: rng, step"));

    CHECK_THROWS_AS(st.put_vector<double>("step", {1.0}), vaelet::config_error);
    CHECK_THROWS_AS(st.put_vector<double>("__metadata__", {1.0}), vaelet::config_error);
    CHECK_THROWS_AS(st.put("bad", vaelet::Tensor{vaelet::Dtype::F32, {2, 3}, std::vector<std::uint8_t>(23)}),
                    vaelet::shape_error);
    CHECK_THROWS_AS(st.put_matrix("two_rows", m, /*as_vector=*/true), vaelet::shape_error);
}

TEST_CASE("load_safetensors rejects damaged files with the file and tensor named") {
    TempDir dir;
    const std::string path = dir / "bad.safetensors";
    const auto message = [&](const std::string& bytes) {
        write_raw(path, bytes);
        return io_error_message([&] { vaelet::load_safetensors(path); });
    };
    const std::string f32_2x2 = "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    const std::string data16(16, '\1');
    write_raw(path, hand_made(f32_2x2, data16));
    REQUIRE(vaelet::load_safetensors(path).tensors().size() == 1);

    CHECK(contains(message("abc"), "too short"));
    CHECK(contains(message(u64_le(100) + "{}"), "the header claims 100 bytes, but only 2 follow"));
    CHECK(contains(message(u64_le(0xFFFFFFFFFFFFFFF0ull) + "{}"), "the header claims"));
    write_raw(path, u64_le(100'000'001));
    fs::resize_file(path, 100'000'016);  // sparse: takes no disk space
    CHECK(contains(io_error_message([&] { vaelet::load_safetensors(path); }), "more than the 100 MB limit"));
    CHECK(contains(message(hand_made("{\"w\": [", "")), "not valid JSON"));
    CHECK(contains(message(hand_made("[1, 2]", "")), "not a JSON object"));
    CHECK(contains(message(hand_made("{\"w\": 3}", "")), "tensor w is not a JSON object"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2]}}", data16)), "data_offsets"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"Q7\",\"shape\":[2,2],\"data_offsets\":[0,16]}}", data16)),
                   "tensor w has dtype Q7"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2,2],\"data_offsets\":[0,16]}}", data16)),
                   "not a non-negative integer"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.0,2],\"data_offsets\":[0,16]}}", data16)),
                   "not a non-negative integer"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"F64\",\"shape\":[4611686018427387904,4],"
                                     "\"data_offsets\":[0,16]}}",
                                     data16)),
                   "too large"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,32]}}", data16)),
                   "outside the data section of 16 bytes"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[8,0]}}", data16)),
                   "outside the data section"));
    CHECK(contains(message(hand_made("{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,16]}}", data16)),
                   "shape [2, 3] of F32 needs 24 bytes"));
    CHECK(contains(message(hand_made("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                                     "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                                     std::string(12, '\0'))),
                   "tensor b overlaps tensor a"));
    CHECK(contains(message(hand_made("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                                     std::string(12, '\0'))),
                   "4 bytes before tensor a belong to no tensor"));
    CHECK(contains(message(hand_made(f32_2x2, data16 + "junk")), "trailing bytes"));
    CHECK(contains(message(hand_made(f32_2x2, data16.substr(0, 12))), "outside the data section of 12 bytes"));
    CHECK(contains(message(hand_made("{\"__metadata__\":{\"k\":1}}", "")), "metadata entry k is not a string"));

    const std::string any = message("abc");
    CHECK(contains(any, path));
    CHECK(contains(io_error_message([&] { vaelet::load_safetensors(dir / "missing.safetensors"); }),
                   "cannot open '" + dir / "missing.safetensors"));
    CHECK(contains(io_error_message([&] { vaelet::load_safetensors(dir.path.string()); }), "not a regular file"));
}

TEST_CASE("a file with no tensors, and a scalar and a zero-size tensor, load fine") {
    TempDir dir;
    vaelet::save_safetensors(dir / "empty.safetensors", vaelet::SafeTensors{});
    CHECK(read_all(dir / "empty.safetensors") == u64_le(8) + "{}      ");
    CHECK(vaelet::load_safetensors(dir / "empty.safetensors").tensors().empty());

    write_raw(dir / "s.safetensors",
              hand_made("{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},"
                        "\"e\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[8,8]}}",
                        std::string("\0\0\0\0\0\0\xf0\x3f", 8)));
    const auto st = vaelet::load_safetensors(dir / "s.safetensors");
    CHECK(st.get_vector<double>("s") == std::vector<double>{1.0});
    CHECK(st.get_matrix<double>("s")(0, 0) == 1.0);
    CHECK(st.get_matrix<float>("e").rows() == 0);
    CHECK(st.get_matrix<float>("e").cols() == 3);
}

// Found by fuzzing (tests/fuzz, docs/fuzzing.md).
TEST_CASE("hostile headers: overflowing shapes before a zero, deep nesting") {
    TempDir dir;
    const std::string path = dir / "hostile.safetensors";
    // 2^32 * 2^31 overflows int64 before the 0 makes the product 0: numel() must not multiply it out.
    write_raw(path,
              hand_made("{\"t\":{\"dtype\":\"U8\",\"shape\":[4294967296,2147483648,0],\"data_offsets\":[0,0]}}", ""));
    const auto st = vaelet::load_safetensors(path);
    CHECK(st.at("t").numel() == 0);

    // nlohmann parses deep nesting, but printing it in an error message (or copying it) recursed off the stack.
    const int deep = 100'000;
    write_raw(path, hand_made("{\"t\":{\"dtype\":\"U8\",\"shape\":" + std::string(deep, '[') + std::string(deep, ']') +
                                  ",\"data_offsets\":[0,0]}}",
                              ""));
    CHECK(contains(io_error_message([&] { vaelet::load_safetensors(path); }), "nests JSON more than 64 levels deep"));
    // nlohmann reports a number too large for a double as out_of_range, not as a parse_error.
    write_raw(path, hand_made("{\"t\":1e400}", ""));
    CHECK(contains(io_error_message([&] { vaelet::load_safetensors(path); }), "not valid JSON"));
    // Brackets inside strings are not nesting.
    write_raw(path, hand_made("{\"__metadata__\":{\"k\":\"" + std::string(100, '[') + "\"}}", ""));
    CHECK(vaelet::load_safetensors(path).metadata.at("k") == std::string(100, '['));
}

TEST_CASE("loaded tensors come in the order of their data, whatever the order of the header's keys") {
    TempDir dir;
    write_raw(dir / "o.safetensors",
              hand_made("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]},"
                        "\"z\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                        "\"m\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[2,2]}}",
                        "xyw"));
    const auto st = vaelet::load_safetensors(dir / "o.safetensors");
    REQUIRE(st.tensors().size() == 3);
    CHECK(st.tensors()[0].first == "z");
    CHECK(st.tensors()[1].first == "m");  // zero-size at 2, before the tensor that starts there
    CHECK(st.tensors()[2].first == "a");
    CHECK(st.get_vector<std::uint8_t>("a") == std::vector<std::uint8_t>{'w'});
}
