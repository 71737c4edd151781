// tests/deploy/onnx_tests.cpp — vaelet_onnx_tests: the ONNX export's graphs (inputs, outputs, dynamic batch,
// weights, ops) and its errors. That the graphs compute what vaelet computes is check_onnx.mjs's part: it runs
// them in ONNX Runtime against write_reference's outputs.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "../temp_dir.hpp"
#include "small_conv.hpp"
#include "vaelet/deploy/onnx.hpp"
#include "vaelet/train/model_file.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

using namespace vaelet;

namespace {

::onnx::ModelProto read_model(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ::onnx::ModelProto model;
    REQUIRE(model.ParseFromString(bytes));
    return model;
}

std::vector<std::string> op_types(const ::onnx::ModelProto& model) {
    std::vector<std::string> ops;
    for (const auto& n : model.graph().node()) ops.push_back(n.op_type());
    return ops;
}

const ::onnx::TensorProto* initializer(const ::onnx::ModelProto& model, const std::string& name) {
    for (const auto& t : model.graph().initializer())
        if (t.name() == name) return &t;
    return nullptr;
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

template <class T>
std::string trace_error(const std::vector<OnnxInput>& inputs, const OnnxFunction<T>& f) {
    try {
        trace_onnx<T>("g", inputs, f, {});
    } catch (const error& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("export_onnx writes the three graphs of an MLP VAE, checked, with a dynamic batch and named weights") {
    testing::TempDir dir;
    Rng rng(3);
    Vae<float> vae(parse_vae_config("input=20 hidden=16,8 latent=3"), rng);
    const std::vector<OnnxFile> files = export_onnx(vae, dir / "out", "mlp.");
    REQUIRE(files.size() == 3);
    CHECK(files[0].path == dir / "out/mlp.encoder.onnx");
    CHECK(files[0].signature == "x[batch,20] -> mu[batch,3], logvar[batch,3], code[batch,3]");
    CHECK(files[1].path == dir / "out/mlp.decoder.onnx");
    CHECK(files[1].signature == "z[batch,3] -> output[batch,20], mean[batch,20]");
    CHECK(files[2].path == dir / "out/mlp.reconstruction.onnx");
    CHECK(files[2].signature == "x[batch,20], eps[batch,3] -> mean[batch,20]");

    const ::onnx::ModelProto encoder = read_model(files[0].path);
    CHECK(encoder.opset_import(0).version() == onnx_opset);
    CHECK(encoder.producer_name() == "vaelet");
    CHECK(onnx_signature(encoder) == files[0].signature);
    const std::vector<std::string> ops = op_types(encoder);
    CHECK(std::count(ops.begin(), ops.end(), "Gemm") == 4);  // fc1, fc1_2, fc21, fc22
    // The weights are the parameters', under their names, in PyTorch's out × in layout.
    const auto* fc1 = initializer(encoder, "encoder.fc1.weight");
    REQUIRE(fc1 != nullptr);
    CHECK(fc1->data_type() == ::onnx::TensorProto::FLOAT);
    CHECK(std::vector<std::int64_t>(fc1->dims().begin(), fc1->dims().end()) == std::vector<std::int64_t>{16, 20});
    const Matrix<float>& w = vae.named_parameters()[0].param->value;
    CHECK(fc1->raw_data() == std::string(reinterpret_cast<const char*>(w.data()), w.size() * sizeof(float)));

    CHECK(op_types(read_model(files[1].path)).back() == "Sigmoid");  // the Bernoulli mean of the logits

    const ::onnx::ModelProto recon = read_model(files[2].path);
    CHECK(has(op_types(recon), "Exp"));  // σ = exp(½ log σ²) times the ε input: no random node
    for (const auto& n : recon.graph().node()) CHECK(n.op_type().rfind("Random", 0) != 0);
}

TEST_CASE("a conditional conv VAE in double exports Conv and ConvTranspose with 4-D weights and the condition input") {
    Rng rng(4);
    ConvVaeConfig c = testing::small_conv();
    c.conditions = 3;
    Vae<double> vae(conv_vae_parts<double>(c, rng));
    const ::onnx::ModelProto encoder = onnx_encoder(vae);
    check_onnx(encoder);
    CHECK(onnx_signature(encoder) == "x[batch,192], c[batch,3] -> mu[batch,3], logvar[batch,3], code[batch,3]");
    CHECK(has(op_types(encoder), "Conv"));
    const auto* conv1 = initializer(encoder, "encoder.conv1.weight");
    REQUIRE(conv1 != nullptr);
    CHECK(conv1->data_type() == ::onnx::TensorProto::DOUBLE);
    CHECK(std::vector<std::int64_t>(conv1->dims().begin(), conv1->dims().end()) == std::vector<std::int64_t>{4, 2, 4, 4});
    const ::onnx::ModelProto decoder = onnx_decoder(vae);
    check_onnx(decoder);
    CHECK(has(op_types(decoder), "ConvTranspose"));
    CHECK(onnx_signature(decoder) == "z[batch,3], c[batch,3] -> output[batch,192], mean[batch,192]");
}

TEST_CASE("a posterior flow's masked weights are folded into initializers, and the code is the flow's image of mu") {
    Rng rng(5);
    Vae<float> vae(parse_vae_config("input=10 hidden=12 latent=4 flow_steps=2 flow_hidden=7"), rng);
    const ::onnx::ModelProto encoder = onnx_encoder(vae);
    check_onnx(encoder);
    const std::vector<std::string> ops = op_types(encoder);
    CHECK(std::count(ops.begin(), ops.end(), "Sigmoid") == 2);  // one gate per step
    // The masks multiply the weights once, here, not in every run: no Mul reads a weight.
    for (const auto& n : encoder.graph().node())
        if (n.op_type() == "Mul")
            for (const auto& input : n.input()) CHECK(input.find("weight") == std::string::npos);
}

TEST_CASE("what cannot be a graph is one error naming the op" * doctest::test_suite("misuse")) {
    Rng rng(6);
    Vae<float> vae(parse_vae_config("input=6 hidden=5 latent=2"), rng);
    const std::vector<OnnxInput> x{{"x", 6}};
    SUBCASE("noise drawn inside the function") {
        const std::string e = trace_error<float>(x, [&](Tape<float>& tape, const std::vector<Var<float>>& in) {
            const Posterior<float> q = vae.encode(tape, in[0]);
            return OnnxOutputs<float>{{"z", reparameterize(q.mu, q.logvar, rng)}};
        });
        CHECK(e.find("constant that changes with the input") != std::string::npos);
        CHECK(e.find("make the noise an input") != std::string::npos);
    }
    SUBCASE("a loss op") {
        const std::string e = trace_error<float>(x, [&](Tape<float>&, const std::vector<Var<float>>& in) {
            return OnnxOutputs<float>{{"loss", bce_with_logits(in[0], in[0])}};
        });
        CHECK(e.find("(bce_with_logits) has no ONNX form") != std::string::npos);
    }
    SUBCASE("an op of the user's own") {
        const std::string e = trace_error<float>(x, [&](Tape<float>& tape, const std::vector<Var<float>>& in) {
            tape.push_custom("my_op", {in[0]}, nullptr).value = in[0].value();
            return OnnxOutputs<float>{{"y", tape.last()}};
        });
        CHECK(e.find("(my_op) has no ONNX form") != std::string::npos);
    }
    SUBCASE("columns that follow the batch") {
        const std::string e = trace_error<float>(x, [&](Tape<float>&, const std::vector<Var<float>>& in) {
            return OnnxOutputs<float>{{"flat", reshape(in[0], 1, in[0].rows() * 6)}};
        });
        CHECK(e.find("column counts must not depend on the batch size") != std::string::npos);
    }
    SUBCASE("no outputs") {
        CHECK(trace_error<float>(x, [](Tape<float>&, const std::vector<Var<float>>&) { return OnnxOutputs<float>{}; })
                  .find("returned no outputs") != std::string::npos);
    }
    SUBCASE("an output from another tape") {
        Tape<float> other;
        const Var<float> elsewhere = other.constant(Matrix<float>::Ones(1, 1));
        CHECK(trace_error<float>(x, [&](Tape<float>&, const std::vector<Var<float>>&) {
                  return OnnxOutputs<float>{{"y", elsewhere}};
              }).find("another tape") != std::string::npos);
    }
}

TEST_CASE("a graph that ONNX's checker rejects is not written" * doctest::test_suite("misuse")) {
    testing::TempDir dir;
    Rng rng(7);
    Vae<float> vae(parse_vae_config("input=6 hidden=5 latent=2"), rng);
    ::onnx::ModelProto model = onnx_decoder(vae);
    model.mutable_graph()->mutable_node(0)->set_op_type("NoSuchOp");
    try {
        save_onnx(model, dir / "decoder.onnx");
        FAIL("save_onnx wrote a graph with an unknown op");
    } catch (const error& e) {
        CHECK(std::string(e.what()).find("\"decoder\" fails ONNX's checker") != std::string::npos);
    }
    CHECK(std::filesystem::is_empty(dir.path));
}

TEST_CASE("save_onnx leaves the previous file when the disk fills" * doctest::test_suite("misuse")) {
    testing::TempDir dir;
    Rng rng(8);
    Vae<float> vae(parse_vae_config("input=6 hidden=5 latent=2"), rng);
    const std::string path = dir / "encoder.onnx";
    save_onnx(onnx_encoder(vae), path);
    const auto before = std::filesystem::file_size(path);
    testing::fail_writes_after = 100;
    CHECK_THROWS_AS(save_onnx(onnx_decoder(vae), path), io_error);
    testing::fail_writes_after.reset();
    CHECK(std::filesystem::file_size(path) == before);
    CHECK(!std::filesystem::exists(path + ".tmp"));
}
