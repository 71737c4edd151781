// vaelet-tabular end to end: train (files, determinism, resume) and what encode, segment, generate and score write.
#include "harness.hpp"

#include "vaelet/data/tabular.hpp"
#include "vaelet/train/checkpoint.hpp"

#include <set>

using namespace tab;

namespace {

/// The number at the end of the output line that contains `label` (NaN when there is no such line).
double figure_after(const std::string& output, const std::string& label) {
    for (const auto& line : split(output, '\n'))
        if (line.find(label) != std::string::npos) return finite_number(line.substr(line.find_last_of(' ') + 1));
    FAIL_CHECK("no line with: " << label);
    return std::nan("");
}

}  // namespace

TEST_CASE("tabular train: 2 epochs write metrics.csv and a checkpoint holding the table encoder") {
    const TrainedRun& t = trained_run();

    check_metrics(t.out / "metrics.csv", 2);

    // The model and its layout: spend and visits standardized, channel one-hot over app, store, web.
    const vaelet::RunConfig config = vaelet::read_checkpoint_config(t.ckpt.string());
    CHECK(config.model->likelihood == vaelet::LikelihoodKind::tabular);
    CHECK(config.model->tabular == vaelet::TabularLayout{2, {3}});
    CHECK(config.model->input == 5);
    CHECK(config.model->hidden == std::vector<vaelet::Index>{16});
    CHECK(config.model->latent == 2);
    CHECK(config.train.epochs == 2);
    CHECK(config.extra.at("rows") == 310);
    const auto encoder = vaelet::TabularEncoder::from_json(config.extra.at("encoder"));
    CHECK(encoder.feature_names() == std::vector<std::string>{"spend", "visits", "channel=app", "channel=store", "channel=web"});
    std::map<std::string, vaelet::ColumnKind> kinds;
    for (const auto& c : encoder.columns()) kinds[c.name] = c.kind;
    CHECK(kinds == std::map<std::string, vaelet::ColumnKind>{{"id", vaelet::ColumnKind::id},
                                                             {"spend", vaelet::ColumnKind::numeric},
                                                             {"visits", vaelet::ColumnKind::numeric},
                                                             {"channel", vaelet::ColumnKind::categorical},
                                                             {"group", vaelet::ColumnKind::ignored},
                                                             {"flag", vaelet::ColumnKind::ignored}});
    CHECK(vaelet::load_model<float>(t.ckpt.string())->likelihood().layout() == vaelet::TabularLayout{2, {3}});

    std::set<std::string> files;
    for (const auto& entry : fs::directory_iterator(t.out)) files.insert(entry.path().filename().string());
    CHECK(files == std::set<std::string>{"checkpoint.safetensors", "metrics.csv"});
}

TEST_CASE("tabular train: two identical runs write identical checkpoints, and 1 epoch + --resume equals 2 straight") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const std::string again = (dir / "again").string(), resumed = (dir / "resumed").string();
    Result r = run(concat({"train", "--csv", t.csv.string(), "--out", again, "--epochs", "2"}, small_model()));
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("id: id (detected") != std::string::npos);  // the schema, with how each kind was chosen
    CHECK(r.output.find("group: ignored (declared)") != std::string::npos);
    CHECK(r.output.find("on 279 rows (31 held out for validation)") != std::string::npos);
    check_same_run(dir / "again", t.out);

    r = run(concat({"train", "--csv", t.csv.string(), "--out", resumed, "--epochs", "1"}, small_model()));
    REQUIRE(r.code == 0);
    r = run({"train", "--csv", t.csv.string(), "--out", resumed, "--resume", "--epochs", "2", "--threads", "1"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    CHECK(r.output.find("resuming " + resumed + " at epoch 2 (step 9)") != std::string::npos);
    check_same_run(dir / "resumed", t.out);
    CHECK(tmp_files(dir.path()).empty());
}

TEST_CASE("tabular encode: the id, then mu_0…, logvar_0… for every row in file order") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const Result r = run({"encode", "--ckpt", t.ckpt.string(), "--csv", t.csv.string(), "--out", (dir / "z.csv").string()});
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto rows = read_csv(dir / "z.csv");
    REQUIRE(rows.size() == 311);
    CHECK(rows[0] == std::vector<std::string>{"id", "mu_0", "mu_1", "logvar_0", "logvar_1"});
    CHECK(rows[1][0] == "c0001");
    CHECK(rows[310][0] == "c0310");
    for (std::size_t i = 1; i < rows.size(); ++i) {
        REQUIRE(rows[i].size() == 5);
        for (std::size_t j = 1; j < 5; ++j) finite_number(rows[i][j]);
    }
}

TEST_CASE("tabular segment: the id and a segment per row, and --truth prints the ARI beside k-means on the columns") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const fs::path out = dir / "segments.csv";
    Result r = run({"segment", "--ckpt", t.ckpt.string(), "--csv", t.csv.string(), "--k", "3", "--out", out.string(),
                    "--truth", "group"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto rows = read_csv(out);
    REQUIRE(rows.size() == 311);
    CHECK(rows[0] == std::vector<std::string>{"id", "segment"});
    std::set<std::string> segments;
    for (std::size_t i = 1; i < rows.size(); ++i) segments.insert(rows[i][1]);
    CHECK(segments == std::set<std::string>{"0", "1", "2"});
    CHECK(r.output.find("adjusted Rand index against 'group' (k-means++, k = 3, seed 1)") != std::string::npos);
    // Two groups and the outliers are far apart in the standardized columns: k-means finds them exactly.
    CHECK(figure_after(r.output, "standardized columns (5 dims)") == 1.0);
    const double ari = figure_after(r.output, "VAE latent means (2 dims)");
    CHECK((ari >= -1 && ari <= 1));

    // The same seed gives the same segments; without --truth, no ARI.
    const std::string first = read_file(out);
    r = run({"segment", "--ckpt", t.ckpt.string(), "--csv", t.csv.string(), "--k", "3", "--out", out.string()});
    REQUIRE(r.code == 0);
    CHECK(read_file(out) == first);
    CHECK(r.output.find("Rand") == std::string::npos);
}

TEST_CASE("tabular generate: N rows with the training table's modelled columns and fresh ids") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const fs::path out = dir / "synthetic.csv";
    Result r = run({"generate", "--ckpt", t.ckpt.string(), "--n", "25", "--out", out.string(), "--seed", "3"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto rows = read_csv(out);
    REQUIRE(rows.size() == 26);
    CHECK(rows[0] == std::vector<std::string>{"id", "spend", "visits", "channel"});  // ignored columns are not made up
    CHECK(rows[1][0] == "synthetic-000001");
    CHECK(rows[25][0] == "synthetic-000025");
    for (std::size_t i = 1; i < rows.size(); ++i) {
        REQUIRE(rows[i].size() == 4);
        finite_number(rows[i][1]);
        const double visits = finite_number(rows[i][2]);
        CHECK(visits == std::round(visits));  // whole numbers in training, whole numbers generated
        CHECK(std::set<std::string>{"app", "store", "web"}.count(rows[i][3]) == 1);
    }
    const std::string first = read_file(out);
    REQUIRE(run({"generate", "--ckpt", t.ckpt.string(), "--n", "25", "--out", out.string(), "--seed", "3"}).code == 0);
    CHECK(read_file(out) == first);
    REQUIRE(run({"generate", "--ckpt", t.ckpt.string(), "--n", "25", "--out", out.string(), "--seed", "4"}).code == 0);
    CHECK(read_file(out) != first);
}

TEST_CASE("tabular score: the id, -ELBO and reconstruction error per row, and --truth prints the AUROC") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const fs::path out = dir / "scores.csv";
    Result r = run({"score", "--ckpt", t.ckpt.string(), "--csv", t.csv.string(), "--out", out.string(), "--truth", "flag"});
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto rows = read_csv(out);
    REQUIRE(rows.size() == 311);
    CHECK(rows[0] == std::vector<std::string>{"id", "neg_elbo", "recon_error"});
    for (std::size_t i = 1; i < rows.size(); ++i) {
        REQUIRE(rows[i].size() == 3);
        finite_number(rows[i][1]);
        finite_number(rows[i][2]);
    }
    CHECK(r.output.find("AUROC for finding the rows with 'flag' = 1 (10 of 310)") != std::string::npos);
    CHECK(figure_after(r.output, "  by -ELBO") >= 0);
    CHECK(figure_after(r.output, "  by reconstruction error") >= 0);
    CHECK(r.output.find("most unusual by -ELBO: c03") != std::string::npos);  // an outlier, c0301…c0310, on top
}

TEST_CASE("tabular tools: a table without the ignored and id columns, in another column order, still works") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    // The training columns only, reordered, plus one the model never saw.
    std::string text = "channel,visits,note,spend\n";
    const auto rows = read_csv(t.csv);
    for (std::size_t i = 1; i <= 5; ++i) text += rows[i][3] + "," + rows[i][2] + ",n/a," + rows[i][1] + "\n";
    write_file(dir / "few.csv", text);
    const Result r = run({"score", "--ckpt", t.ckpt.string(), "--csv", (dir / "few.csv").string(), "--out",
                          (dir / "scores.csv").string()});
    INFO(r.output);
    REQUIRE(r.code == 0);
    const auto scores = read_csv(dir / "scores.csv");
    REQUIRE(scores.size() == 6);
    CHECK(scores[0] == std::vector<std::string>{"row", "neg_elbo", "recon_error"});  // no id column: row numbers
    CHECK(scores[1][0] == "1");
    CHECK(scores[5][0] == "5");
}

#ifdef VAELET_TABULAR_HAS_ONNX
TEST_CASE("tabular export: the three ONNX graphs on the encoded table, and columns.json, the encoder that makes it") {
    const TrainedRun& t = trained_run();
    TempDir dir;
    const fs::path out = dir / "onnx";
    const Result r = run({"export", "--ckpt", t.ckpt.string(), "--out", out.string()});
    INFO(r.output);
    REQUIRE(r.code == 0);
    for (const char* graph : {"encoder", "decoder", "reconstruction"}) CHECK(fs::file_size(out / (std::string(graph) + ".onnx")) > 500);
    CHECK(r.output.find("x[batch,5] -> mu[batch,2], logvar[batch,2], code[batch,2]") != std::string::npos);
    CHECK(r.output.find("z[batch,2] -> output[batch,5], mean[batch,5]") != std::string::npos);
    const auto columns = vaelet::TabularEncoder::from_json(nlohmann::json::parse(read_file(out / "columns.json")));
    const auto trained = vaelet::TabularEncoder::from_json(vaelet::read_checkpoint_config(t.ckpt.string()).extra.at("encoder"));
    CHECK(columns.to_json() == trained.to_json());
    CHECK(columns.feature_names() == std::vector<std::string>{"spend", "visits", "channel=app", "channel=store", "channel=web"});
    CHECK(tmp_files(out).empty());
}
#endif
