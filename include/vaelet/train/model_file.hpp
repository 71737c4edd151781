/// \file
/// vaelet/train/model_file.hpp — a model in one safetensors file, without a trainer: its architecture (JSON metadata,
/// vae/architecture.hpp) beside its weights, so load_model rebuilds any composed model. load_model also reads
/// vaelet checkpoints and a plain PyTorch state_dict saved as safetensors: of the canonical VAE (fc1, fc21, fc22,
/// fc3, fc4) or of the conv VAE (conv1, conv2, fc1, …, deconv2), also with vaelet's encoder./decoder. prefixes as
/// bench/pytorch_vae.py writes them.
///
///     vaelet::save_model("model.safetensors", vae);                                    // atomic
///     std::unique_ptr<vaelet::Vae<float>> m = vaelet::load_model<float>("model.safetensors");
///     auto torch = vaelet::load_model<float>("state_dict.safetensors");               // sizes read off the tensors
///     auto tanh_one = vaelet::load_model<float>("sd.safetensors", vaelet::parse_vae_config("activation=tanh"));
///
/// Tensor names: a model's parameter names without the "encoder."/"decoder." prefixes when every name stays unique
/// (the MLP's fc1 … fc4, as PyTorch's example names them, so the file loads into that model), else the full names.
/// Metadata: "format" = "vaelet-model-1", "vaelet_version", "architecture" (JSON of the ModuleSpec tree).
/// In train/ because it joins the model (vae/) and the file format (io/), which know nothing of each other.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/io/safetensors_parameters.hpp"
#include "vaelet/vae/architecture.hpp"
#include "vaelet/vae/conv_vae.hpp"
#include "vaelet/version.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace vaelet {

/// The "format" metadata that marks a safetensors file as a vaelet model file (save_model).
inline constexpr const char* model_format = "vaelet-model-1";

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
        throw io_error(source + ": the config has " + field + " = " + v.dump() + ", but it must be an integer from " +
                       std::to_string(limits::min()) + " to " + std::to_string(limits::max()) +
                       "; was it written by another program or version?");
    return v.is_number_unsigned() ? static_cast<I>(v.get<std::uint64_t>()) : static_cast<I>(v.get<std::int64_t>());
}

/// Writes each field a `fields(…)` table visits into a JSON object (enums by name).
struct JsonFieldWriter {
    nlohmann::json& j;
    template <class V>
    void operator()(const char* name, const V& v, bool = true) const {
        if constexpr (std::is_same_v<V, Activation>) j[name] = activation_name(v);
        else if constexpr (std::is_same_v<V, LikelihoodKind>) j[name] = likelihood_name(v);
        else j[name] = v;
    }
};

/// Reads each field a `fields(…)` table visits from a JSON object: integers checked by config_integer, enums
/// parsed by name; a missing field is an error unless the table marks it not required (then it keeps its value).
struct JsonFieldReader {
    const nlohmann::json& j;
    std::string prefix;  // "model.", "train.": names the field in errors
    std::string source;

    template <class V>
    void operator()(const char* name, V& v, bool required = true) const {
        const auto it = j.find(name);
        if (it == j.end()) {
            if (required)
                throw io_error(source + ": the config has no field " + prefix + name +
                               "; was it written by another program or version?");
            return;
        }
        const std::string field = prefix + name;
        if constexpr (std::is_same_v<V, Activation>) v = parse_activation(it->template get<std::string>());
        else if constexpr (std::is_same_v<V, LikelihoodKind>) v = parse_likelihood(it->template get<std::string>());
        else if constexpr (std::is_same_v<V, std::vector<Index>>) {
            v.clear();
            for (const auto& e : it->template get<std::vector<nlohmann::json>>())
                v.push_back(config_integer<Index>(e, field, source));
        } else if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) v = config_integer<V>(*it, field, source);
        else v = it->template get<V>();
    }
};

}  // namespace detail

/// `config` as JSON: its fields() by name, plus "tabular" {numeric, categorical_sizes} for a tabular likelihood.
inline nlohmann::json to_json(const VaeConfig& config) {
    nlohmann::json j = nlohmann::json::object();
    VaeConfig::fields(config, detail::JsonFieldWriter{j});
    if (config.likelihood == LikelihoodKind::tabular)
        j["tabular"] = {{"numeric", config.tabular.numeric}, {"categorical_sizes", config.tabular.categorical_sizes}};
    return j;
}

/// The VaeConfig of to_json's JSON `j`, validated; io_error naming `source` and the field otherwise.
inline VaeConfig vae_config_from_json(const nlohmann::json& j, const std::string& source) {
    VaeConfig c;
    try {
        VaeConfig::fields(c, detail::JsonFieldReader{j, "model.", source});
        if (c.likelihood == LikelihoodKind::tabular) {
            const auto& t = j.at("tabular");
            c.tabular.numeric = detail::config_integer<Index>(t.at("numeric"), "model.tabular.numeric", source);
            double width = double(c.tabular.numeric);  // in double: a damaged file's sum may overflow Index
            for (const auto& size : t.at("categorical_sizes").get<std::vector<nlohmann::json>>()) {
                c.tabular.categorical_sizes.push_back(
                    detail::config_integer<Index>(size, "model.tabular.categorical_sizes", source));
                width += double(c.tabular.categorical_sizes.back());
            }
            if (width != double(c.input)) {
                std::ostringstream columns;
                columns.precision(0);
                columns << std::fixed << width;
                throw io_error(source + ": the config has a tabular layout of " + columns.str() +
                               " columns but model.input = " + std::to_string(c.input) + "; the file is damaged");
            }
        }
    } catch (const nlohmann::json::exception& e) {
        throw io_error(source + ": the model config is incomplete or malformed (" + e.what() +
                       "); was it written by another program or version?");
    }
    c.validate();
    return c;
}

/// `config` as JSON: its fields() by name, for a program that stores a conv VAE's configuration beside its run
/// (vaelet-mnist: in a checkpoint's RunConfig::extra["conv"]).
inline nlohmann::json to_json(const ConvVaeConfig& config) {
    nlohmann::json j = nlohmann::json::object();
    ConvVaeConfig::fields(config, detail::JsonFieldWriter{j});
    return j;
}

/// The ConvVaeConfig of to_json's JSON `j`, validated; io_error naming `source` and the field otherwise.
inline ConvVaeConfig conv_vae_config_from_json(const nlohmann::json& j, const std::string& source) {
    ConvVaeConfig c;
    try {
        ConvVaeConfig::fields(c, detail::JsonFieldReader{j, "conv.", source});
        c.validate();
    } catch (const nlohmann::json::exception& e) {
        throw io_error(source + ": the conv VAE config is incomplete or malformed (" + e.what() +
                       "); was it written by another program or version?");
    } catch (const config_error& e) {
        throw io_error(source + ": " + e.what() + "; the file is damaged");
    }
    return c;
}

/// A VaeConfig from a short text of `field=value` pairs separated by spaces (fields as in VaeConfig; lists by
/// commas), starting from `base`: "hidden=512,256 latent=32 activation=tanh likelihood=gaussian". config_error
/// naming the pair that does not parse.
inline VaeConfig parse_vae_config(const std::string& text, VaeConfig base = {}) {
    std::istringstream words(text);
    std::string pair;
    while (words >> pair) {
        const auto eq = pair.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == pair.size())
            throw config_error("architecture \"" + text + "\": \"" + pair + "\" is not field=value");
        const std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
        bool known = false;
        const auto number = [&](const std::string& s) -> double {
            std::size_t used = 0;
            double d = 0;
            try {
                d = std::stod(s, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used != s.size()) throw config_error("architecture: " + key + "=" + value + " is not a number");
            return d;
        };
        VaeConfig::fields(base, [&](const char* name, auto& field, bool = true) {
            if (key != name) return;
            known = true;
            using V = std::decay_t<decltype(field)>;
            if constexpr (std::is_same_v<V, Activation>) field = parse_activation(value);
            else if constexpr (std::is_same_v<V, std::string>) field = value;
            else if constexpr (std::is_same_v<V, LikelihoodKind>) field = parse_likelihood(value);
            else if constexpr (std::is_same_v<V, std::vector<Index>>) {
                field.clear();
                std::istringstream items(value);
                for (std::string item; std::getline(items, item, ',');) field.push_back(Index(number(item)));
            } else if constexpr (std::is_integral_v<V>) {
                const double d = number(value);
                if (d != double(Index(d))) throw config_error("architecture: " + key + "=" + value + " is not a whole number");
                field = V(d);
            } else {
                field = number(value);
            }
        });
        if (!known)
            throw config_error("architecture: no field \"" + key + "\"; the fields are input, hidden, latent, "
                               "activation, likelihood, sigma, conditions, prior, pseudo_inputs, latent2, hidden2, flow_steps, flow_hidden");
    }
    return base;
}

/// ModuleSpec as JSON: {"type": …, "sizes": {…}, "numbers": {…}, "texts": {…}, "children": [[name, spec], …]},
/// the empty members left out.
inline nlohmann::json to_json(const ModuleSpec& s) {
    nlohmann::json j = {{"type", s.type}};
    if (!s.sizes.empty()) j["sizes"] = s.sizes;
    if (!s.numbers.empty()) j["numbers"] = s.numbers;
    if (!s.texts.empty()) j["texts"] = s.texts;
    if (!s.children.empty()) {
        j["children"] = nlohmann::json::array();
        for (const auto& [name, child] : s.children) j["children"].push_back({name, to_json(child)});
    }
    return j;
}

namespace detail {
inline ModuleSpec spec_from_json(const nlohmann::json& j, const std::string& source, int depth) {
    if (depth > 32) throw io_error(source + ": the architecture nests modules more than 32 deep; the file is damaged");
    ModuleSpec s;
    s.type = j.at("type").get<std::string>();
    if (j.contains("sizes"))
        for (const auto& [k, v] : j.at("sizes").items()) s.sizes[k] = config_integer<Index>(v, "architecture size " + k, source);
    if (j.contains("numbers")) s.numbers = j.at("numbers").get<std::map<std::string, double>>();
    if (j.contains("texts")) s.texts = j.at("texts").get<std::map<std::string, std::string>>();
    if (j.contains("children"))
        for (const auto& c : j.at("children")) {
            if (!c.is_array() || c.size() != 2) throw io_error(source + ": an architecture child is not [name, spec]");
            s.children.emplace_back(c[0].get<std::string>(), spec_from_json(c[1], source, depth + 1));
        }
    return s;
}
}  // namespace detail

/// The ModuleSpec of to_json's JSON; io_error naming `source` when it is malformed.
inline ModuleSpec spec_from_json(const nlohmann::json& j, const std::string& source) {
    try {
        return detail::spec_from_json(j, source, 0);
    } catch (const nlohmann::json::exception& e) {
        throw io_error(source + ": the architecture is malformed (" + e.what() + "); the file is damaged");
    }
}

/// The model's parameters under their file names: without "encoder."/"decoder." when every name stays unique.
template <class T>
ParameterList<T> file_parameters(Vae<T>& vae) {
    ParameterList<T> list = vae.named_parameters();
    ParameterList<T> short_names = list;
    std::set<std::string> seen;
    for (auto& p : short_names) {
        for (const char* prefix : {"encoder.", "decoder."})
            if (p.name.rfind(prefix, 0) == 0) p.name = p.name.substr(std::char_traits<char>::length(prefix));
        if (!seen.insert(p.name).second) return list;
    }
    return short_names;
}

/// Puts `vae`'s weights (under their file names) and its architecture into `st` (save_model and checkpoints), as
/// copies or, with Storage::borrow, as views of the model's own (save `st` while the model lives, unchanged).
template <class T>
void put_model(SafeTensors& st, Vae<T>& vae, Storage storage = Storage::copy) {
    st.metadata["vaelet_version"] = version();
    st.metadata["architecture"] = to_json(architecture(vae)).dump();
    save_parameters(st, file_parameters(vae), storage);
}

/// Writes `vae` to `path` (atomically): its architecture and weights, enough for load_model to rebuild it.
template <class T>
void save_model(const std::string& path, Vae<T>& vae) {
    SafeTensors st;
    st.metadata["format"] = model_format;
    put_model(st, vae, Storage::borrow);
    save_safetensors(path, st);
}

/// How load_model reads a file that does not describe its own architecture (a PyTorch state_dict).
struct LoadModelOptions {
    /// The MLP to build; without it, input, hidden, latent and conditions are read off the tensors' shapes, and
    /// the activation is ReLU and the likelihood Bernoulli (PyTorch's example), or a learned Gaussian when there
    /// is a log_sigma tensor. A conv VAE's state_dict (a conv1.weight) is always read off its tensors: its image
    /// is square, its likelihood as for the MLP.
    std::optional<VaeConfig> architecture;
    /// Whether F32 ↔ F64 weights are converted (a PyTorch file is F32; a double model needs FloatCast::allow).
    FloatCast cast = FloatCast::forbid;
};

namespace detail {

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

/// The fewest weights the layers of `spec` hold that the built-in types reveal (Linear, GaussianHead, Conv2d,
/// ConvTranspose2d), in double: a damaged architecture's sizes may overflow any integer.
inline double min_weights(const ModuleSpec& spec) {
    double n = 0;
    const auto size = [&](const char* key) {
        const auto it = spec.sizes.find(key);
        return it == spec.sizes.end() ? 0.0 : std::max(0.0, double(it->second));
    };
    if (spec.type == "Linear") n += size("in_features") * size("out_features");
    if (spec.type == "GaussianHead") n += 2 * size("in_features") * size("latent");
    if (spec.type == "Conv2d" || spec.type == "ConvTranspose2d")
        n += size("in_channels") * size("out_channels") * size("kernel_height") * size("kernel_width");
    for (const auto& [name, child] : spec.children) n += min_weights(child);
    return n;
}

/// Throws io_error unless a model of at least `weights` weights, as `what` describes it, fits in the values `st`
/// holds: a damaged file must not make the loader (or a resumed run) build a model of any size.
inline void require_weights_fit(const SafeTensors& st, double weights, const std::string& what) {
    double values = 0;
    for (const auto& entry : st.tensors()) values += double(entry.second.numel());
    if (weights <= values) return;
    char counts[96];
    std::snprintf(counts, sizeof counts, "%.4g weights, more weights than the file holds (%.4g values)", weights,
                  values);
    throw io_error(st.source + ": " + what + " describes a model of at least " + counts + "; the file is damaged");
}

/// Whether a state_dict names its tensors as a vaelet model's parameters (encoder.fc1.weight, …, decoder.fc4.bias,
/// as bench/pytorch_vae.py `train --out` writes them) rather than as PyTorch's example (fc1.weight, …).
inline bool vae_prefixed(const SafeTensors& st) {
    return !st.contains("fc1.weight") && st.contains("encoder.fc1.weight");
}

/// The name in `st` of the state_dict tensor `bare` (fc1.weight, …, log_sigma): prefixed when the file is.
inline std::string state_dict_name(const SafeTensors& st, const std::string& bare) {
    if (!vae_prefixed(st)) return bare;
    const bool encoder = bare.rfind("fc1.", 0) == 0 || bare.rfind("fc1_", 0) == 0 || bare.rfind("fc2", 0) == 0 ||
                         bare.rfind("conv", 0) == 0;
    return (encoder ? "encoder." : "decoder.") + bare;
}

/// The tensors of the MLP of `c` under their bare names, with their shapes in the file (PyTorch's: weight out×in,
/// bias [out]), as mlp_vae_parts names its layers.
inline std::vector<std::pair<std::string, std::vector<std::int64_t>>> mlp_tensor_shapes(const VaeConfig& c) {
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> shapes;
    Index width = c.input + c.conditions;  // the input width of the next layer
    const auto linear = [&](const std::string& name, Index out) {
        shapes.push_back({name + ".weight", {out, width}});
        shapes.push_back({name + ".bias", {out}});
        width = out;
    };
    const auto encoder = trunk_names("fc1", c.hidden.size()), decoder = trunk_names("fc3", c.hidden.size());
    for (std::size_t k = 0; k < c.hidden.size(); ++k) linear(encoder[k], c.hidden[k]);
    const Index trunk = width;
    linear("fc21", c.latent);
    width = trunk;
    linear("fc22", c.latent);
    width = c.latent + c.conditions;
    for (std::size_t k = 0; k < c.hidden.size(); ++k) linear(decoder[k], c.hidden[c.hidden.size() - 1 - k]);
    linear("fc4", c.input);
    if (c.likelihood == LikelihoodKind::gaussian_learned) shapes.push_back({"log_sigma", {1, 1}});
    if (c.likelihood == LikelihoodKind::gaussian_learned_per_dim) shapes.push_back({"log_sigma", {c.input}});
    if (c.likelihood == LikelihoodKind::tabular && c.tabular.numeric > 0)
        shapes.push_back({"log_sigma", {c.tabular.numeric}});
    return shapes;
}

/// Throws io_error naming the first tensor of the MLP of `c` (an architecture given for a state_dict) that `st`
/// lacks or has in another shape. Checked before the model is built: a wrong architecture is then named by its
/// tensor, however many weights it describes.
inline void check_mlp_shapes(const SafeTensors& st, const VaeConfig& c) {
    c.validate();
    for (const auto& [bare, expected] : mlp_tensor_shapes(c)) {
        const std::string name = state_dict_name(st, bare);
        if (!st.contains(name))
            throw io_error(st.source + ": tensor " + name + " is missing (the architecture given for it expects "
                           "shape " + shape_text(expected) + "); correct the architecture given in "
                           "LoadModelOptions::architecture, or check that "
                           "the file is the state_dict of that model");
        if (st.at(name).shape != expected)
            throw io_error(st.source + ": tensor " + name + " has shape " + shape_text(st.at(name).shape) +
                           " but the architecture given for it expects " + shape_text(expected) +
                           "; correct the architecture given in LoadModelOptions::architecture, or leave it out to read the "
                           "sizes off the tensors");
    }
}

/// The likelihood a state_dict implies: a learned Gaussian σ when it has a log_sigma tensor (one value, or one
/// per feature), else `otherwise`.
inline LikelihoodKind likelihood_of(const SafeTensors& st, LikelihoodKind otherwise) {
    const std::string log_sigma = state_dict_name(st, "log_sigma");
    if (!st.contains(log_sigma)) return otherwise;
    return st.at(log_sigma).numel() == 1 ? LikelihoodKind::gaussian_learned : LikelihoodKind::gaussian_learned_per_dim;
}

/// The MLP a state_dict's tensor shapes describe: fc1 (+ fc1_2, …) → fc21/fc22 → fc3 (+ fc3_2, …) → fc4.
inline VaeConfig infer_vae_config(const SafeTensors& st) {
    const auto shape = [&](const std::string& bare) -> std::vector<std::int64_t> {
        const std::string name = state_dict_name(st, bare);
        if (!st.contains(name))
            throw io_error(st.source + ": no tensor " + name + ", so this is not a vaelet model file nor a state_dict "
                           "of PyTorch's example VAE (fc1, fc21, fc22, fc3, fc4); save it with vaelet::save_model, or "
                           "pass its architecture in LoadModelOptions::architecture (\"input=… hidden=… latent=…\")");
        const auto& s = st.at(name).shape;
        if (s.size() != 2) throw io_error(st.source + ": tensor " + name + " has shape " + shape_text(s) + ", not 2-D");
        return s;
    };
    VaeConfig c;
    c.hidden.clear();
    const auto fc1 = shape("fc1.weight");
    c.hidden.push_back(Index(fc1[0]));
    for (int k = 2; st.contains(state_dict_name(st, "fc1_" + std::to_string(k) + ".weight")); ++k)
        c.hidden.push_back(Index(shape("fc1_" + std::to_string(k) + ".weight")[0]));
    c.latent = Index(shape("fc21.weight")[0]);
    c.input = Index(shape("fc4.weight")[0]);
    c.conditions = Index(fc1[1]) - c.input;
    c.likelihood = likelihood_of(st, c.likelihood);
    try {
        c.validate();
    } catch (const config_error& e) {
        throw io_error(st.source + ": the tensors' shapes do not make an MLP VAE (" + e.what() + ")");
    }
    return c;
}

/// Whether a state_dict holds the conv VAE (a conv1.weight) rather than the MLP.
inline bool holds_conv_vae(const SafeTensors& st) {
    return st.contains(state_dict_name(st, "conv1.weight"));
}

/// The conv VAE (vae/conv_vae.hpp) a state_dict's tensor shapes describe: conv1, conv2, … give the channels, fc1
/// the hidden width, fc21 the latent size, fc3 the conditions; the image is square, its side the code's side
/// times 2 per convolution.
inline ConvVaeConfig infer_conv_vae_config(const SafeTensors& st) {
    const auto shape = [&](const std::string& bare, std::size_t dims) {
        const std::string name = state_dict_name(st, bare);
        if (!st.contains(name))
            throw io_error(st.source + ": no tensor " + name + ", so this is not a state_dict of the conv VAE "
                           "(conv1, conv2, fc1, fc21, fc22, fc3, fc4, deconv1, deconv2); save it with "
                           "vaelet::save_model");
        const auto& s = st.at(name).shape;
        if (s.size() != dims)
            throw io_error(st.source + ": tensor " + name + " has shape " + shape_text(s) + ", not " +
                           std::to_string(dims) + "-D");
        for (const std::int64_t d : s)
            if (d < 1) throw io_error(st.source + ": tensor " + name + " has shape " + shape_text(s));
        return s;
    };
    ConvVaeConfig c;
    c.conv_channels.clear();
    for (int k = 1; st.contains(state_dict_name(st, "conv" + std::to_string(k) + ".weight")); ++k) {
        const std::string name = "conv" + std::to_string(k) + ".weight";
        const auto w = shape(name, 4);
        if (w[2] != 4 || w[3] != 4)
            throw io_error(st.source + ": tensor " + state_dict_name(st, name) + " has shape " + shape_text(w) +
                           "; the conv VAE's convolutions have 4x4 kernels");
        if (k == 1) c.channels = Index(w[1]);
        c.conv_channels.push_back(Index(w[0]));
    }
    c.hidden = Index(shape("fc1.weight", 2)[0]);
    c.latent = Index(shape("fc21.weight", 2)[0]);
    c.conditions = Index(shape("fc3.weight", 2)[1]) - c.latent;
    const Index code = Index(shape("fc1.weight", 2)[1]) - c.conditions;  // the flattened last convolution
    const Index cells = code / c.conv_channels.back();
    Index side = 1;
    while (side * side < cells) ++side;
    if (c.conditions < 0 || side * side != cells || cells * c.conv_channels.back() != code)
        throw io_error(st.source + ": fc1 takes " + std::to_string(code + c.conditions) + " inputs, which are no "
                       "square code of " + std::to_string(c.conv_channels.back()) + " channels (with " +
                       std::to_string(c.conditions) + " conditions); the tensors do not make a conv VAE");
    if (c.conv_channels.size() > 16)  // also keeps the shift below defined
        throw io_error(st.source + ": " + std::to_string(c.conv_channels.size()) + " convolutions halve an image "
                       "below one pixel; the tensors do not make a conv VAE");
    c.height = c.width = side << c.conv_channels.size();
    c.likelihood = likelihood_of(st, c.likelihood);
    try {
        c.validate();
    } catch (const config_error& e) {
        throw io_error(st.source + ": the tensors' shapes do not make a conv VAE (" + e.what() + ")");
    }
    return c;
}

}  // namespace detail

/// The model in `st`: rebuilt from a checkpoint's MLP configuration, or from its "architecture" metadata, or (a
/// plain state_dict) from `options.architecture` or the tensors' shapes; then its weights loaded, checked by name, shape
/// and dtype first (Strict: a tensor the model does not have is an error too, except a checkpoint's own).
template <class T>
std::unique_ptr<Vae<T>> model_from(const SafeTensors& st, const LoadModelOptions& options = {}) {
    Rng unused(0);
    const auto mlp = [&](const VaeConfig& c) {
        detail::require_weights_fit(st, detail::min_weights(c), "the model configuration");
        return std::make_unique<Vae<T>>(c, unused);
    };
    const auto json_of = [&](const std::string& text, const char* what) {
        if (!detail::json_nesting_within(text, detail::max_json_depth))
            throw io_error(st.source + ": the " + what + " nests JSON too deeply; the file is damaged");
        try {
            return nlohmann::json::parse(text);
        } catch (const nlohmann::json::exception& e) {
            throw io_error(st.source + ": the " + what + " is not valid JSON (" + e.what() + ")");
        }
    };
    std::unique_ptr<Vae<T>> vae;
    const auto config = st.metadata.find("config");
    const auto arch = st.metadata.find("architecture");
    const bool own_file = config != st.metadata.end() || arch != st.metadata.end();
    if (own_file && options.architecture)
        throw config_error(st.source + " describes its own model (a vaelet checkpoint or model file); an "
                           "architecture is only for a state_dict, so leave it out");
    std::optional<nlohmann::json> run_config;
    if (config != st.metadata.end()) run_config = json_of(config->second, "config");
    if (run_config && run_config->contains("model")) {  // a checkpoint of an MLP run: its flags build the model
        vae = mlp(vae_config_from_json(run_config->at("model"), st.source));
    } else if (arch != st.metadata.end()) {
        const ModuleSpec spec = spec_from_json(json_of(arch->second, "architecture"), st.source);
        detail::require_weights_fit(st, detail::min_weights(spec), "the architecture");
        try {
            vae = build_vae<T>(spec, unused);
        } catch (const config_error& e) {
            throw io_error(st.source + ": " + e.what());
        }
    } else if (own_file) {
        throw io_error(st.source + ": the config has no \"model\" and the file no \"architecture\"; the file is "
                       "damaged");
    } else if (detail::holds_conv_vae(st)) {
        if (options.architecture)
            throw config_error(st.source + " holds a conv VAE (it has " + detail::state_dict_name(st, "conv1.weight") +
                               "), whose sizes are read off its tensors; the architecture is for an MLP's, so "
                               "leave it out");
        const ConvVaeConfig c = detail::infer_conv_vae_config(st);
        vae = std::make_unique<Vae<T>>(conv_vae_parts<T>(c, unused));
    } else {
        if (options.architecture) detail::check_mlp_shapes(st, *options.architecture);
        vae = mlp(options.architecture ? *options.architecture : detail::infer_vae_config(st));
    }
    // A state_dict with vaelet's prefixed names is read under the model's own parameter names.
    const bool prefixed = !own_file && detail::vae_prefixed(st);
    load_parameters(st, prefixed ? vae->named_parameters() : file_parameters(*vae), own_file ? Strict::no : Strict::yes,
                    options.cast);
    return vae;
}

/// The model stored at `path`: a vaelet model file or checkpoint, or a PyTorch state_dict (see model_from).
template <class T>
std::unique_ptr<Vae<T>> load_model(const std::string& path, const LoadModelOptions& options = {}) {
    return model_from<T>(load_safetensors(path), options);
}

/// load_model with `architecture` for a state_dict.
template <class T>
std::unique_ptr<Vae<T>> load_model(const std::string& path, const VaeConfig& architecture) {
    LoadModelOptions o;
    o.architecture = architecture;
    return load_model<T>(path, o);
}

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_MODEL_FILE_TEMPLATES(prefix, T) \
    prefix template void save_model<T>(const std::string&, Vae<T>&);                                    \
    prefix template std::unique_ptr<Vae<T>> model_from<T>(const SafeTensors&, const LoadModelOptions&); \
    prefix template std::unique_ptr<Vae<T>> load_model<T>(const std::string&, const LoadModelOptions&);
VAELET_EXTERN_TEMPLATES(VAELET_MODEL_FILE_TEMPLATES)

}  // namespace vaelet
