// vaelet-mnist on bad input, every kind of issue #6: a non-zero exit code, one message that names the thing and
// the fix, and nothing written or overwritten. docs/errors.md lists these cases, message by message.
#include "harness.hpp"

#include "vaelet/io/safetensors.hpp"

#include <nlohmann/json.hpp>

using namespace cli;

namespace {

// CLI11's exit codes for parse errors (CLI::ExitCodes).
constexpr int conversion_error = 104, required_error = 106, extras_error = 109, argument_mismatch = 114;

/// A copy of the trained run's data in `dir`, to damage.
fs::path copy_data(const TempDir& dir) {
    fs::copy(trained_run().data, dir / "data");
    return dir / "data";
}

/// `train` on `data` into a new run directory `out`: fails with one message and creates nothing.
void check_train_fails(const fs::path& out, const fs::path& data, const std::vector<std::string>& words) {
    const Result r = run(concat({"train", "--data", data.string(), "--out", out.string()}, small_model()));
    check_one_message(r, 1, words);
    CHECK(!fs::exists(out));
}

/// A subcommand on the trained checkpoint with `data`: fails with one message and leaves `out` (a file that
/// exists beforehand) as it was.
void check_tool_fails(const std::string& command, const fs::path& data, const std::vector<std::string>& words) {
    TempDir dir;
    const fs::path out = dir / "existing.out";
    write_file(out, "keep me");
    Args args{command, "--ckpt", trained_run().ckpt.string(), "--data", data.string(), "--out", out.string()};
    const Result r = run(args);
    INFO(command);
    check_one_message(r, 1, words);
    CHECK(read_file(out) == "keep me");
    CHECK(tmp_files(dir.path()).empty());
}

/// The trained checkpoint with its config claiming other hidden widths than its tensors have.
void write_other_architecture(const fs::path& path) {
    vaelet::SafeTensors st = vaelet::load_safetensors(trained_run().ckpt.string());
    nlohmann::json config = nlohmann::json::parse(st.metadata.at("config"));
    config["model"]["hidden"] = {64};
    st.metadata["config"] = config.dump();
    vaelet::save_safetensors(path.string(), st);
}

}  // namespace

TEST_CASE("bad input: a data directory or an IDX file that does not exist") {
    TempDir dir;
    const std::string missing = (dir / "no-such-dir").string();
    check_train_fails(dir / "new-run", missing, {missing + ": not found or not a directory", "scripts/get-data mnist " + missing});
    check_tool_fails("score", missing, {missing + ": not found or not a directory", "scripts/get-data"});

    const fs::path data = copy_data(dir);
    fs::remove(data / "t10k-images-idx3-ubyte");
    const std::string looked_for = (data / "t10k-images-idx3-ubyte").string();
    check_train_fails(dir / "new-run", data, {data.string() + ": MNIST test files missing; looked for " + looked_for +
                                                  " or " + looked_for + ".gz", "scripts/get-data mnist"});
}

TEST_CASE("bad input: a directory where a file should be") {
    TempDir dir;
    const fs::path data = copy_data(dir);
    fs::remove(data / "train-images-idx3-ubyte");
    fs::create_directory(data / "train-images-idx3-ubyte");
    check_train_fails(dir / "new-run", data, {"train-images-idx3-ubyte: is a directory, not an IDX image file"});

    const Result ckpt = run({"sample", "--ckpt", dir.path().string(), "--out", (dir / "s.png").string()});
    check_one_message(ckpt, 1, {"cannot read '" + dir.path().string() + "': not a regular file",
                                "give the path of a .safetensors file"});

    const Result out = run({"sample", "--ckpt", trained_run().ckpt.string(), "--out", dir.path().string()});
    check_one_message(out, 1, {"cannot write '" + dir.path().string() + "': it is a directory; give a file name"});
}

TEST_CASE("bad input: a truncated IDX file") {
    TempDir dir;
    const fs::path data = copy_data(dir);
    const fs::path images = data / "train-images-idx3-ubyte";
    const std::string bytes = read_file(images);
    write_file(images, bytes.substr(0, 1000));
    check_train_fails(dir / "new-run", data, {"header says 300 images of 28x28 (235,200 bytes) but the file holds only 984 bytes",
                                  "the file is truncated — download it again"});
    write_file(images, bytes.substr(0, 3));
    check_train_fails(dir / "new-run", data, {"holds only 3 bytes, too short for an IDX header", "the file is truncated"});

    write_file(images, bytes);
    const fs::path labels = data / "t10k-labels-idx1-ubyte";
    write_file(labels, read_file(labels).substr(0, 50));
    check_train_fails(dir / "new-run", data, {"t10k-labels-idx1-ubyte: header says 100 labels", "the file is truncated"});
    check_tool_fails("encode", data, {"t10k-labels-idx1-ubyte: header says 100 labels", "the file is truncated"});
}

TEST_CASE("bad input: an IDX file with the wrong magic number") {
    TempDir dir;
    const fs::path data = copy_data(dir);
    const fs::path images = data / "train-images-idx3-ubyte";
    std::string bytes = read_file(images);
    bytes[0] = '\x12';
    bytes[1] = '\x34';
    write_file(images, bytes);
    check_train_fails(dir / "new-run", data, {"not an IDX file: magic is 0x12340803, expected 0x00000803"});

    fs::copy_file(data / "train-labels-idx1-ubyte", images, fs::copy_options::overwrite_existing);
    check_train_fails(dir / "new-run", data, {"this looks like a label file — are the image and label paths swapped?"});
}

TEST_CASE("bad input: label and image files that disagree in count") {
    TempDir dir;
    const fs::path data = copy_data(dir);
    vaelet::write_idx_labels(data / "train-labels-idx1-ubyte", std::vector<std::uint8_t>(200, 1));
    check_train_fails(dir / "new-run", data, {"holds 300 images but", "train-labels-idx1-ubyte holds 200 labels",
                                  "must be the same split of the same dataset"});
}

TEST_CASE("bad input: 20x20 images for a checkpoint trained on 28x28") {
    TempDir dir;
    const fs::path small = dir / "small";
    write_digits(small, 40, 20, 20, 20);
    const std::string says = small.string() + ": images have 400 pixels";
    for (const char* command : {"reconstruct", "encode", "score", "eval", "interpolate"})
        check_tool_fails(command, small, {says + " (20x20) but the checkpoint's model expects 784"});

    fs::copy(trained_run().out, dir / "run");
    const auto before = snapshot(dir / "run");
    const Result r = run({"train", "--data", small.string(), "--out", (dir / "run").string(), "--resume"});
    check_one_message(r, 1, {says + " but the checkpoint's model expects 784"});
    CHECK(snapshot(dir / "run") == before);
}

TEST_CASE("bad input: a checkpoint whose tensors have another architecture's shapes") {
    TempDir dir;
    const fs::path ckpt = dir / "other.safetensors";
    write_other_architecture(ckpt);
    const std::string says = "tensor fc1.weight has shape [32, 784] but the model expects [64, 784]";
    const Result r = run({"sample", "--ckpt", ckpt.string(), "--out", (dir / "s.png").string()});
    check_one_message(r, 1, {ckpt.string() + ": " + says, "other hidden widths or latent size"});
    CHECK(!fs::exists(dir / "s.png"));

    fs::copy(trained_run().out, dir / "run");
    write_other_architecture(dir / "run" / "checkpoint.safetensors");
    const auto before = snapshot(dir / "run");
    const Result resumed = run({"train", "--data", trained_run().data.string(), "--out", (dir / "run").string(), "--resume"});
    check_one_message(resumed, 1, {says});
    CHECK(snapshot(dir / "run") == before);
}

TEST_CASE("bad input: a file that is not a checkpoint") {
    TempDir dir;
    const auto fails = [&](const fs::path& ckpt, const std::vector<std::string>& words) {
        const Result r = run({"sample", "--ckpt", ckpt.string(), "--out", (dir / "s.png").string()});
        check_one_message(r, 1, words);
        CHECK(!fs::exists(dir / "s.png"));
    };
    fails(dir / "missing.safetensors", {"cannot open '" + (dir / "missing.safetensors").string() + "'",
                                        "No such file or directory"});
    write_file(dir / "empty", "");
    fails(dir / "empty", {"0 bytes is too short for safetensors", "not safetensors"});
    fails(trained_run().out / "metrics.csv", {"metrics.csv: the header claims", "the file is truncated or not safetensors"});

    vaelet::SafeTensors weights;  // a safetensors file, but not a vaelet checkpoint
    weights.put_vector<float>("fc1.bias", {1, 2, 3});
    vaelet::save_safetensors((dir / "weights.safetensors").string(), weights);
    fails(dir / "weights.safetensors", {"no tensor fc1.weight, so this is not a vaelet model file nor a state_dict "
                                        "of PyTorch's example VAE", "--arch"});
}

TEST_CASE("bad input: an output path that cannot be written") {
    // Under a regular file, so that it fails for root too (permissions would not stop root).
    TempDir dir;
    write_file(dir / "file.txt", "keep me");
    const std::string under_file = (dir / "file.txt" / "run").string();
    check_train_fails(under_file, trained_run().data,
                      {"--out " + under_file + ": cannot create the run directory (Not a directory); choose another --out"});

    const std::string png = (dir / "file.txt" / "s.png").string();
    const Result r = run({"sample", "--ckpt", trained_run().ckpt.string(), "--out", png});
    check_one_message(r, 1, {"cannot create '" + png + "'", "Not a directory", "is it writable"});
    CHECK(read_file(dir / "file.txt") == "keep me");
}

TEST_CASE("bad input: flag values out of range, and flags CLI11 cannot parse") {
    TempDir dir;
    const std::string data = trained_run().data.string(), out = (dir / "run").string();
    struct Case {
        Args args;
        int code;
        std::string says;
    };
    const std::vector<Case> cases{
        {{"--epochs", "-1"}, 1, "--epochs must be at least 1, got -1"},
        {{"--epochs", "0"}, 1, "--epochs must be at least 1, got 0"},
        {{"--batch", "0"}, 1, "--batch must be at least 1, got 0"},
        {{"--latent", "0"}, 1, "VAE config: latent must be at least 1, got 0"},
        {{"--hidden", "0"}, 1, "VAE config: hidden width must be at least 1, got 0"},
        {{"--likelihood", "poisson"}, 1, "unknown likelihood 'poisson'; use bernoulli, gaussian"},
        {{"--likelihood", "tabular"}, 1, "--likelihood tabular is for tables, not images; use bernoulli"},
        {{"--likelihood", "gaussian", "--sigma", "0"}, 1, "VAE config: sigma must be positive"},
        {{"--threads", "-1"}, 1, "--threads must be 0 (one per core) or more, got -1"},
        {{"--lr", "-1"}, 1, "--lr must be a positive number"},
        {{"--limit", "-5"}, 1, "--limit must be 0 (all) or more, got -5"},
        {{"--exclude-digits", "300"}, 1, "--exclude-digits: 300 is not a label"},
        {{"--epochs", "abc"}, conversion_error, "Could not convert: --epochs = abc"},
        {{"--frob"}, extras_error, "The following argument was not expected: --frob"},
        {{"--epochs", "1", "--epochs", "2"}, argument_mismatch, "--epochs: At Most 1 required but received 2"},
    };
    for (const auto& c : cases) {
        INFO(c.says);
        const Args base{"train", "--data", data, "--out", out};
        check_one_message(run(concat(base, c.args)), c.code, {c.says});
        CHECK(!fs::exists(out));
    }
    check_one_message(run({"train", "--data", data}), required_error, {"--out is required"});
    check_one_message(run({}), required_error, {"A subcommand is required"});

    const std::string ckpt = trained_run().ckpt.string(), png = (dir / "x.png").string();
    check_one_message(run({"sample", "--ckpt", ckpt, "--out", png, "--n", "0"}), 1, {"--n must be at least 1, got 0"});
    check_one_message(run({"encode", "--ckpt", ckpt, "--data", data, "--out", png, "--split", "valid"}), 1,
                      {"--split is \"valid\"; use test or train"});
    check_one_message(run({"eval", "--ckpt", ckpt, "--data", data, "--k", "0"}), 1, {"--k and --iwae-k must be at least 1"});
    check_one_message(run({"interpolate", "--ckpt", ckpt, "--data", data, "--out", png, "--steps", "1"}), 1,
                      {"--n must be at least 1 and --steps at least 2"});
    check_one_message(run({"interpolate", "--ckpt", ckpt, "--data", data, "--out", png, "--n", "60"}), 1,
                      {"--n 60 needs 120 test images"});
    check_one_message(run({"sample", "--ckpt", ckpt, "--out", png, "--threads", "-1"}), 1,
                      {"--threads must be 0 (one per core) or more, got -1"});
    CHECK(!fs::exists(png));
}

TEST_CASE("bad input: train into an existing run without --resume") {
    TempDir dir;
    fs::copy(trained_run().out, dir / "run");
    const auto before = snapshot(dir / "run");
    const Result r = run(concat({"train", "--data", trained_run().data.string(), "--out", (dir / "run").string()},
                                small_model()));
    check_one_message(r, 1, {"checkpoint.safetensors already exists: pass --resume to continue that run, or choose a "
                             "new --out"});
    CHECK(snapshot(dir / "run") == before);
}

TEST_CASE("bad input: --resume where there is no checkpoint") {
    TempDir dir;
    fs::create_directories(dir / "run");
    write_file(dir / "run" / "notes.txt", "keep me");
    const auto before = snapshot(dir / "run");
    const Result r = run({"train", "--data", trained_run().data.string(), "--out", (dir / "run").string(), "--resume"});
    check_one_message(r, 1, {"checkpoint.safetensors: not found, so there is nothing to resume; drop --resume to start "
                             "a new run"});
    CHECK(snapshot(dir / "run") == before);
}
