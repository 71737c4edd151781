// vaelet-mnist export: a checkpoint's ONNX graphs (issue #16). That the graphs compute what vaelet computes is
// tests/deploy's part (check_onnx.mjs runs them in ONNX Runtime).
#include "harness.hpp"

using namespace cli;

#ifdef VAELET_MNIST_HAS_ONNX
TEST_CASE("export: encoder, decoder and reconstruction graphs of a checkpoint, each with its inputs and outputs") {
    TempDir dir;
    const fs::path out = dir / "onnx";
    const Result r = run({"export", "--ckpt", trained_run().ckpt.string(), "--out", out.string()});
    INFO(r.output);
    REQUIRE(r.code == 0);
    for (const char* graph : {"encoder", "decoder", "reconstruction"}) {
        const fs::path file = out / (std::string(graph) + ".onnx");
        CHECK(fs::file_size(file) > 1000);
        CHECK(r.output.find("wrote " + file.string() + "  ") != std::string::npos);
    }
    CHECK(r.output.find("x[batch,784] -> mu[batch,4], logvar[batch,4], code[batch,4]") != std::string::npos);
    CHECK(r.output.find("z[batch,4] -> output[batch,784], mean[batch,784]") != std::string::npos);
    CHECK(r.output.find("x[batch,784], eps[batch,4] -> mean[batch,784]") != std::string::npos);
    CHECK(tmp_files(out).empty());
}

TEST_CASE("export: an --out that is a file is one error, and nothing is written") {
    TempDir dir;
    const fs::path file = dir / "taken";
    write_file(file, "x");
    const Result r = run({"export", "--ckpt", trained_run().ckpt.string(), "--out", file.string()});
    check_one_message(r, 1, {file.string()});
    CHECK(read_file(file) == "x");
}
#else
TEST_CASE("export: a vaelet-mnist without ONNX says how to get it") {
    TempDir dir;
    const Result r = run({"export", "--ckpt", trained_run().ckpt.string(), "--out", (dir / "onnx").string()});
    check_one_message(r, 1, {"built without ONNX export", "libonnx-dev"});
}
#endif
