// vaelet-mnist compress | decompress | generate | classify | anomaly on a trained checkpoint, and their errors.
#include "harness.hpp"

using namespace cli;

namespace {

Result succeeds(const Args& args) {
    const Result r = run(concat(args, {"--threads", "1"}));
    INFO(args[0] << " output:\n" << r.output);
    REQUIRE(r.code == 0);
    return r;
}

}  // namespace

TEST_CASE("compress and decompress: float16 latent means, decoded to a PNG grid or to IDX images") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const std::string vlc = (dir / "codes.vlc").string(), ckpt = t.ckpt.string();
    const Result r = succeeds({"compress", "--ckpt", ckpt, "--data", t.data.string(), "--out", vlc});
    CHECK(r.output.find("compressed 100 images to " + vlc) != std::string::npos);
    CHECK(r.output.find("PCA (4 components)") != std::string::npos);
    CHECK(fs::file_size(vlc) == 20 + 100 * 4 * 2 + 100);  // header, 100 × 4 float16, 100 labels

    succeeds({"decompress", "--ckpt", ckpt, "--in", vlc, "--out", (dir / "d.png").string()});
    CHECK(png_size(dir / "d.png") == grid_size(100, 16));
    succeeds({"decompress", "--ckpt", ckpt, "--in", vlc, "--out", (dir / "d-idx3-ubyte").string()});
    const vaelet::Dataset decoded = vaelet::read_idx_images(dir / "d-idx3-ubyte");
    CHECK(decoded.size() == 100);
    CHECK(decoded.rows() == 28);
    CHECK(decoded.cols() == 28);

    const Result bad = run({"decompress", "--ckpt", ckpt, "--in", (t.data / "t10k-labels-idx1-ubyte").string(), "--out",
                            (dir / "x.png").string()});
    check_one_message(bad, 1, {"t10k-labels-idx1-ubyte: not a .vlc latent file (no VLC1 header)"});
    CHECK(!fs::exists(dir / "x.png"));
}

TEST_CASE("generate: --n images as an IDX file, and --digit only for a conditional model") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    succeeds({"generate", "--ckpt", t.ckpt.string(), "--out", (dir / "gen").string(), "--n", "20"});
    const vaelet::Dataset generated = vaelet::read_idx_images(dir / "gen" / "train-images-idx3-ubyte");
    CHECK(generated.size() == 20);
    CHECK(generated.features() == 784);
    CHECK(!fs::exists(dir / "gen" / "train-labels-idx1-ubyte"));  // an unconditional model has no labels to give

    const Args base{"generate", "--ckpt", t.ckpt.string(), "--out", (dir / "gen2").string(), "--n", "5"};
    check_one_message(run(concat(base, {"--digit", "abc"})), 1, {"--digit must be 0..9 or all, got abc"});
    check_one_message(run(concat(base, {"--digit", "3"})), 1, {"--digit needs a conditional model (train with --conditional)"});
    CHECK(!fs::exists(dir / "gen2"));

    write_file(dir / "file.txt", "keep me");
    const std::string under_file = (dir / "file.txt" / "gen").string();
    check_one_message(run({"generate", "--ckpt", t.ckpt.string(), "--out", under_file}), 1,
                      {"--out " + under_file + ": cannot create the directory (Not a directory); choose another --out"});
    CHECK(read_file(dir / "file.txt") == "keep me");
}

TEST_CASE("classify: softmax regression on one directory's train split, tested on another's test split") {
    const TrainedRun& t = trained_run();
    const Result r = succeeds({"classify", "--train-data", t.data.string(), "--data", t.data.string(), "--epochs", "10"});
    const auto at = r.output.find("accuracy ");
    REQUIRE(at != std::string::npos);
    const double accuracy = std::stod(r.output.substr(at + 9));
    CHECK(accuracy >= 0.5);  // chance is 0.1; each label of write_digits draws its own bars
    CHECK(accuracy <= 1.0);

    TempDir dir;
    write_digits(dir / "small", 40, 20, 20, 20);
    check_one_message(run({"classify", "--train-data", t.data.string(), "--data", (dir / "small").string()}), 1,
                      {t.data.string() + ": images have 784 pixels but " + (dir / "small").string() +
                       " has test images of 400"});
}

TEST_CASE("anomaly: AUROC of finding --digit by -ELBO, and the most and least anomalous images") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Args base{"anomaly", "--ckpt", t.ckpt.string(), "--data", t.data.string()};
    const Result r = succeeds(concat(base, {"--digit", "3", "--iwae-k", "5", "--out", (dir / "a.png").string()}));
    const auto at = r.output.find("AUROC ");
    REQUIRE(at != std::string::npos);
    const double auc = std::stod(r.output.substr(at + 6));
    CHECK(auc >= 0.0);
    CHECK(auc <= 1.0);
    CHECK(r.output.find("over 100 test images (10 of digit 3)") != std::string::npos);
    CHECK(png_size(dir / "a.png") == grid_size(64, 8));  // the 32 most anomalous, then the 32 least

    check_one_message(run(concat(base, {"--digit", "x"})), 1, {"--digit must be 0..9, got x"});
    check_one_message(run(concat(base, {"--digit", "42"})), 1, {"--digit must be 0..9, got 42"});
}
