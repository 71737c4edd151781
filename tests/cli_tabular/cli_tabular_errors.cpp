// vaelet-tabular on bad input: a non-zero exit code, one message that names the thing and the fix, and nothing
// written or overwritten.
#include "harness.hpp"

#include "vaelet/io/safetensors.hpp"
#include "vaelet/train/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

using namespace tab;

namespace {

// CLI11's exit codes for parse errors (CLI::ExitCodes).
constexpr int conversion_error = 104, required_error = 106;

/// `train` on `csv` with small_model() and `flags` (which replace small_model's options of the same name) into a
/// new run directory: fails with one message and creates nothing.
void check_train_fails(const fs::path& csv, const Args& flags, const std::vector<std::string>& words, int code = 1) {
    TempDir dir;
    const fs::path out = dir / "run";
    Args args{"train", "--csv", csv.string(), "--out", out.string()};
    const Args model = small_model();
    for (std::size_t i = 0; i + 1 < model.size(); i += 2)
        if (std::find(flags.begin(), flags.end(), model[i]) == flags.end()) args = concat(args, {model[i], model[i + 1]});
    const Result r = run(concat(args, flags));
    check_one_message(r, code, words);
    CHECK(!fs::exists(out));
}

/// A subcommand (with `args`) that fails with one message and leaves its --out, a file that exists beforehand,
/// as it was.
void check_tool_fails(const Args& args, const std::vector<std::string>& words, int code = 1) {
    TempDir dir;
    const fs::path out = dir / "existing.csv";
    write_file(out, "keep me");
    const Result r = run(concat(args, {"--out", out.string()}));
    INFO(args[0]);
    check_one_message(r, code, words);
    CHECK(read_file(out) == "keep me");
    CHECK(tmp_files(dir.path()).empty());
}

Args tool(const std::string& command, const fs::path& csv, const Args& more = {}) {
    Args a{command, "--ckpt", trained_run().ckpt.string()};
    if (command != "generate") a = concat(a, {"--csv", csv.string()});
    return concat(a, more);
}

/// The trained table with one cell replaced: row `row` (1 = first data row), column `col`.
fs::path edited_table(const TempDir& dir, std::size_t row, std::size_t col, const std::string& value) {
    auto rows = read_csv(trained_run().csv);
    rows[row][col] = value;
    std::string text;
    for (const auto& r : rows) {
        for (std::size_t j = 0; j < r.size(); ++j) text += (j ? "," : "") + r[j];
        text += "\n";
    }
    write_file(dir / "edited.csv", text);
    return dir / "edited.csv";
}

}  // namespace

TEST_CASE("tabular bad input: train on a missing file, unknown or doubly declared columns, bad flag values") {
    const fs::path csv = trained_run().csv;
    TempDir dir;
    check_train_fails(dir / "nope.csv", {}, {"nope.csv: no such file"});
    check_train_fails(csv, {"--ignore", "segment"}, {"column 'segment' is declared ignored but the header has no such column",
                                                     "columns: id, spend"});
    check_train_fails(csv, {"--categorical", "visits", "--numeric", "visits"},
                      {"column 'visits' is given to both --categorical and --numeric"});
    check_train_fails(csv, {"--numeric", "channel"}, {"declared numeric", "not a number", "'channel'"});
    check_train_fails(csv, {"--epochs", "0"}, {"--epochs must be at least 1, got 0"});
    check_train_fails(csv, {"--lr", "-1"}, {"--lr must be a positive number"});
    check_train_fails(csv, {"--latent", "0"}, {"latent must be at least 1, got 0"});
    check_train_fails(csv, {"--holdout", "1"}, {"--holdout must be at least 0 (no validation rows) and below 1"});
    check_train_fails(csv, {"--threads", "-2"}, {"--threads must be 0 (one per core) or more, got -2"});
    check_train_fails(csv, {"--epochs", "abc"}, {"--epochs"}, conversion_error);

    // Nothing left to model.
    write_file(dir / "ids.csv", "id,group,flag\na,x,0\nb,y,1\n");
    check_train_fails(dir / "ids.csv", {}, {"nothing to model"});
    check_one_message(run({"train", "--csv", csv.string()}), required_error, {"--out is required"});
}

TEST_CASE("tabular bad input: train into an existing run, --resume without one, an unwritable --out") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    fs::copy(t.out, dir / "run");
    const std::string before = read_file(dir / "run" / "checkpoint.safetensors");
    check_one_message(run(concat({"train", "--csv", t.csv.string(), "--out", (dir / "run").string()}, small_model())), 1,
                      {"checkpoint.safetensors already exists: pass --resume"});
    CHECK(read_file(dir / "run" / "checkpoint.safetensors") == before);

    check_one_message(run({"train", "--csv", t.csv.string(), "--out", (dir / "empty").string(), "--resume"}), 1,
                      {"nothing to resume; drop --resume"});
    CHECK(!fs::exists(dir / "empty"));

    // --resume on another table: the row count differs.
    write_customers(dir / "other.csv", 100, 0);
    check_one_message(run({"train", "--csv", (dir / "other.csv").string(), "--out", (dir / "run").string(), "--resume"}), 1,
                      {"has 100 rows, but the run in", "trained on 310 rows", "resume with the same file"});
    CHECK(read_file(dir / "run" / "checkpoint.safetensors") == before);

    write_file(dir / "file", "a file, not a directory");
    check_one_message(run(concat({"train", "--csv", t.csv.string(), "--out", (dir / "file" / "run").string()}, small_model())),
                      1, {"cannot create the run directory"});
}

TEST_CASE("tabular bad input: a missing or foreign checkpoint") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    check_tool_fails({"score", "--ckpt", (dir / "none.safetensors").string(), "--csv", t.csv.string()},
                     {"none.safetensors", "No such file"});

    // A checkpoint of an image VAE (what vaelet-mnist writes) has no table encoder.
    vaelet::RunConfig c;
    c.model->input = 4;
    c.model->hidden = {3};
    c.model->latent = 2;
    vaelet::Rng init(1);
    vaelet::Vae<float> vae(*c.model, init);
    const vaelet::Dataset images(std::vector<std::uint8_t>(8, 0), 2, 2);
    vaelet::Trainer<float> trainer(vae, images, c.train);
    const std::string image_ckpt = (dir / "image.safetensors").string();
    vaelet::save_checkpoint(image_ckpt, trainer, {}, c);
    check_tool_fails({"encode", "--ckpt", image_ckpt, "--csv", t.csv.string()},
                     {"not a vaelet-tabular checkpoint (its model has the bernoulli likelihood"});

    // A damaged layout: the config's column counts no longer add up to the model's input.
    vaelet::SafeTensors st = vaelet::load_safetensors(t.ckpt.string());
    nlohmann::json config = nlohmann::json::parse(st.metadata.at("config"));
    config["model"]["tabular"]["categorical_sizes"] = {4};
    st.metadata["config"] = config.dump();
    const std::string damaged = (dir / "damaged.safetensors").string();
    vaelet::save_safetensors(damaged, st);
    check_tool_fails({"generate", "--ckpt", damaged, "--n", "3"},
                     {"tabular layout of 6 columns but model.input = 5", "damaged"});
    CHECK_THROWS_AS(vaelet::read_checkpoint_config(damaged), vaelet::io_error);
}

TEST_CASE("tabular bad input: a table without a training column, with an unseen category or a word for a number") {
    TempDir dir;
    write_file(dir / "no_spend.csv", "id,visits,channel\na,3,store\n");
    for (const std::string command : {"encode", "segment", "score"}) {
        const Args more = command == "segment" ? Args{"--k", "1"} : Args{};
        check_tool_fails(tool(command, dir / "no_spend.csv", more),
                         {"no_spend.csv: no column spend, which the model was trained on", "the file has id, visits, channel"});
    }
    check_tool_fails(tool("score", edited_table(dir, 4, 3, "boat")),
                     {"edited.csv", "column 'channel', data row 4: category 'boat' was not seen", "known: app, store, web"});
    check_tool_fails(tool("encode", edited_table(dir, 2, 1, "lots")), {"edited.csv", "'spend'", "not a number"});
    check_tool_fails(tool("score", dir / "missing.csv"), {"missing.csv: no such file"});
}

TEST_CASE("tabular bad input: bad --k, --n, --samples, --truth and --out") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    check_tool_fails(tool("segment", t.csv, {"--k", "0"}), {"--k must be at least 1, got 0"});
    check_tool_fails(tool("segment", t.csv, {"--k", "311"}), {"--k 311 is more segments than", "has rows (310)"});
    check_tool_fails(tool("segment", t.csv, {"--k", "2", "--truth", "segment"}),
                     {"--truth segment:", "has no such column (columns: id, spend, visits, channel, group, flag)"});
    check_tool_fails(tool("segment", t.csv), {"--k is required"}, required_error);
    check_tool_fails(tool("generate", t.csv, {"--n", "0"}), {"--n must be from 1 to 1000000, got 0"});
    check_tool_fails(tool("score", t.csv, {"--samples", "0"}), {"--samples must be at least 1, got 0"});
    check_tool_fails(tool("score", t.csv, {"--truth", "group"}),
                     {"--truth group:", "data row 1 holds 'low'", "1 (outlier) or 0"});
    check_tool_fails(tool("score", t.csv, {"--truth", "id"}), {"--truth id:", "holds 'c0001'"});

    // --out in a directory that does not exist, or a directory itself: nothing is written anywhere.
    for (const std::string command : {"encode", "score"}) {
        Result r = run(concat(tool(command, t.csv), {"--out", (dir / "no" / "such" / "dir.csv").string()}));
        check_one_message(r, 1, {"cannot create", "dir.csv", "does the directory exist"});
        r = run(concat(tool(command, t.csv), {"--out", dir.path().string()}));
        check_one_message(r, 1, {"it is a directory; give a file name"});
    }
    CHECK(tmp_files(dir.path()).empty());
}
