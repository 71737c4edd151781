// vaelet-mnist --ckpt given a plain PyTorch state_dict of the canonical VAE (fc1, fc21, fc22, fc3, fc4 as
// safetensors, no vaelet metadata): its sizes read off the tensors, or --arch; a wrong --arch is one error naming
// the tensor, and --arch on a checkpoint is refused.
#include "harness.hpp"

#include "vaelet/train/model_file.hpp"
#include "vaelet/vae/score.hpp"

using namespace cli;

namespace {

/// A 784-32-4 VAE of vaelet's, fresh weights from `seed`.
std::unique_ptr<vaelet::Vae<float>> canonical_vae(std::uint64_t seed) {
    vaelet::Rng rng(seed);
    return std::make_unique<vaelet::Vae<float>>(vaelet::parse_vae_config("input=784 hidden=32 latent=4"), rng);
}

/// `vae`'s weights as a state_dict file: the names PyTorch's example gives them (fc1.weight, …) or, with
/// `prefixed`, vaelet's (encoder.fc1.weight, …, as bench/pytorch_vae.py writes); F32, no metadata.
void write_state_dict(const fs::path& path, vaelet::Vae<float>& vae, bool prefixed = false) {
    vaelet::SafeTensors st;
    vaelet::save_parameters(st, prefixed ? vae.named_parameters() : vaelet::file_parameters(vae));
    vaelet::save_safetensors(path.string(), st);
}


}  // namespace

TEST_CASE("state_dict: sample, reconstruct, score and eval take a PyTorch state_dict as --ckpt") {
    TempDir dir;
    const std::string data = trained_run().data.string();
    auto vae = canonical_vae(11);
    const fs::path sd = dir / "state_dict.safetensors";
    write_state_dict(sd, *vae);
    {
        const vaelet::SafeTensors st = vaelet::load_safetensors(sd.string());
        REQUIRE(st.metadata.empty());
        REQUIRE(st.contains("fc1.weight"));
        REQUIRE(st.at("fc1.bias").shape == std::vector<std::int64_t>{32});
    }

    const std::string png = (dir / "s.png").string();
    CHECK(run_tool("sample", sd, {"--out", png, "--n", "9"}).output.find("wrote 9 samples to " + png) !=
          std::string::npos);
    CHECK(png_size(png) == grid_size(9, 3));
    run_tool("reconstruct", sd, {"--data", data, "--out", (dir / "r.png").string(), "--n", "5"});
    CHECK(png_size(dir / "r.png") == grid_size(10, 5));

    // score's recon_error is −log p(x | z = μ), deterministic: the very figures of the model whose weights were
    // written, up to the 4 decimals printed (and float rounding), so the file's weights are the ones used.
    const fs::path scores = dir / "scores.csv";
    run_tool("score", sd, {"--data", data, "--out", scores.string()});
    const auto rows = read_csv(scores);
    REQUIRE(rows.size() == 101);
    vaelet::Rng unused(1);
    const vaelet::Dataset test = vaelet::load_mnist(data, "test");
    vaelet::Matrix<float> x(test.size(), test.features());
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        for (Eigen::Index j = 0; j < x.cols(); ++j) x(i, j) = float(test.image(i)[j]) / 255.0f;
    const vaelet::ExampleScores expected = vaelet::score_examples(*vae, x, unused, 1);
    for (std::size_t i = 1; i < rows.size(); ++i) {
        REQUIRE(rows[i].size() == 4);
        CHECK(finite_number(rows[i][2]) > 0);
        CHECK(finite_number(rows[i][3]) == doctest::Approx(expected.recon_error(Eigen::Index(i - 1), 0)).epsilon(1e-5));
    }

    const fs::path eval = dir / "eval.csv";
    const Result r =
        run_tool("eval", sd, {"--data", data, "--out", eval.string(), "--k", "8", "--iwae-k", "4", "--limit", "20"});
    CHECK(r.output.find("-ELBO") != std::string::npos);
    std::map<std::string, double> figures;
    for (const auto& row : read_csv(eval))
        if (row.size() == 2 && row[0] != "metric") figures[row[0]] = finite_number(row[1]);
    CHECK(figures["images"] == 20);
    CHECK(figures["neg_elbo"] > 0);

    // The architecture spelled out reads the same model; so do vaelet's prefixed names (bench/pytorch_vae.py).
    run_tool("sample", sd,
             {"--out", (dir / "arch.png").string(), "--n", "9", "--arch", "input=784 hidden=32 latent=4"});
    CHECK(read_file(dir / "arch.png") == read_file(png));
    const fs::path prefixed = dir / "prefixed.safetensors";
    write_state_dict(prefixed, *vae, /*prefixed=*/true);
    REQUIRE(vaelet::load_safetensors(prefixed.string()).contains("encoder.fc1.weight"));
    run_tool("sample", prefixed, {"--out", (dir / "prefixed.png").string(), "--n", "9"});
    CHECK(read_file(dir / "prefixed.png") == read_file(png));
    // …and other weights make another picture, so the comparisons above see the weights.
    write_state_dict(dir / "other.safetensors", *canonical_vae(12));
    run_tool("sample", dir / "other.safetensors", {"--out", (dir / "other.png").string(), "--n", "9"});
    CHECK(read_file(dir / "other.png") != read_file(png));
}

TEST_CASE("state_dict: an --arch the tensors contradict is one error naming the tensor, and a checkpoint refuses --arch") {
    TempDir dir;
    const fs::path sd = dir / "state_dict.safetensors";
    write_state_dict(sd, *canonical_vae(11));
    const std::string png = (dir / "s.png").string();

    const Result wide = run({"sample", "--ckpt", sd.string(), "--out", png, "--arch", "hidden=64"});
    check_one_message(wide, 1, {sd.string() + ": tensor fc1.weight has shape [32, 784] but the architecture given for "
                                "it expects [64, 784]", "correct the architecture given in --arch, or leave it out"});
    const Result latent = run({"score", "--ckpt", sd.string(), "--data", trained_run().data.string(), "--out",
                               (dir / "scores.csv").string(), "--arch", "latent=8 hidden=32"});
    check_one_message(latent, 1, {"tensor fc21.weight has shape [4, 32] but the architecture given for it expects [8, 32]"});
    const Result unknown = run({"sample", "--ckpt", sd.string(), "--out", png, "--arch", "depth=3"});
    check_one_message(unknown, 1, {"architecture: no field \"depth\""});
    CHECK(!fs::exists(png));
    CHECK(!fs::exists(dir / "scores.csv"));

    const std::string ckpt = trained_run().ckpt.string();
    const Result refused = run({"sample", "--ckpt", ckpt, "--out", png, "--arch", "hidden=32 latent=4"});
    check_one_message(refused, 1, {"--arch is for a state_dict; " + ckpt + " is a vaelet checkpoint and knows its model"});
    CHECK(!fs::exists(png));
}
