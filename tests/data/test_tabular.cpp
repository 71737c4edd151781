// Tests for vaelet/data/tabular.hpp — the encoder's fit, encode/decode and saved state — and for the tabular
// likelihood it feeds (vae/likelihood.hpp, LikelihoodKind::tabular): log p against a hand computation, and the
// whole tabular ELBO's gradient against every parameter.
#include <doctest/doctest.h>

#include "vaelet/core/gradcheck.hpp"
#include "vaelet/data/tabular.hpp"
#include "vaelet/vae/elbo.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

using namespace vaelet;

namespace {

CsvColumn numeric(const std::string& name, std::vector<double> v) { return {name, ColumnKind::numeric, v, {}, ""}; }
CsvColumn text(const std::string& name, ColumnKind kind, std::vector<std::string> v) { return {name, kind, {}, v, ""}; }

/// customer_id (id), spend, visits (whole numbers), flat (constant), region (3 levels), channel (2), segment (ignored).
CsvTable customers() {
    CsvTable t;
    t.columns = {text("customer_id", ColumnKind::id, {"c1", "c2", "c3", "c4"}),
                 numeric("spend", {1.5, 2, 3, 5.5}),
                 text("region", ColumnKind::categorical, {"west", "east", "west", "north"}),
                 numeric("visits", {2, 4, 4, 2}),
                 numeric("flat", {5, 5, 5, 5}),
                 text("channel", ColumnKind::categorical, {"app", "web", "web", "app"}),
                 text("segment", ColumnKind::ignored, {"A", "B", "", "B"})};
    return t;
}

}  // namespace

TEST_CASE_TEMPLATE("the encoder standardizes numbers, one-hots categories in sorted order, and sets ids aside", T, float,
                   double) {
    const TabularEncoder enc(customers());
    CHECK(enc.layout() == TabularLayout{3, {3, 2}});
    CHECK(enc.width() == 8);
    const auto& cols = enc.columns();
    REQUIRE(cols.size() == 7);
    CHECK(cols[1].mean == doctest::Approx(3.0));
    CHECK(cols[1].std == doctest::Approx(std::sqrt(9.5 / 4)));  // population std
    CHECK_FALSE(cols[1].integer);
    CHECK(cols[3].integer);
    CHECK(cols[4].std == 1.0);  // constant: std taken as 1 …
    REQUIRE(enc.notes().size() == 1);
    CHECK(enc.notes()[0].find("'flat' is constant (5)") != std::string::npos);  // … and the notes say so
    CHECK(cols[2].levels == std::vector<std::string>{"east", "north", "west"});
    CHECK(enc.feature_names() == std::vector<std::string>{"spend", "visits", "flat", "region=east", "region=north",
                                                          "region=west", "channel=app", "channel=web"});

    const Matrix<T> x = enc.encode<T>(customers());
    REQUIRE(x.rows() == 4);
    Matrix<T> row0(1, 8);
    row0 << T(-1.5 / std::sqrt(9.5 / 4)), T(-1), T(0), T(0), T(0), T(1), T(1), T(0);
    CHECK((x.row(0) - row0).cwiseAbs().maxCoeff() < T(1e-6));
    CHECK(x.col(0).sum() == doctest::Approx(0).epsilon(1e-6));  // standardized: mean 0 …
    CHECK(x.col(0).squaredNorm() / 4 == doctest::Approx(1).epsilon(1e-5));  // … variance 1
}

TEST_CASE_TEMPLATE("decode inverts encode: same columns, kinds and values, and ids carried or generated", T, float, double) {
    const CsvTable table = customers();
    const TabularEncoder enc(table);
    const Matrix<T> x = enc.encode<T>(table);

    TabularDecodeOptions carry;
    carry.carry = &table;
    const CsvTable back = enc.decode(x, carry);
    CHECK(back.names() == table.names());
    for (std::size_t j = 0; j < table.columns.size(); ++j) {
        CHECK(back.columns[j].kind == table.columns[j].kind);
        CHECK(back.columns[j].text == table.columns[j].text);
        for (std::size_t i = 0; i < table.columns[j].numbers.size(); ++i)
            CHECK(back.columns[j].numbers[i] == doctest::Approx(table.columns[j].numbers[i]).epsilon(1e-6));
    }

    // From model output: probabilities pick the most likely category, whole-number columns round.
    Matrix<T> mean = x;
    mean.row(0).segment(3, 3) << T(0.2), T(0.5), T(0.3);
    mean(0, 1) = T(0.4);  // visits 3.4 → 3
    const CsvTable generated = enc.decode(mean);
    CHECK(generated.names() == std::vector<std::string>{"customer_id", "spend", "region", "visits", "flat", "channel"});
    CHECK(generated.column("customer_id").text ==
          std::vector<std::string>{"synthetic-000001", "synthetic-000002", "synthetic-000003", "synthetic-000004"});
    CHECK(generated.column("region").text[0] == "north");
    CHECK(generated.column("visits").numbers[0] == 3);
    CHECK(generated.column("flat").numbers[0] == 5);
    CHECK_THROWS_AS(enc.decode(Matrix<T>(Matrix<T>::Zero(2, 7))), shape_error);
}

TEST_CASE("decode with an Rng draws each category from its probabilities, reproducibly") {
    const TabularEncoder enc(customers());
    Matrix<double> p = Matrix<double>::Zero(4000, 8);
    p.col(3).setConstant(0.25);  // region: east 1/4, north 0, west 3/4
    p.col(5).setConstant(0.75);
    p.col(6).setConstant(1.0);   // channel: always app
    Rng rng(5), again(5);
    TabularDecodeOptions draw;
    draw.rng = &rng;
    const CsvTable t = enc.decode(p, draw);
    draw.rng = &again;
    CHECK(enc.decode(p, draw).column("region").text == t.column("region").text);
    int east = 0, north = 0;
    for (const auto& v : t.column("region").text) {
        east += v == "east";
        north += v == "north";
    }
    CHECK(north == 0);
    CHECK(std::abs(east / 4000.0 - 0.25) < 4 * std::sqrt(0.25 * 0.75 / 4000));
    CHECK(std::count(t.column("channel").text.begin(), t.column("channel").text.end(), "app") == 4000);
    p(0, 3) = -1;
    draw.rng = &rng;
    CHECK_THROWS_AS(enc.decode(p, draw), numeric_error);
}

TEST_CASE("encode names the column and the value it cannot encode") {
    const TabularEncoder enc(customers());
    CsvTable other = customers();
    other.columns[2].text[3] = "mars";
    CHECK_THROWS_WITH_AS(enc.encode<float>(other),
                         doctest::Contains("column 'region', data row 4: category 'mars' was not seen"), io_error);
    other = customers();
    other.columns.erase(other.columns.begin() + 3);
    CHECK_THROWS_WITH_AS(enc.encode<float>(other), doctest::Contains("no column 'visits'"), io_error);
    other = customers();
    other.columns[1] = text("spend", ColumnKind::categorical, {"1", "2", "3", "4"});
    CHECK_THROWS_WITH_AS(enc.encode<float>(other), doctest::Contains("csv_options()"), io_error);
    // Read with the encoder's options, a file gets the kinds the encoder was fitted with.
    CHECK(enc.csv_options().kinds.at("region") == ColumnKind::categorical);
    CHECK(enc.csv_options().kinds.at("customer_id") == ColumnKind::id);
    CHECK_FALSE(enc.csv_options().detect_ids);

    CsvTable ids_only;
    ids_only.columns = {text("customer_id", ColumnKind::id, {"a"})};
    CHECK_THROWS_WITH_AS(TabularEncoder{ids_only}, doctest::Contains("nothing to model"), config_error);
    CHECK_THROWS_AS(TabularEncoder{}.encode<float>(customers()), config_error);
}

TEST_CASE("the fitted state restores the same encoder, and bad state is refused") {
    const TabularEncoder enc(customers());
    const TabularEncoder copy(enc.columns());
    CHECK(copy.columns() == enc.columns());
    CHECK(copy.layout() == enc.layout());

    std::vector<TabularColumn> bad = enc.columns();
    std::swap(bad[2].levels[0], bad[2].levels[1]);
    CHECK_THROWS_WITH_AS(TabularEncoder{bad}, doctest::Contains("levels must be sorted"), config_error);
    bad = enc.columns();
    bad[1].std = 0;
    CHECK_THROWS_WITH_AS(TabularEncoder{bad}, doctest::Contains("column 'spend'"), config_error);
    bad = enc.columns();
    bad[3].name = "spend";
    CHECK_THROWS_WITH_AS(TabularEncoder{bad}, doctest::Contains("appears twice"), config_error);

#ifdef VAELET_HAVE_JSON
    const nlohmann::json j = enc.to_json();
    const TabularEncoder restored = TabularEncoder::from_json(nlohmann::json::parse(j.dump()));
    CHECK(restored.columns() == enc.columns());
    nlohmann::json broken = j;
    broken["columns"][2].erase("levels");
    CHECK_THROWS_WITH_AS(TabularEncoder::from_json(broken), doctest::Contains("column 3"), config_error);
    CHECK_THROWS_AS(TabularEncoder::from_json(nlohmann::json::object()), config_error);
#endif
}

// ---- the tabular likelihood --------------------------------------------------------------------------------------

TEST_CASE_TEMPLATE("tabular log p is Σ Gaussian log-densities with per-column σ plus Σ log softmax at the category", T,
                   float, double) {
    const double half_log_2pi = 0.5 * std::log(2 * 3.14159265358979323846);
    Likelihood<T> lik(TabularLayout{2, {3}});
    CHECK(std::string(likelihood_name(lik.kind())) == "tabular");
    CHECK(parse_likelihood("tabular") == LikelihoodKind::tabular);
    ParameterList<T> params;
    lik.collect_parameters(params, "decoder.");
    REQUIRE(params.size() == 1);
    CHECK(params[0].name == "decoder.log_sigma");
    CHECK(params[0].param->value.cols() == 2);
    params[0].param->value << T(0), T(std::log(2.0));  // σ = 1 and 2

    Matrix<T> x(1, 5), out(1, 5);
    x << T(0.5), T(-1), T(0), T(1), T(0);
    out << T(0.2), T(0.1), T(1), T(2), T(-1);
    const double numeric = -(0.09 / 2 + half_log_2pi) - (1.21 / 8 + std::log(2.0) + half_log_2pi);
    const double categorical = 2 - std::log(std::exp(1.0) + std::exp(2.0) + std::exp(-1.0));
    Tape<T> tape;
    CHECK(lik.log_prob(tape, tape.constant(out), tape.constant(x)).item() ==
          doctest::Approx(numeric + categorical).epsilon(1e-5));

    const Matrix<T> m = lik.mean(out);
    CHECK(m(0, 0) == out(0, 0));
    CHECK(m.row(0).segment(2, 3).sum() == doctest::Approx(1).epsilon(1e-6));
    CHECK(m(0, 3) == doctest::Approx(std::exp(categorical)).epsilon(1e-5));
    CHECK_THROWS_AS(lik.mean(Matrix<T>::Zero(1, 4)), shape_error);

    Likelihood<T> only_categories(TabularLayout{0, {2, 2}});  // no numeric columns: no σ to learn
    CHECK_FALSE(only_categories.learned());
    ParameterList<T> none;
    only_categories.collect_parameters(none, "decoder.");
    CHECK(none.empty());
    Matrix<T> x2(1, 4), out2(1, 4);
    x2 << T(1), T(0), T(0), T(1);
    out2 << T(0), T(0), T(3), T(1);
    CHECK(only_categories.log_prob(tape, tape.constant(out2), tape.constant(x2)).item() ==
          doctest::Approx(std::log(0.5) + 1 - std::log(std::exp(3.0) + std::exp(1.0))).epsilon(1e-5));

    CHECK_THROWS_AS(Likelihood<T>(LikelihoodKind::tabular, 5), config_error);
    CHECK_THROWS_AS(Likelihood<T>(TabularLayout{1, {0}}), config_error);
    CHECK_THROWS_AS(Likelihood<T>(TabularLayout{0, {}}), config_error);
}

TEST_CASE_TEMPLATE("the tabular ELBO's gradient checks against every parameter, ε held fixed", T, float, double) {
    VaeConfig config;
    config.likelihood = LikelihoodKind::tabular;
    config.tabular = TabularLayout{2, {3, 2}};
    config.input = config.tabular.width();
    config.hidden = {4};
    config.latent = 2;
    config.activation = Activation::tanh;
    Rng init(6);
    Vae<T> vae(config, init);
    Matrix<T> x = Matrix<T>::Zero(3, 7);
    for (Index i = 0; i < 3; ++i) {
        x(i, 0) = T(init.normal());
        x(i, 1) = T(init.normal());
        x(i, 2 + Index(init.below(3))) = T(1);
        x(i, 5 + Index(init.below(2))) = T(1);
    }
    auto params = vae.named_parameters();
    CHECK(params.back().name == "decoder.log_sigma");
    params.back().param->value << T(0.3), T(-0.2);  // away from the symmetric start
    auto f = [&](Tape<T>& tape) {
        Rng noise(11);  // the same ε every evaluation
        return elbo(vae, tape, tape.constant(x), noise).loss;
    };
    GradcheckOptions<T> tolerance;
    if (std::is_same<T, float>::value) tolerance.tolerance = T(2e-2);
    const auto report = gradcheck_parameters<T>(f, params, tolerance);
    INFO(report.describe() << " in " << (report.input >= 0 ? params[std::size_t(report.input)].name : ""));
    CHECK(report.ok);
    CHECK(report.entries_checked == vae.parameter_count());

    VaeConfig wrong = config;
    wrong.input = 6;
    CHECK_THROWS_WITH_AS(wrong.validate(), doctest::Contains("set input = tabular.width()"), config_error);
}

TEST_CASE("a table goes through encoder, tabular VAE and decoder back to a table of the same shape") {
    const CsvTable table = customers();
    const TabularEncoder enc(table);
    VaeConfig config;
    config.likelihood = LikelihoodKind::tabular;
    config.tabular = enc.layout();
    config.input = enc.width();
    config.hidden = {8};
    config.latent = 2;
    Rng rng(1);
    Vae<float> vae(config, rng);
    const Matrix<float> x_hat = vae.reconstruct(enc.encode<float>(table));
    for (Index i = 0; i < x_hat.rows(); ++i) {
        CHECK(x_hat.row(i).segment(3, 3).sum() == doctest::Approx(1).epsilon(1e-5));
        CHECK(x_hat.row(i).segment(6, 2).sum() == doctest::Approx(1).epsilon(1e-5));
    }
    TabularDecodeOptions carry;
    carry.carry = &table;
    const CsvTable back = enc.decode(x_hat, carry);
    CHECK(back.names() == table.names());
    CHECK(back.column("customer_id").text == table.column("customer_id").text);
    CHECK(back.rows() == 4);
}
