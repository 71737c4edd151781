/// \file
/// vaelet/train/checkpoint.hpp — a training run in one safetensors file: the model (its architecture and weights,
/// as train/model_file.hpp stores them), the trainer's state (the optimizer's buffers, both random streams, the batch
/// position, the epoch's running sums), the loss history and the run's configuration. Loading it resumes the run bit
/// for bit; load_model reads the model alone, and the weights of the MLP load straight into PyTorch.
///
///     vaelet::save_checkpoint(run + "/checkpoint.safetensors", trainer, history, config);
///     auto ckpt = vaelet::read_checkpoint_config(path);          // the model and training settings
///     auto vae = vaelet::load_model<float>(path);                 // the model alone, for sample/encode/score
///
/// Layout: weights under their file names ("fc1.weight", … for the MLP: the model's names without "encoder."/
/// "decoder." when they stay unique); the trainer's state, written and read by put_trainer_state/get_trainer_state
/// alone: optimizer buffers "optim.<weight>.<buffer>" and "optim.step"; "rng.shuffle"/"rng.noise"/"rng.epoch_order"
/// (4 × U64 words) with "….spare" (F64: has-spare flag, value); "progress" (I64: epochs done, steps, epoch under
/// way, batch position); "epoch_sums" (recon, kl, examples, skipped; and β-TCVAE's MI, TC, dimension-wise KL when
/// it has them); "history" and, for β-TCVAE, "history_kl_split" (F64). Metadata: "format" = "vaelet-checkpoint-1",
/// "vaelet_version", "architecture" (JSON), "config" (JSON, the field tables of VaeConfig and TrainOptions). Nothing
/// measured in wall-clock time is stored, so two identical runs write identical bytes. Checkpoints written before
/// the "architecture" metadata existed load too (their model is the MLP of config.model).
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/train/model_file.hpp"
#include "vaelet/train/metrics.hpp"
#include "vaelet/train/trainer.hpp"

#include <nlohmann/json.hpp>

#include <climits>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vaelet {

/// The "format" metadata that marks a safetensors file as a vaelet checkpoint.
inline constexpr const char* checkpoint_format = "vaelet-checkpoint-1";

/// What a run was configured with: the MLP's configuration when the model is one (composed models describe
/// themselves in the checkpoint's architecture), the training settings and free-form extras (data dir, ...).
struct RunConfig {
    std::optional<VaeConfig> model = VaeConfig{};     ///< the MLP's configuration; empty for a composed model
    TrainOptions train;                               ///< the training settings
    std::string dtype = "float32";                    ///< the scalar type's name, stored for the record
    nlohmann::json extra = nlohmann::json::object();  ///< the program's own settings (data dir, conv VAE config, ...)
};

/// `c` as the JSON a checkpoint stores in its "config" metadata: model (for an MLP), train, dtype and extra.
inline nlohmann::json to_json(const RunConfig& c) {
    nlohmann::json j;
    if (c.model) j["model"] = to_json(*c.model);
    j["train"] = nlohmann::json::object();
    TrainOptions::fields(c.train, detail::JsonFieldWriter{j["train"]});
    j["dtype"] = c.dtype;
    j["extra"] = c.extra;
    return j;
}

/// The RunConfig of to_json's JSON `j` (the model's configuration validated); io_error naming `source` when a
/// field is missing or malformed.
inline RunConfig run_config_from_json(const nlohmann::json& j, const std::string& source) {
    try {
        RunConfig c;
        c.model.reset();
        if (j.contains("model")) c.model = vae_config_from_json(j.at("model"), source);
        TrainOptions::fields(c.train, detail::JsonFieldReader{j.at("train"), "train.", source});
        c.dtype = j.at("dtype").get<std::string>();
        c.extra = j.value("extra", nlohmann::json::object());
        return c;
    } catch (const nlohmann::json::exception& e) {
        throw io_error(source + ": the checkpoint's config is incomplete or malformed (" + e.what() +
                       "); was it written by another program or version?");
    }
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

/// Each optimizer buffer's name in the file: "optim." + its parameter's file name + "." + the buffer.
template <class T>
std::vector<std::string> optimizer_file_names(Trainer<T>& trainer) {
    const ParameterList<T> full = trainer.model().named_parameters(), file = file_parameters(trainer.model());
    std::vector<std::string> names;
    for (const auto& b : trainer.optimizer().named_state()) {
        std::string name = "optim." + b.name;
        std::size_t best = 0;  // the longest parameter name that the buffer's name extends
        for (std::size_t k = 0; k < full.size(); ++k)
            if (full[k].name.size() > best && b.name.rfind(full[k].name + ".", 0) == 0) {
                best = full[k].name.size();
                name = "optim." + file[k].name + b.name.substr(best);
            }
        names.push_back(name);
    }
    return names;
}

/// Writes the trainer's state (TrainerState) into `st`: the one place that knows its layout, with get_trainer_state.
/// The optimizer's buffers are borrowed, not copied: save `st` before the next step.
template <class T>
void put_trainer_state(SafeTensors& st, Trainer<T>& trainer) {
    const TrainerState<T> s = trainer.state(/*with_optimizer_buffers=*/false);
    const std::vector<std::string> names = optimizer_file_names(trainer);
    const StateList<T> buffers = trainer.optimizer().named_state();  // borrowed: st is saved before a step
    for (std::size_t i = 0; i < buffers.size(); ++i)
        st.borrow_matrix(names[i], *buffers[i].value, {buffers[i].value->rows(), buffers[i].value->cols()});
    st.put_vector<std::int64_t>("optim.step", {s.optimizer_step});
    put_rng(st, "rng.shuffle", s.shuffle_rng);
    put_rng(st, "rng.noise", s.noise_rng);
    put_rng(st, "rng.epoch_order", s.batch.shuffle_rng);
    st.put_vector<std::int64_t>("progress", {s.epoch, s.step, s.in_epoch ? 1 : 0, s.batch.position});
    const KlSplit& split = s.sums.split;
    std::vector<double> sums{s.sums.recon, s.sums.kl, s.sums.examples, s.sums.skipped_batches};
    if (split.mutual_information != 0 || split.total_correlation != 0 || split.dimension_kl != 0)  // β-TCVAE's
        sums.insert(sums.end(), {split.mutual_information, split.total_correlation, split.dimension_kl});
    st.put_vector<double>("epoch_sums", sums);
}

/// The trainer state stored in `st`, for `trainer` (whose optimizer names the buffers to read), checked: io_error
/// naming the tensor when it is missing, of the wrong shape, or holds counts no run reaches.
template <class T>
TrainerState<T> get_trainer_state(const SafeTensors& st, Trainer<T>& trainer) {
    TrainerState<T> s = trainer.state();
    const std::vector<std::string> names = optimizer_file_names(trainer);
    for (std::size_t i = 0; i < s.optimizer.size(); ++i) {
        Matrix<T> value = st.get_matrix<T>(names[i]);
        const Matrix<T>& like = s.optimizer[i].second;
        if (value.rows() != like.rows() || value.cols() != like.cols())
            throw io_error(st.source + ": optimizer state " + names[i] + " is " + shape_string(value) +
                           " but the model needs " + shape_string(like));
        s.optimizer[i].second = std::move(value);
    }
    const auto step = st.get_vector<std::int64_t>("optim.step");
    const auto progress = st.get_vector<std::int64_t>("progress");
    const auto sums = st.get_vector<double>("epoch_sums");
    if (step.size() != 1 || progress.size() != 4 || (sums.size() != 4 && sums.size() != 7))  // 4: before β-TCVAE
        throw io_error(st.source + ": progress tensors have the wrong length; the checkpoint is damaged");
    // Counts that training goes on incrementing: each must be able to take one more step.
    constexpr auto max_steps = std::numeric_limits<std::int64_t>::max() - 1;
    if (progress[0] < 0 || progress[0] >= INT_MAX || progress[1] < 0 || progress[1] > max_steps || step[0] < 0 ||
        step[0] > max_steps)
        throw io_error(st.source + ": progress holds " + std::to_string(progress[0]) + " epochs and " +
                       std::to_string(progress[1]) + " steps (optimizer: " + std::to_string(step[0]) +
                       "), which no run reaches; the checkpoint is damaged");
    s.optimizer_step = step[0];
    s.shuffle_rng = get_rng(st, "rng.shuffle");
    s.noise_rng = get_rng(st, "rng.noise");
    s.epoch = int(progress[0]);
    s.step = long(progress[1]);
    s.in_epoch = progress[2] != 0;
    if (s.in_epoch) s.batch = {get_rng(st, "rng.epoch_order"), Index(progress[3])};
    s.sums = EpochSums{sums[0], sums[1], sums[2], sums[3], {}};
    if (sums.size() == 7) s.sums.split = KlSplit{sums[4], sums[5], sums[6]};
    return s;
}

}  // namespace detail

/// Writes the whole state of `trainer` — its model, its state — and the loss history to `path`, atomically.
template <class T>
void save_checkpoint(const std::string& path, Trainer<T>& trainer, const std::vector<EpochMetrics>& history,
                     const RunConfig& config) {
    SafeTensors st;
    st.metadata["format"] = checkpoint_format;
    st.metadata["config"] = to_json(config).dump();
    put_model(st, trainer.model(), Storage::borrow);  // borrowed, not copied: a copy was the run's peak of memory
    detail::put_trainer_state(st, trainer);
    std::vector<double> h, split;
    for (const auto& m : history) {
        h.insert(h.end(), {double(m.epoch), m.train.loss, m.train.recon, m.train.kl, m.test.loss, m.test.recon, m.test.kl});
        if (const auto& k = m.train.kl_split)
            split.insert(split.end(), {double(m.epoch), k->mutual_information, k->total_correlation, k->dimension_kl});
    }
    st.put_vector<double>("history", h);
    if (!split.empty()) st.put_vector<double>("history_kl_split", split);  // β-TCVAE's: epoch, MI, TC, dim-KL
    save_safetensors(path, st);
}

/// The configuration stored in the checkpoint `st` (as load_safetensors read it), checked as
/// read_checkpoint_config checks it.
inline RunConfig checkpoint_config(const SafeTensors& st) {
    const std::string& path = st.source;
    const auto format = st.metadata.find("format");
    if (format == st.metadata.end() || format->second != checkpoint_format || !st.metadata.count("config"))
        throw io_error(path + ": not a vaelet checkpoint (no \"format\" = \"" + checkpoint_format +
                       "\" with a \"config\"); a model file or state_dict has no training run to read");
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
    if (config.model) detail::require_weights_fit(st, detail::min_weights(*config.model), "the checkpoint's config");
    return config;
}

/// Reads the configuration stored in a checkpoint. The model it describes must be no larger than the weights the
/// file holds, so a damaged config cannot make load_model (or a resumed run) build a model of any size.
inline RunConfig read_checkpoint_config(const std::string& path) {
    return checkpoint_config(detail::read_checkpoint_file(path));
}

/// Restores `trainer` (built with the checkpoint's model and config) to the saved state: weights and trainer
/// state; returns the loss history. Everything is read and checked before anything is changed, so on an error the
/// trainer and its model are as they were.
template <class T>
std::vector<EpochMetrics> load_checkpoint(const std::string& path, Trainer<T>& trainer) {
    const SafeTensors st = detail::read_checkpoint_file(path);
    const ParameterList<T> weights = file_parameters(trainer.model());
    check_parameters(st, weights);
    const TrainerState<T> state = detail::get_trainer_state(st, trainer);
    const auto h = st.get_vector<double>("history");
    if (h.size() % 7 != 0) throw io_error(path + ": tensor history has the wrong length; the checkpoint is damaged");
    std::vector<EpochMetrics> history;
    for (std::size_t i = 0; i < h.size(); i += 7) {
        if (!(h[i] >= 0 && h[i] <= INT_MAX && h[i] == std::floor(h[i])))  // also false for NaN
            throw io_error(path + ": tensor history has epoch number " + std::to_string(h[i]) +
                           "; the checkpoint is damaged");
        history.push_back({int(h[i]), {h[i + 1], h[i + 2], h[i + 3], {}}, {h[i + 4], h[i + 5], h[i + 6], {}}, 0.0, 0.0});
    }
    if (st.contains("history_kl_split")) {
        const auto split = st.get_vector<double>("history_kl_split");
        if (split.size() % 4 != 0)
            throw io_error(path + ": tensor history_kl_split has the wrong length; the checkpoint is damaged");
        for (std::size_t i = 0; i < split.size(); i += 4)
            for (auto& m : history)
                if (double(m.epoch) == split[i]) m.train.kl_split = KlSplit{split[i + 1], split[i + 2], split[i + 3]};
    }
    try {
        trainer.restore(state);  // checks the batch position against the data before it changes anything
    } catch (const error& e) {
        throw io_error(path + ": " + e.what());
    }
    load_parameters(st, weights);
    return history;
}

/// A checkpoint's configuration and its model with the trained weights.
template <class T>
struct TrainedModel {
    RunConfig config;             ///< the run's configuration, as read_checkpoint_config reads it
    std::unique_ptr<Vae<T>> vae;  ///< the model with its trained weights
};

/// The configuration and the trained model of a checkpoint, for inference (sample, encode, score, ...), from one
/// read of the file.
template <class T>
TrainedModel<T> load_trained_model(const std::string& path) {
    const SafeTensors st = detail::read_checkpoint_file(path);
    TrainedModel<T> m{checkpoint_config(st), nullptr};
    m.vae = model_from<T>(st);
    return m;
}

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_CHECKPOINT_TEMPLATES(prefix, T) \
    prefix template void save_checkpoint<T>(const std::string&, Trainer<T>&, const std::vector<EpochMetrics>&, const RunConfig&); \
    prefix template std::vector<EpochMetrics> load_checkpoint<T>(const std::string&, Trainer<T>&);                                \
    prefix template TrainedModel<T> load_trained_model<T>(const std::string&);
VAELET_EXTERN_TEMPLATES(VAELET_CHECKPOINT_TEMPLATES)

}  // namespace vaelet
