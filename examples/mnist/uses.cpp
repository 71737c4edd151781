// vaelet-mnist compress | decompress | generate | classify | anomaly: the business uses of a trained VAE.
#include "../common/program.hpp"
#include "commands.hpp"
#include "load.hpp"
#include "pictures.hpp"

#include <vaelet/data/batcher.hpp>
#include <vaelet/data/idx.hpp>
#include <vaelet/io/latent_file.hpp>
#include <vaelet/optim/adam.hpp>
#include <vaelet/stats/image_quality.hpp>
#include <vaelet/stats/pca.hpp>
#include <vaelet/stats/roc.hpp>
#include <vaelet/vae/iwae.hpp>
#include <vaelet/vae/score.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <optional>

namespace mnist {

using T = float;
namespace fs = std::filesystem;

namespace {

vaelet::Matrix<T> all_images(const vaelet::Dataset& data) {
    vaelet::Matrix<T> x(data.size(), data.features());
    for (Eigen::Index i = 0; i < data.size(); ++i)
        for (Eigen::Index j = 0; j < x.cols(); ++j) x(i, j) = T(data.image(i)[j]) / T(255);
    return x;
}

vaelet::Dataset load_checked(const std::string& dir, const std::string& split, Eigen::Index features) {
    vaelet::Dataset d = vaelet::load_mnist(dir, split);
    if (d.features() != features)
        throw vaelet::shape_error(dir + ": images have " + std::to_string(d.features()) +
                                  " pixels but the checkpoint's model expects " + std::to_string(features));
    return d;
}

/// The one-hot labels of `data` for a model of `classes` conditions (none for an unconditional model).
vaelet::Vae<T>::ConditionMatrix conditions_of(const vaelet::Dataset& data, Eigen::Index classes) {
    if (classes == 0) return std::nullopt;
    return vaelet::one_hot<T>(data.labels(), classes);
}

std::uint8_t to_byte(T v) { return std::uint8_t(std::lround(std::clamp(v, T(0), T(1)) * T(255))); }

/// --digit as a number 0..9 (std::stoi would let "abc" through as an unexplained std::invalid_argument).
int parse_digit(const std::string& text, const std::string& allowed) {
    if (text.size() != 1 || text[0] < '0' || text[0] > '9')
        throw vaelet::config_error("--digit must be " + allowed + ", got " + text);
    return text[0] - '0';
}

}  // namespace

int run_compress(const ToolArgs& a) {
    examples::set_threads(a.threads);
    const auto [config, vae] = load_model(a);
    const vaelet::Dataset test = load_checked(a.data, a.split, vae->input());
    const vaelet::Matrix<T> x = all_images(test);
    const vaelet::Vae<T>::ConditionMatrix c = conditions_of(test, vae->conditions());
    vaelet::Matrix<T> mu, logvar;
    vae->encode(x, mu, logvar, c);
    vaelet::write_latent_file(a.out, mu, test.labels());

    // What decompression gives back, against PCA with as many components, on the same images.
    const vaelet::Matrix<T> z = vaelet::read_latent_file(a.out).z;
    const vaelet::Matrix<T> x_vae = vae->decode(z, c);
    const vaelet::Pca<T> pca(x, z.cols());
    const vaelet::Matrix<T> x_pca = pca.inverse_transform(pca.transform(x)).cwiseMax(T(0)).cwiseMin(T(1));
    const double bytes = double(fs::file_size(a.out)) / double(test.size());
    std::printf("compressed %ld images to %s: %.1f bytes/image (raw %ld), ratio %.1fx\n", long(test.size()),
                a.out.c_str(), bytes, long(vae->input()), double(vae->input()) / bytes);
    std::printf("  %-26s PSNR %6.2f dB   BCE %7.2f nats/image\n", ("vaelet (latent " + std::to_string(z.cols()) + ", f16)").c_str(),
                vaelet::mean_psnr(x, x_vae), vaelet::mean_bce(x, x_vae));
    std::printf("  %-26s PSNR %6.2f dB   BCE %7.2f nats/image\n", ("PCA (" + std::to_string(z.cols()) + " components)").c_str(),
                vaelet::mean_psnr(x, x_pca), vaelet::mean_bce(x, x_pca));
    return 0;
}

int run_decompress(const ToolArgs& a) {
    examples::set_threads(a.threads);
    const auto [config, vae] = load_model(a);
    const vaelet::LatentCodes codes = vaelet::read_latent_file(a.in);
    if (codes.z.cols() != vae->latent())
        throw vaelet::shape_error(a.in + ": codes have " + std::to_string(codes.z.cols()) +
                                  " dimensions but the checkpoint's model has --latent " + std::to_string(vae->latent()));
    vaelet::Vae<T>::ConditionMatrix c;
    if (vae->conditions()) {
        if (codes.labels.empty()) throw vaelet::io_error(a.in + ": a conditional model needs the labels, and this file has none");
        c = vaelet::one_hot<T>(codes.labels, vae->conditions());
    }
    const vaelet::Matrix<T> x = vae->decode(codes.z, c);
    if (fs::path(a.out).extension() == ".png") {
        Pictures(config, *vae).save(x.topRows(std::min<Eigen::Index>(x.rows(), 256)), 16, a.out);
    } else {
        std::vector<std::uint8_t> pixels(std::size_t(x.size()));
        for (Eigen::Index i = 0; i < x.rows(); ++i)
            for (Eigen::Index j = 0; j < x.cols(); ++j) pixels[std::size_t(i * x.cols() + j)] = to_byte(x(i, j));
        const int rows = config.extra.value("image_rows", 28), cols = config.extra.value("image_cols", 28);
        vaelet::write_idx_images(a.out, vaelet::Dataset(std::move(pixels), rows, cols));
    }
    std::cout << "decoded " << x.rows() << " images to " << a.out << '\n';
    return 0;
}

int run_generate(const ToolArgs& a) {
    examples::set_threads(a.threads);
    const auto [config, vae] = load_model(a);
    if (a.n < 1) throw vaelet::config_error("--n must be at least 1, got " + std::to_string(a.n));
    std::vector<int> labels;
    if (a.digit == "all") {
        for (long i = 0; i < a.n; ++i) labels.push_back(int(i % 10));
    } else {
        labels.assign(std::size_t(a.n), parse_digit(a.digit, "0..9 or all"));
    }
    if (vae->conditions() == 0 && a.digit != "all")
        throw vaelet::config_error("--digit needs a conditional model (train with --conditional)");
    vaelet::Rng rng(a.seed);
    vaelet::Vae<T>::ConditionMatrix c;
    if (vae->conditions()) c = vaelet::one_hot<T>(labels, vae->conditions());
    const vaelet::Matrix<T> x = vae->generate(a.n, rng, c);
    std::vector<std::uint8_t> pixels(std::size_t(x.size())), label_bytes(labels.begin(), labels.end());
    for (Eigen::Index i = 0; i < x.rows(); ++i)
        for (Eigen::Index j = 0; j < x.cols(); ++j) pixels[std::size_t(i * x.cols() + j)] = to_byte(x(i, j));
    const int rows = config.extra.value("image_rows", 28), cols = config.extra.value("image_cols", 28);
    std::error_code ec;
    fs::create_directories(a.out, ec);
    if (ec) throw vaelet::io_error("--out " + a.out + ": cannot create the directory (" + ec.message() + "); choose another --out");
    vaelet::write_idx_images((fs::path(a.out) / "train-images-idx3-ubyte").string(), vaelet::Dataset(std::move(pixels), rows, cols));
    if (vae->conditions()) vaelet::write_idx_labels((fs::path(a.out) / "train-labels-idx1-ubyte").string(), label_bytes);
    std::cout << "wrote " << a.n << " generated images" << (vae->conditions() ? " and labels" : "") << " to " << a.out
              << '\n';
    return 0;
}

int run_classify(const ToolArgs& a) {
    // Softmax regression on our own autodiff: train on --train-data's train split, test on --data's test split.
    examples::set_threads(a.threads);
    const vaelet::Dataset train = vaelet::load_mnist(a.in, "train"), test = vaelet::load_mnist(a.data, "test");
    if (!train.has_labels()) throw vaelet::config_error(a.in + ": the training images need labels");
    if (train.features() != test.features())
        throw vaelet::shape_error(a.in + ": images have " + std::to_string(train.features()) + " pixels but " + a.data +
                                  " has test images of " + std::to_string(test.features()) + "; give both the same size");
    vaelet::Rng rng(a.seed);
    vaelet::Linear<T> layer(train.features(), 10, rng);
    vaelet::ParameterList<T> params;
    layer.collect_parameters(params, "");
    vaelet::Adam<T> adam(params, vaelet::AdamOptions{1e-3});
    vaelet::Rng shuffle(a.seed + 1);
    vaelet::Batcher<T> batches(train, 128, shuffle);
    vaelet::Tape<T> tape;
    vaelet::Matrix<T> y;
    for (long epoch = 0; epoch < a.steps; ++epoch) {
        batches.start_epoch();
        while (batches.next()) {
            tape.reset();
            vaelet::one_hot_into(batches.labels(), 10, y);
            const auto log_p = vaelet::log_softmax_per_row(layer(tape, tape.constant(batches.x())));
            tape.backward(-vaelet::mean(vaelet::sum_per_row(log_p * tape.constant(y))));
            adam.step_and_zero_grad();
        }
    }
    vaelet::NoGrad<T> guard(tape);
    tape.reset();
    const vaelet::Matrix<T> logits = layer(tape, tape.constant(all_images(test))).value();
    long correct = 0;
    for (Eigen::Index i = 0; i < logits.rows(); ++i) {
        Eigen::Index best = 0;
        logits.row(i).maxCoeff(&best);
        correct += best == test.label(i);
    }
    std::printf("softmax regression trained on %s (%ld images, %ld epochs), tested on %s: accuracy %.4f\n", a.in.c_str(),
                long(train.size()), a.steps, a.data.c_str(), double(correct) / double(test.size()));
    return 0;
}

int run_anomaly(const ToolArgs& a) {
    examples::set_threads(a.threads);
    const auto [config, vae] = load_model(a);
    if (vae->conditions()) throw vaelet::config_error("anomaly scores need an unconditional model");
    const int digit = parse_digit(a.digit, "0..9");
    const vaelet::Dataset test = load_checked(a.data, "test", vae->input());
    const vaelet::Matrix<T> x = all_images(test);
    vaelet::Rng rng(a.seed);
    const auto scores = vaelet::score_examples(*vae, x, rng, 1);
    std::vector<double> score(scores.neg_elbo.data(), scores.neg_elbo.data() + scores.neg_elbo.size());
    std::vector<bool> positive;
    for (Eigen::Index i = 0; i < test.size(); ++i) positive.push_back(test.label(i) == digit);
    const double auc = vaelet::auroc(score, positive);
    std::vector<double> iwae_score;
    double auc_iwae = 0;
    if (a.iwae_k > 1) {
        const vaelet::Matrix<double> log_px = vaelet::estimate_log_likelihood(*vae, x, a.iwae_k, rng);
        for (Eigen::Index i = 0; i < log_px.rows(); ++i) iwae_score.push_back(-log_px(i, 0));
        auc_iwae = vaelet::auroc(iwae_score, positive);
    }
    std::printf("digit %d held out: AUROC %.4f by -ELBO", digit, auc);
    if (a.iwae_k > 1) std::printf(", %.4f by -log p(x) (IWAE k=%ld)", auc_iwae, a.iwae_k);
    std::printf(" over %ld test images (%ld of digit %d)\n", long(test.size()),
                long(std::count(positive.begin(), positive.end(), true)), digit);
    if (!a.out.empty()) {  // the 32 most anomalous images, then the 32 least
        std::vector<Eigen::Index> order(std::size_t(test.size()));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](auto i, auto j) { return score[std::size_t(i)] > score[std::size_t(j)]; });
        const Eigen::Index m = std::min<Eigen::Index>(32, test.size() / 2);
        vaelet::Matrix<T> picked(2 * m, x.cols());
        for (Eigen::Index k = 0; k < m; ++k) {
            picked.row(k) = x.row(order[std::size_t(k)]);
            picked.row(m + k) = x.row(order[order.size() - 1 - std::size_t(k)]);
        }
        Pictures(config, *vae).save(picked, 8, a.out);
        std::cout << "most anomalous (top half) and least (bottom half): " << a.out << '\n';
    }
    return 0;
}

}  // namespace mnist
