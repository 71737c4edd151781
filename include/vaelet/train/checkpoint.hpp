// vaelet/train/checkpoint.hpp — a training run in one safetensors file: the weights under PyTorch's names, the
// optimizer's moments, both random streams, the batch position, the epoch's running sums, the loss history and
// the configuration. Loading it resumes the run bit for bit; its weights load straight into PyTorch.
//
//   vaelet::save_checkpoint(run + "/checkpoint.safetensors", trainer, history, config);
//   auto ckpt = vaelet::read_checkpoint_config(path);          // the model and training settings
//   auto vae = vaelet::load_model<float>(path);                 // the model alone, for sample/encode/score
//
// Layout: weights "fc1.weight", "fc1.bias", … (the model's names without "encoder."/"decoder."); optimizer state
// "optim.<weight>.<buffer>" and "optim.step"; "rng.shuffle"/"rng.noise" (4 × U64 words) with "….spare" (F64:
// has-spare flag, value); "progress" (I64: epochs done, steps, epoch under way, batch position); "epoch_sums" and
// "history" (F64). Metadata: "format" = "vaelet-checkpoint-1", "vaelet_version", "config" (JSON). Nothing measured
// in wall-clock time is stored, so two identical runs write identical bytes.
//
// A tabular model (likelihood "tabular") also stores its column layout in the config, as model.tabular =
// {"numeric": n, "categorical_sizes": [...]}; other models' configs have no such field.
#pragma once

#include "vaelet/io/safetensors.hpp"
#include "vaelet/train/metrics.hpp"
#include "vaelet/train/trainer.hpp"
#include "vaelet/version.hpp"

#include <nlohmann/json.hpp>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace vaelet {

inline constexpr const char* checkpoint_format = "vaelet-checkpoint-1";

/// What a run was configured with: the model, the training settings and free-form extras (data dir, ...).
struct RunConfig {
    VaeConfig model;
    TrainOptions train;
    std::string dtype = "float32";
    nlohmann::json extra = nlohmann::json::object();
};

inline nlohmann::json to_json(const RunConfig& c) {
    nlohmann::json j;
    j["model"] = {{"input", c.model.input},
                  {"hidden", c.model.hidden},
                  {"latent", c.model.latent},
                  {"activation", activation_name(c.model.activation)},
                  {"likelihood", likelihood_name(c.model.likelihood)},
                  {"sigma", c.model.sigma},
                  {"conditions", c.model.conditions}};
    if (c.model.likelihood == LikelihoodKind::tabular)
        j["model"]["tabular"] = {{"numeric", c.model.tabular.numeric},
                                 {"categorical_sizes", c.model.tabular.categorical_sizes}};
    j["train"] = {{"epochs", c.train.epochs},       {"batch", c.train.batch},
                  {"lr", c.train.lr},               {"beta", c.train.beta},
                  {"warmup_epochs", c.train.warmup_epochs}, {"free_bits", c.train.free_bits},
                  {"clip_norm", c.train.clip_norm}, {"skip_non_finite", c.train.skip_non_finite},
                  {"seed", c.train.seed}};
    j["dtype"] = c.dtype;
    j["extra"] = c.extra;
    return j;
}

namespace detail {

/// The config field `v` as an integer of type I. A float (4.5, 1e300) or a value out of I's range is an error,
/// never converted: nlohmann's get<int>() of 1e300 is undefined behaviour.
template <class I>
I config_integer(const nlohmann::json& v, const std::string& field, const std::string& source) {
    using limits = std::numeric_limits<I>;
    bool fits = false;
    if (v.is_number_unsigned()) {
        fits = v.get<std::uint64_t>() <= static_cast<std::uint64_t>(limits::max());
    } else if (v.is_number_integer()) {
        const auto i = v.get<std::int64_t>();
        fits = limits::is_signed && i >= static_cast<std::int64_t>(limits::min()) &&
               i <= static_cast<std::int64_t>(limits::max());
    }
    if (!fits)
        throw io_error(source + ": the checkpoint's config has " + field + " = " + v.dump() + ", but it must be an "
                       "integer from " + std::to_string(limits::min()) + " to " + std::to_string(limits::max()) +
                       "; was it written by another program or version?");
    return v.is_number_unsigned() ? static_cast<I>(v.get<std::uint64_t>()) : static_cast<I>(v.get<std::int64_t>());
}

}  // namespace detail

inline RunConfig run_config_from_json(const nlohmann::json& j, const std::string& source) {
    using detail::config_integer;
    try {
        RunConfig c;
        const auto& m = j.at("model");
        c.model.input = config_integer<Index>(m.at("input"), "model.input", source);
        c.model.hidden.clear();
        for (const auto& h : m.at("hidden").get<std::vector<nlohmann::json>>())
            c.model.hidden.push_back(config_integer<Index>(h, "model.hidden", source));
        c.model.latent = config_integer<Index>(m.at("latent"), "model.latent", source);
        c.model.activation = parse_activation(m.at("activation").get<std::string>());
        c.model.likelihood = parse_likelihood(m.at("likelihood").get<std::string>());
        c.model.sigma = m.at("sigma").get<double>();
        c.model.conditions = config_integer<Index>(m.at("conditions"), "model.conditions", source);
        if (c.model.likelihood == LikelihoodKind::tabular) {
            const auto& t = m.at("tabular");
            c.model.tabular.numeric = config_integer<Index>(t.at("numeric"), "model.tabular.numeric", source);
            double width = double(c.model.tabular.numeric);  // in double: a damaged file's sum may overflow Index
            for (const auto& size : t.at("categorical_sizes").get<std::vector<nlohmann::json>>()) {
                c.model.tabular.categorical_sizes.push_back(
                    config_integer<Index>(size, "model.tabular.categorical_sizes", source));
                width += double(c.model.tabular.categorical_sizes.back());
            }
            if (width != double(c.model.input)) {
                char columns[32];
                std::snprintf(columns, sizeof columns, "%.0f", width);
                throw io_error(source + ": the checkpoint's config has a tabular layout of " + columns +
                               " columns but model.input = " + std::to_string(c.model.input) +
                               "; the checkpoint is damaged");
            }
        }
        const auto& t = j.at("train");
        c.train.epochs = config_integer<int>(t.at("epochs"), "train.epochs", source);
        c.train.batch = config_integer<Index>(t.at("batch"), "train.batch", source);
        c.train.lr = t.at("lr").get<double>();
        c.train.beta = t.at("beta").get<double>();
        c.train.warmup_epochs = t.at("warmup_epochs").get<double>();
        c.train.free_bits = t.at("free_bits").get<double>();
        c.train.clip_norm = t.at("clip_norm").get<double>();
        c.train.skip_non_finite = t.at("skip_non_finite").get<bool>();
        c.train.seed = config_integer<std::uint64_t>(t.at("seed"), "train.seed", source);
        c.dtype = j.at("dtype").get<std::string>();
        c.extra = j.value("extra", nlohmann::json::object());
        c.model.validate();
        return c;
    } catch (const nlohmann::json::exception& e) {
        throw io_error(source + ": the checkpoint's config is incomplete or malformed (" + e.what() +
                       "); was it written by another program or version?");
    }
}

/// The model's parameter name as PyTorch's examples/vae names it: "encoder.fc1.weight" → "fc1.weight".
inline std::string checkpoint_name(const std::string& name) {
    for (const char* prefix : {"encoder.", "decoder."})
        if (name.rfind(prefix, 0) == 0) return name.substr(std::char_traits<char>::length(prefix));
    return name;
}

template <class T>
ParameterList<T> checkpoint_parameters(const ParameterList<T>& params) {
    ParameterList<T> renamed = params;
    for (auto& p : renamed) p.name = checkpoint_name(p.name);
    return renamed;
}

namespace detail {

inline void put_rng(SafeTensors& st, const std::string& name, const Rng::State& s) {
    st.put_vector<std::uint64_t>(name, {s.s[0], s.s[1], s.s[2], s.s[3]});
    st.put_vector<double>(name + ".spare", {s.has_spare ? 1.0 : 0.0, s.spare});
}

inline Rng::State get_rng(const SafeTensors& st, const std::string& name) {
    const auto words = st.get_vector<std::uint64_t>(name);
    const auto spare = st.get_vector<double>(name + ".spare");
    if (words.size() != 4 || spare.size() != 2)
        throw io_error(st.source + ": tensor " + name + " is not a random-number-generator state (4 words + spare)");
    // xoshiro never reaches the all-zero state, and never leaves it: from there it draws only zeros, and
    // rng.below(n) would loop forever.
    if (words == std::vector<std::uint64_t>(4, 0))
        throw io_error(st.source + ": tensor " + name + " is all zeros, which no random-number generator state "
                       "is; the checkpoint is damaged");
    Rng::State s;
    for (std::size_t i = 0; i < 4; ++i) s.s[i] = words[i];
    s.has_spare = spare[0] != 0.0;
    s.spare = spare[1];
    return s;
}

inline SafeTensors read_checkpoint_file(const std::string& path) {
    SafeTensors st = load_safetensors(path);
    const auto format = st.metadata.find("format");
    if (format == st.metadata.end() || format->second != checkpoint_format)
        throw io_error(path + ": not a vaelet checkpoint (metadata \"format\" is " +
                       (format == st.metadata.end() ? std::string("missing") : "\"" + format->second + "\"") +
                       ", expected \"" + checkpoint_format + "\")");
    if (st.metadata.find("config") == st.metadata.end())
        throw io_error(path + ": the checkpoint has no \"config\" metadata");
    return st;
}

/// The fewest weights a model of `m` has: the products of consecutive layer widths, input → hidden → latent in
/// the encoder and back in the decoder. In double, since a damaged config's sizes may overflow any integer.
inline double min_weights(const VaeConfig& m) {
    const double c = double(m.conditions);
    std::vector<double> encoder{double(m.input) + c}, decoder{double(m.latent) + c};
    for (const Index h : m.hidden) encoder.push_back(double(h));
    for (auto h = m.hidden.rbegin(); h != m.hidden.rend(); ++h) decoder.push_back(double(*h));
    encoder.push_back(double(m.latent));
    decoder.push_back(double(m.input));
    double n = 0;
    for (const auto* widths : {&encoder, &decoder})
        for (std::size_t i = 0; i + 1 < widths->size(); ++i) n += (*widths)[i] * (*widths)[i + 1];
    return n;
}

}  // namespace detail

/// Writes the whole state of `trainer` (and the loss history) to `path`, atomically.
template <class T>
void save_checkpoint(const std::string& path, Trainer<T>& trainer, const std::vector<EpochMetrics>& history,
                     const RunConfig& config) {
    SafeTensors st;
    st.metadata["format"] = checkpoint_format;
    st.metadata["vaelet_version"] = version();
    st.metadata["config"] = to_json(config).dump();
    save_parameters(st, checkpoint_parameters(trainer.parameters()));
    for (const auto& s : trainer.optimizer().named_state())
        st.put_matrix("optim." + checkpoint_name(s.name), *s.value);
    st.put_vector<std::int64_t>("optim.step", {trainer.optimizer().step_count()});
    detail::put_rng(st, "rng.shuffle", trainer.shuffle_rng().state());
    detail::put_rng(st, "rng.noise", trainer.noise_rng().state());
    const auto b = trainer.batcher().state();
    detail::put_rng(st, "rng.epoch_order", b.shuffle_rng);
    st.put_vector<std::int64_t>("progress", {trainer.epoch(), trainer.step(), trainer.in_epoch() ? 1 : 0, b.position});
    const EpochSums& sums = trainer.sums();
    st.put_vector<double>("epoch_sums", {sums.recon, sums.kl, sums.examples, sums.skipped_batches});
    std::vector<double> h;
    for (const auto& m : history)
        h.insert(h.end(), {double(m.epoch), m.train.loss, m.train.recon, m.train.kl, m.test.loss, m.test.recon, m.test.kl});
    st.put_vector<double>("history", h);
    save_safetensors(path, st);
}

namespace detail {

/// The configuration stored in the checkpoint `st` (read from `path`); see read_checkpoint_config.
inline RunConfig checkpoint_config(const SafeTensors& st, const std::string& path) {
    const std::string& text = st.metadata.at("config");
    if (!detail::json_nesting_within(text, detail::max_json_depth))
        throw io_error(path + ": the checkpoint's config nests JSON more than " +
                       std::to_string(detail::max_json_depth) + " levels deep; the checkpoint is damaged");
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw io_error(path + ": the checkpoint's config is not valid JSON (" + e.what() + ")");
    }
    RunConfig config = run_config_from_json(j, path);
    double values = 0;
    for (const auto& entry : st.tensors()) values += double(entry.second.numel());
    const double weights = detail::min_weights(config.model);
    if (weights > values) {
        char counts[64];
        std::snprintf(counts, sizeof counts, "%.4g weights, but the file holds only %.4g", weights, values);
        throw io_error(path + ": the checkpoint's config describes a model of at least " + counts +
                       " values; the checkpoint is damaged");
    }
    return config;
}

}  // namespace detail

/// Reads the configuration stored in a checkpoint. The model it describes must be no larger than the weights the
/// file holds, so a damaged config cannot make load_model (or a resumed run) build a model of any size.
inline RunConfig read_checkpoint_config(const std::string& path) {
    return detail::checkpoint_config(detail::read_checkpoint_file(path), path);
}

/// Restores `trainer` (built with the checkpoint's config) to the saved state; returns the loss history.
/// Everything is read and checked before anything is changed, so on an error the trainer is as it was.
template <class T>
std::vector<EpochMetrics> load_checkpoint(const std::string& path, Trainer<T>& trainer) {
    const SafeTensors st = detail::read_checkpoint_file(path);
    const ParameterList<T> weights = checkpoint_parameters(trainer.parameters());
    check_parameters(st, weights);
    const auto optimizer_state = trainer.optimizer().named_state();
    std::vector<Matrix<T>> optimizer_values;
    for (const auto& s : optimizer_state) {
        const std::string name = "optim." + checkpoint_name(s.name);
        optimizer_values.push_back(st.get_matrix<T>(name));
        const Matrix<T>& value = optimizer_values.back();
        if (value.rows() != s.value->rows() || value.cols() != s.value->cols())
            throw io_error(path + ": optimizer state " + name + " is " + shape_string(value) + " but the model needs " +
                           shape_string(*s.value));
    }
    const auto step = st.get_vector<std::int64_t>("optim.step");
    const auto progress = st.get_vector<std::int64_t>("progress");
    const auto sums = st.get_vector<double>("epoch_sums");
    if (step.size() != 1 || progress.size() != 4 || sums.size() != 4)
        throw io_error(path + ": progress tensors have the wrong length; the checkpoint is damaged");
    // Counts that training goes on incrementing: each must be able to take one more step.
    constexpr auto max_steps = std::numeric_limits<std::int64_t>::max() - 1;
    if (progress[0] < 0 || progress[0] >= INT_MAX || progress[1] < 0 || progress[1] > max_steps || step[0] < 0 ||
        step[0] > max_steps)
        throw io_error(path + ": progress holds " + std::to_string(progress[0]) + " epochs and " +
                       std::to_string(progress[1]) + " steps (optimizer: " + std::to_string(step[0]) +
                       "), which no run reaches; the checkpoint is damaged");
    const Rng::State shuffle_rng = detail::get_rng(st, "rng.shuffle");
    const Rng::State noise_rng = detail::get_rng(st, "rng.noise");
    const bool in_epoch = progress[2] != 0;
    auto batcher = trainer.batcher();  // restored on a copy: restore() checks the position against the data
    if (in_epoch) batcher.restore({detail::get_rng(st, "rng.epoch_order"), Index(progress[3])});

    const auto h = st.get_vector<double>("history");
    if (h.size() % 7 != 0) throw io_error(path + ": tensor history has the wrong length; the checkpoint is damaged");
    std::vector<EpochMetrics> history;
    for (std::size_t i = 0; i < h.size(); i += 7) {
        if (!(h[i] >= 0 && h[i] <= INT_MAX && h[i] == std::floor(h[i])))  // also false for NaN
            throw io_error(path + ": tensor history has epoch number " + std::to_string(h[i]) +
                           "; the checkpoint is damaged");
        history.push_back({int(h[i]), {h[i + 1], h[i + 2], h[i + 3]}, {h[i + 4], h[i + 5], h[i + 6]}, 0.0, 0.0});
    }

    load_parameters(st, weights);
    for (std::size_t i = 0; i < optimizer_state.size(); ++i) *optimizer_state[i].value = std::move(optimizer_values[i]);
    trainer.optimizer().set_step_count(step[0]);
    trainer.shuffle_rng().set_state(shuffle_rng);
    trainer.noise_rng().set_state(noise_rng);
    trainer.batcher() = std::move(batcher);
    trainer.sums() = EpochSums{sums[0], sums[1], sums[2], sums[3]};
    trainer.restore_progress(int(progress[0]), long(progress[1]), in_epoch);
    return history;
}

/// A checkpoint's configuration and its model with the trained weights.
template <class T>
struct TrainedModel {
    RunConfig config;
    std::unique_ptr<Vae<T>> vae;
};

/// The configuration and the trained model of a checkpoint, for inference (sample, encode, score, ...), from one
/// read of the file.
template <class T>
TrainedModel<T> load_trained_model(const std::string& path) {
    const SafeTensors st = detail::read_checkpoint_file(path);
    TrainedModel<T> m{detail::checkpoint_config(st, path), nullptr};
    Rng unused(0);
    m.vae = std::make_unique<Vae<T>>(m.config.model, unused);
    load_parameters(st, checkpoint_parameters(m.vae->named_parameters()));
    return m;
}

/// The model of a checkpoint with its trained weights (load_trained_model without the configuration).
template <class T>
std::unique_ptr<Vae<T>> load_model(const std::string& path) {
    return load_trained_model<T>(path).vae;
}

}  // namespace vaelet
