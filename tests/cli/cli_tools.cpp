// vaelet-mnist sample | reconstruct | interpolate | manifold | encode | score | eval on a trained checkpoint (issue #4).
#include "harness.hpp"

using namespace cli;

namespace {

/// Runs a subcommand on the trained run's checkpoint; the test fails (showing the output) unless it exits 0.
Result tool(const std::string& command, const Args& args) {
    const Result r = run(concat({command, "--ckpt", trained_run().ckpt.string(), "--threads", "1"}, args));
    INFO(command << " output:\n" << r.output);
    REQUIRE(r.code == 0);
    return r;
}

}  // namespace

TEST_CASE("sample: --n images on a grid ceil(sqrt(n)) wide, the same seed gives the same picture") {
    TempDir dir;
    const std::string out = (dir / "s.png").string();
    CHECK(tool("sample", {"--out", out, "--n", "10"}).output.find("wrote 10 samples to " + out) != std::string::npos);
    CHECK(png_size(out) == grid_size(10, 4));
    tool("sample", {"--out", (dir / "again.png").string(), "--n", "10"});
    CHECK(read_file(dir / "again.png") == read_file(out));
    tool("sample", {"--out", (dir / "other.png").string(), "--n", "10", "--seed", "2"});
    CHECK(read_file(dir / "other.png") != read_file(out));
    tool("sample", {"--out", out});  // default 64: 8 x 8
    CHECK(png_size(out) == grid_size(64, 8));
    tool("sample", {"--out", out, "--n", "1"});
    CHECK(png_size(out) == grid_size(1, 1));
    CHECK(tmp_files(dir.path()).empty());
}

TEST_CASE("reconstruct: rows of test images, each above its row of reconstructions") {
    const std::string data = trained_run().data.string();
    TempDir dir;
    const std::string out = (dir / "r.png").string();
    tool("reconstruct", {"--data", data, "--out", out, "--n", "5"});  // one row of 5 above one of 5
    CHECK(png_size(out) == grid_size(10, 5));
    tool("reconstruct", {"--data", data, "--out", out, "--n", "10"});  // 8 + 2, the short row padded to 8
    CHECK(png_size(out) == grid_size(32, 8));
    tool("reconstruct", {"--data", data, "--out", out});  // default 64: 8 rows of pairs
    CHECK(png_size(out) == grid_size(128, 8));
    tool("reconstruct", {"--data", data, "--out", out, "--n", "1000"});  // all 100 test images
    CHECK(png_size(out) == grid_size(208, 8));
}

TEST_CASE("interpolate: --n rows of --steps images between pairs of test images") {
    TempDir dir;
    const std::string out = (dir / "i.png").string();
    tool("interpolate", {"--data", trained_run().data.string(), "--out", out, "--n", "3", "--steps", "5"});
    CHECK(png_size(out) == grid_size(15, 5));
}

TEST_CASE("manifold: a --grid square over a 2-D latent space, and any other latent size is an error") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const std::string out = (dir / "m.png").string();

    const Result wrong = run({"manifold", "--ckpt", t.ckpt.string(), "--out", out});
    check_one_message(wrong, 1, {"manifold draws a 2-D latent space", "--latent 4", "train one with --latent 2"});
    CHECK(!fs::exists(out));

    const std::string run2 = (dir / "latent2").string();
    const Result trained = run({"train", "--data", t.data.string(), "--out", run2, "--epochs", "1", "--latent", "2",
                                "--hidden", "32", "--batch", "32", "--threads", "1"});
    REQUIRE(trained.code == 0);
    const Result r = run({"manifold", "--ckpt", run2 + "/checkpoint.safetensors", "--out", out, "--grid", "5"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(png_size(out) == grid_size(25, 5));
}

TEST_CASE("encode: label, mu_0.., logvar_0.. for every image, in file order") {
    TempDir dir;
    const fs::path out = dir / "z.csv";
    tool("encode", {"--data", trained_run().data.string(), "--out", out.string()});
    const auto rows = read_csv(out);
    REQUIRE(rows.size() == 101);
    CHECK(read_file(out).rfind("label,mu_0,mu_1,mu_2,mu_3,logvar_0,logvar_1,logvar_2,logvar_3\n", 0) == 0);
    for (std::size_t i = 1; i < rows.size(); ++i) {
        REQUIRE(rows[i].size() == 9);
        CHECK(rows[i][0] == std::to_string((i - 1) % 10));  // write_digits labels image i with i % 10
        for (std::size_t j = 1; j < 9; ++j) finite_number(rows[i][j]);
    }
    tool("encode", {"--data", trained_run().data.string(), "--out", out.string(), "--split", "train"});
    CHECK(read_csv(out).size() == 301);
}

TEST_CASE("score: index, label, neg_elbo, recon_error for every image, in file order") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const fs::path out = dir / "scores.csv";
    tool("score", {"--data", t.data.string(), "--out", out.string()});
    const auto rows = read_csv(out);
    REQUIRE(rows.size() == 101);
    CHECK(read_file(out).rfind("index,label,neg_elbo,recon_error\n", 0) == 0);
    double mean = 0;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        REQUIRE(rows[i].size() == 4);
        CHECK(rows[i][0] == std::to_string(i - 1));
        CHECK(rows[i][1] == std::to_string((i - 1) % 10));
        const double neg_elbo = finite_number(rows[i][2]);
        CHECK(neg_elbo > 0);
        CHECK(finite_number(rows[i][3]) > 0);
        mean += neg_elbo / 100;
    }
    // The same figure as epoch 2's test loss in metrics.csv, up to the noise of one sample of z per image.
    const double test_loss = finite_number(read_csv(t.out / "metrics.csv")[2][4]);
    CHECK(mean == doctest::Approx(test_loss).epsilon(0.02));
}

TEST_CASE("eval: prints and writes -ELBO, the IWAE bound and log p(x), both estimates are at most the -ELBO") {
    TempDir dir;
    const fs::path out = dir / "eval.csv";
    const Result r = tool("eval", {"--data", trained_run().data.string(), "--out", out.string(), "--k", "64",
                                   "--iwae-k", "8", "--limit", "50"});
    CHECK(r.output.find("test images 50") != std::string::npos);
    CHECK(r.output.find("-ELBO") != std::string::npos);
    CHECK(r.output.find("NLL, importance sampled (k=64)") != std::string::npos);

    std::map<std::string, double> figures;
    const auto rows = read_csv(out);
    REQUIRE(rows.size() == 6);
    CHECK(rows[0] == std::vector<std::string>{"metric", "value"});
    for (std::size_t i = 1; i < rows.size(); ++i) figures[rows[i][0]] = finite_number(rows[i][1]);
    CHECK(figures["images"] == 50);
    REQUIRE(figures.count("neg_elbo"));
    REQUIRE(figures.count("iwae_8_bound"));
    REQUIRE(figures.count("nll_is_64"));
    // -log p(x) <= -IWAE_k bound <= -ELBO in expectation; each is a mean over 50 images, so allow a little noise.
    CHECK(figures["iwae_8_bound"] <= figures["neg_elbo"] + 1.0);
    CHECK(figures["nll_is_64"] <= figures["neg_elbo"] + 1.0);
    CHECK(figures["nll_is_64"] <= figures["iwae_8_bound"] + 1.0);
    CHECK(figures["neg_elbo"] - figures["nll_is_64"] < 100);  // the same scale: nats per image
}
