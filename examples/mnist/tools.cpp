// vaelet-mnist sample | reconstruct | interpolate | manifold | encode | score | eval | export: using a trained
// checkpoint.
#include "../common/export_onnx.hpp"
#include "../common/program.hpp"
#include "commands.hpp"
#include "load.hpp"
#include "pictures.hpp"

#include <vaelet/core/atomic_file.hpp>
#include <vaelet/data/batcher.hpp>
#include <vaelet/data/idx.hpp>
#include <vaelet/train/progress.hpp>
#include <vaelet/vae/iwae.hpp>
#include <vaelet/vae/score.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>

namespace mnist {

using T = float;

namespace {

vaelet::TrainedModel<T> load(const ToolArgs& a) {
    examples::set_threads(a.threads);
    return load_model(a);
}

vaelet::Dataset load_split(const ToolArgs& a, const vaelet::Vae<T>& vae) {
    if (a.split != "test" && a.split != "train")
        throw vaelet::config_error("--split is \"" + a.split + "\"; use test or train");
    vaelet::Dataset data = vaelet::load_mnist(a.data, a.split);
    if (data.features() != vae.input())
        throw vaelet::shape_error(a.data + ": images have " + std::to_string(data.features()) + " pixels (" +
                                  std::to_string(data.rows()) + "x" + std::to_string(data.cols()) +
                                  ") but the checkpoint's model expects " + std::to_string(vae.input()));
    return data;
}

/// The first n images of `data` as rows of pixels in [0, 1].
vaelet::Matrix<T> first_images(const vaelet::Dataset& data, long n) {
    n = std::min<long>(n, long(data.size()));
    vaelet::Matrix<T> x(n, data.features());
    for (long i = 0; i < n; ++i)
        for (Eigen::Index j = 0; j < x.cols(); ++j) x(i, j) = T(data.image(i)[j]) / T(255);
    return x;
}

/// The one-hot labels of a batch for a conditional model; none for an unconditional one.
using Conditions = vaelet::Vae<T>::ConditionMatrix;

/// Calls f(x, conditions, first_index) for consecutive batches of `data` in file order.
template <class F>
void for_each_batch(const vaelet::Dataset& data, Eigen::Index conditions, F&& f, Eigen::Index batch = 1000) {
    vaelet::Rng unused(0);
    vaelet::Batcher<T> batches(data, std::min<Eigen::Index>(batch, data.size()), unused, /*shuffle=*/false);
    batches.start_epoch();
    Conditions c;
    if (conditions > 0) c.emplace();
    Eigen::Index first = 0;
    while (batches.next()) {
        const vaelet::Matrix<T> x = batches.x();
        if (c) vaelet::one_hot_into(batches.labels(), conditions, *c);
        f(x, c, first);
        first += x.rows();
    }
}

std::string label_of(const vaelet::Dataset& data, Eigen::Index i) {
    return data.has_labels() ? std::to_string(int(data.label(i))) : "";
}

/// The x with Φ(x) = p for the standard normal, by bisection on erfc (plenty for a picture grid).
double normal_quantile(double p) {
    double lo = -10, hi = 10;
    for (int i = 0; i < 100; ++i) {
        const double mid = 0.5 * (lo + hi);
        (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
    }
    return 0.5 * (lo + hi);
}

}  // namespace

vaelet::TrainedModel<T> load_model(const ToolArgs& a) {
    const vaelet::SafeTensors st = vaelet::load_safetensors(a.ckpt);
    const auto format = st.metadata.find("format");
    const bool checkpoint = format != st.metadata.end() && format->second == vaelet::checkpoint_format;
    if (!a.arch.empty() && (checkpoint || st.metadata.count("architecture")))
        throw vaelet::config_error("--arch is for a state_dict; " + a.ckpt + " is a vaelet " +
                                   (checkpoint ? "checkpoint" : "model file") + " and knows its model");
    if (checkpoint) return {vaelet::checkpoint_config(st), vaelet::model_from<T>(st)};
    vaelet::LoadModelOptions options;
    if (!a.arch.empty()) options.architecture = vaelet::parse_vae_config(a.arch);
    vaelet::TrainedModel<T> m;
    try {
        m.vae = vaelet::model_from<T>(st, options);
    } catch (const vaelet::io_error& e) {  // the library speaks of its option; the user here has the flag
        std::string message = e.what();
        const std::string option = "LoadModelOptions::architecture";
        if (const auto at = message.find(option); at != std::string::npos) message.replace(at, option.size(), "--arch");
        throw vaelet::io_error(message);
    }
    m.config.model.reset();
    const auto side = Eigen::Index(std::lround(std::sqrt(double(m.vae->input()))));
    if (side * side != m.vae->input())
        throw vaelet::shape_error(a.ckpt + ": the model has " + std::to_string(m.vae->input()) +
                                  " inputs, which are no square image");
    m.config.extra = {{"image_rows", side}, {"image_cols", side}};
    return m;
}

int run_export(const ToolArgs& a) {
    auto vae = load(a).vae;
    examples::export_onnx_graphs(*vae, a.out);
    return 0;
}

int run_sample(const ToolArgs& a) {
    auto [config, vae] = load(a);
    if (a.n < 1) throw vaelet::config_error("--n must be at least 1, got " + std::to_string(a.n));
    const Pictures pictures(config, *vae);
    vaelet::Rng rng(a.seed);
    const vaelet::Matrix<T> images = vae->generate(a.n, rng, pictures.digit_labels(a.n));
    pictures.save(images, int(std::ceil(std::sqrt(double(a.n)))), a.out);
    std::cout << "wrote " << a.n << " samples to " << a.out << '\n';
    return 0;
}

int run_reconstruct(const ToolArgs& a) {
    auto [config, vae] = load(a);
    if (a.n < 1) throw vaelet::config_error("--n must be at least 1, got " + std::to_string(a.n));
    const vaelet::Dataset test = load_split(a, *vae);
    Pictures(config, *vae).reconstructions(*vae, test, a.out, a.n);
    std::cout << "wrote " << std::min<long>(a.n, long(test.size())) << " test images and their reconstructions to "
              << a.out << '\n';
    return 0;
}

int run_interpolate(const ToolArgs& a) {
    auto [config, vae] = load(a);
    if (vae->conditions() > 0)
        throw vaelet::config_error("interpolate works on unconditional models; this checkpoint is conditional");
    if (a.n < 1 || a.steps < 2) throw vaelet::config_error("--n must be at least 1 and --steps at least 2");
    const vaelet::Dataset test = load_split(a, *vae);
    if (test.size() < 2 * a.n) throw vaelet::config_error("--n " + std::to_string(a.n) + " needs " +
                                                          std::to_string(2 * a.n) + " test images");
    vaelet::Matrix<T> mu, logvar;
    vae->encode(first_images(test, 2 * a.n), mu, logvar);
    vaelet::Matrix<T> z(a.n * a.steps, mu.cols());
    for (long pair = 0; pair < a.n; ++pair)
        for (long s = 0; s < a.steps; ++s) {
            const T t = T(s) / T(a.steps - 1);
            z.row(pair * a.steps + s) = (1 - t) * mu.row(2 * pair) + t * mu.row(2 * pair + 1);
        }
    Pictures(config, *vae).save(vae->decode(z), int(a.steps), a.out);
    std::cout << "wrote " << a.n << " interpolations of " << a.steps << " steps to " << a.out << '\n';
    return 0;
}

int run_manifold(const ToolArgs& a) {
    auto [config, vae] = load(a);
    if (vae->latent() != 2)
        throw vaelet::config_error("manifold draws a 2-D latent space, but this checkpoint has --latent " +
                                   std::to_string(vae->latent()) + "; train one with --latent 2");
    if (vae->conditions() > 0) throw vaelet::config_error("manifold works on unconditional models");
    if (a.grid < 2) throw vaelet::config_error("--grid must be at least 2");
    // Evenly spaced quantiles of N(0, 1), as in Kingma & Welling's figure 4.
    vaelet::Matrix<T> z(a.grid * a.grid, 2);
    for (long i = 0; i < a.grid; ++i)
        for (long j = 0; j < a.grid; ++j) {
            z(i * a.grid + j, 0) = T(normal_quantile(0.05 + 0.9 * double(j) / double(a.grid - 1)));
            z(i * a.grid + j, 1) = T(normal_quantile(0.95 - 0.9 * double(i) / double(a.grid - 1)));
        }
    Pictures(config, *vae).save(vae->decode(z), int(a.grid), a.out);
    std::cout << "wrote a " << a.grid << "x" << a.grid << " latent manifold to " << a.out << '\n';
    return 0;
}

int run_encode(const ToolArgs& a) {
    auto vae = load(a).vae;  // no structured binding: C++17 lambdas cannot capture one (clang rejects it)
    const vaelet::Dataset data = load_split(a, *vae);
    const Eigen::Index d = vae->latent();
    vaelet::AtomicWriter out(a.out);
    std::string header = "label";
    for (Eigen::Index j = 0; j < d; ++j) header += ",mu_" + std::to_string(j);
    for (Eigen::Index j = 0; j < d; ++j) header += ",logvar_" + std::to_string(j);
    out.write(header + "\n");
    for_each_batch(data, vae->conditions(), [&](const vaelet::Matrix<T>& x, const Conditions& c, Eigen::Index first) {
        vaelet::Matrix<T> mu, logvar;
        vae->encode(x, mu, logvar, c);
        std::string text;
        char cell[32];
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            text += label_of(data, first + i);
            for (Eigen::Index j = 0; j < d; ++j) text += (std::snprintf(cell, sizeof cell, ",%.7g", double(mu(i, j))), cell);
            for (Eigen::Index j = 0; j < d; ++j) text += (std::snprintf(cell, sizeof cell, ",%.7g", double(logvar(i, j))), cell);
            text += '\n';
        }
        out.write(text);
    });
    out.commit();
    std::cout << "wrote latents of " << data.size() << " " << a.split << " images to " << a.out << '\n';
    return 0;
}

int run_score(const ToolArgs& a) {
    auto vae = load(a).vae;  // no structured binding: C++17 lambdas cannot capture one (clang rejects it)
    const vaelet::Dataset data = load_split(a, *vae);
    vaelet::Rng rng(a.seed);
    vaelet::AtomicWriter out(a.out);
    out.write("index,label,neg_elbo,recon_error\n");
    for_each_batch(data, vae->conditions(), [&](const vaelet::Matrix<T>& x, const Conditions& c, Eigen::Index first) {
        const auto s = vaelet::score_examples(*vae, x, rng, 1, c);
        std::string text;
        char line[128];
        for (Eigen::Index i = 0; i < x.rows(); ++i) {
            std::snprintf(line, sizeof line, "%ld,%s,%.4f,%.4f\n", long(first + i), label_of(data, first + i).c_str(),
                          s.neg_elbo(i, 0), s.recon_error(i, 0));
            text += line;
        }
        out.write(text);
    });
    out.commit();
    std::cout << "wrote scores of " << data.size() << " " << a.split << " images to " << a.out << '\n';
    return 0;
}

int run_eval(const ToolArgs& a) {
    auto vae = load(a).vae;  // no structured binding: C++17 lambdas cannot capture one (clang rejects it)
    if (a.k < 1 || a.iwae_k < 1) throw vaelet::config_error("--k and --iwae-k must be at least 1");
    if (a.limit < 0) throw vaelet::config_error("--limit must be 0 (all) or more");
    vaelet::Dataset test = load_split(a, *vae);
    if (a.limit > 0 && a.limit < test.size()) test = test.head(a.limit);

    vaelet::Rng rng(a.seed);
    double neg_elbo = 0, iwae = 0, log_px = 0;
    vaelet::ProgressBar bar(std::cerr, "eval", long(test.size()));
    const auto start = std::chrono::steady_clock::now();
    long done = 0;
    for_each_batch(test, vae->conditions(), [&](const vaelet::Matrix<T>& x, const Conditions& c, Eigen::Index) {
        neg_elbo += vaelet::score_examples(*vae, x, rng, 1, c).neg_elbo.sum();
        iwae += vaelet::estimate_log_likelihood(*vae, x, a.iwae_k, rng, 4096, c).sum();
        log_px += vaelet::estimate_log_likelihood(*vae, x, a.k, rng, 4096, c).sum();
        done += long(x.rows());
        bar.update(done, neg_elbo / double(done));
    }, 100);
    bar.finish();
    const double n = double(test.size());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char text[512];
    std::snprintf(text, sizeof text,
                  "metric,value\nimages,%ld\nneg_elbo,%.4f\niwae_%ld_bound,%.4f\nnll_is_%ld,%.4f\nseconds,%.1f\n",
                  long(test.size()), neg_elbo / n, a.iwae_k, -iwae / n, a.k, -log_px / n, seconds);
    std::printf("test images %ld\n  -ELBO                          %.4f nats/image\n"
                "  -IWAE bound (k=%ld)             %.4f\n  NLL, importance sampled (k=%ld) %.4f\n  (%.1f s)\n",
                long(test.size()), neg_elbo / n, a.iwae_k, -iwae / n, a.k, -log_px / n, seconds);
    if (!a.out.empty()) vaelet::write_file_atomic(a.out, text);
    return 0;
}

}  // namespace mnist
