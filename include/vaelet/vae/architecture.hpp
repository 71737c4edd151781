/// \file
/// vaelet/vae/architecture.hpp — a VAE's architecture as plain data (a ModuleSpec tree) and the VAE rebuilt from
/// it: what a model file stores beside the weights, so load_model rebuilds any composed model.
///
///     vaelet::ModuleSpec arch = vaelet::architecture(vae);          // type "Vae": encoder, decoder, likelihood, prior
///     std::unique_ptr<vaelet::Vae<float>> copy = vaelet::build_vae<float>(arch, rng);   // fresh weights
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/nn/build.hpp"
#include "vaelet/vae/model.hpp"

#include <memory>
#include <string>

namespace vaelet {

/// The likelihood's kind, σ and width (and a tabular layout) as a spec of type "Likelihood".
template <class T>
ModuleSpec likelihood_spec(const Likelihood<T>& lik) {
    ModuleSpec s{"Likelihood", {{"width", lik.width()}}, {{"sigma", lik.sigma()}}, {{"kind", likelihood_name(lik.kind())}}, {}};
    if (lik.kind() == LikelihoodKind::tabular) {
        const TabularLayout& layout = lik.layout();
        s.sizes["numeric"] = layout.numeric;
        s.sizes["categorical_blocks"] = Index(layout.categorical_sizes.size());
        for (std::size_t b = 0; b < layout.categorical_sizes.size(); ++b)
            s.sizes["categorical_" + std::to_string(b)] = layout.categorical_sizes[b];
    }
    return s;
}

/// The likelihood that `s` (from likelihood_spec()) describes; config_error when the spec is not of type
/// "Likelihood", lacks its kind or σ, or its tabular layout does not add up to its width.
template <class T>
Likelihood<T> build_likelihood(const ModuleSpec& s) {
    if (s.type != "Likelihood") throw config_error("likelihood spec: type is \"" + s.type + "\", not \"Likelihood\"");
    const auto kind = s.texts.find("kind");
    const auto sigma = s.numbers.find("sigma");
    if (kind == s.texts.end() || sigma == s.numbers.end())
        throw config_error("likelihood spec: it needs a \"kind\" and a \"sigma\"");
    const LikelihoodKind k = parse_likelihood(kind->second);
    if (k != LikelihoodKind::tabular) return Likelihood<T>(k, s.size("width"), sigma->second);
    TabularLayout layout;
    layout.numeric = s.size("numeric");
    const Index blocks = s.size("categorical_blocks");
    if (blocks < 0 || blocks > Index(s.sizes.size()))
        throw config_error("likelihood spec: " + std::to_string(blocks) + " categorical blocks is not a count");
    for (Index b = 0; b < blocks; ++b) layout.categorical_sizes.push_back(s.size("categorical_" + std::to_string(b)));
    if (layout.width() != s.size("width"))
        throw config_error("likelihood spec: the tabular layout has " + std::to_string(layout.width()) +
                           " columns but width is " + std::to_string(s.size("width")));
    return Likelihood<T>(layout, sigma->second);
}

/// The architecture of `vae`: type "Vae", sizes "latent" and "conditions", children "encoder", "decoder",
/// "likelihood", "prior" and, for a posterior flow, "flow".
template <class T>
ModuleSpec architecture(Vae<T>& vae) {
    ModuleSpec s{"Vae",
                 {{"latent", vae.latent()}, {"conditions", vae.conditions()}},
                 {},
                 {},
                 {{"encoder", vae.encoder().spec()},
                  {"decoder", vae.decoder().spec()},
                  {"likelihood", likelihood_spec(vae.likelihood())},
                  {"prior", vae.prior().spec()}}};
    if (vae.flow()) s.children.push_back({"flow", vae.flow()->spec()});
    return s;
}

namespace detail {
inline const ModuleSpec& child(const ModuleSpec& s, const std::string& name) {
    for (const auto& [n, c] : s.children)
        if (n == name) return c;
    throw config_error("architecture: the " + s.type + " has no \"" + name + "\"");
}
}  // namespace detail

/// The VAE that `spec` (from architecture()) describes, with fresh weights from `rng`; load the weights after.
/// config_error naming the part that this program cannot build.
template <class T>
std::unique_ptr<Vae<T>> build_vae(const ModuleSpec& spec, Rng& rng) {
    if (spec.type != "Vae") throw config_error("architecture: type is \"" + spec.type + "\", not \"Vae\"");
    register_module<T>("GaussianHead", [](const ModuleSpec& s, Rng& r) -> ModulePtr<T> {
        const auto name = [&](const char* key, const char* fallback) {
            const auto it = s.texts.find(key);
            return it == s.texts.end() ? std::string(fallback) : it->second;
        };
        return std::make_unique<GaussianHead<T>>(s.size("in_features"), s.size("latent"), r, name("mu", "fc21"),
                                                 name("logvar", "fc22"));
    });
    const ModuleSpec& prior = detail::child(spec, "prior");
    if (prior.type != "StandardNormal" && prior.type != "VampPrior" && prior.type != "TwoLayerPrior")
        throw config_error("architecture: the prior \"" + prior.type + "\" is not one this version builds "
                           "(it knows StandardNormal, VampPrior and TwoLayerPrior)");
    VaeParts<T> parts;
    if (prior.type == "VampPrior")
        parts.prior = std::make_unique<VampPrior<T>>(prior.size("pseudo_inputs"), prior.size("input"), rng);
    if (prior.type == "TwoLayerPrior")
        parts.prior = std::make_unique<TwoLayerPrior<T>>(build_module<T>(detail::child(prior, "encoder"), rng),
                                                         build_module<T>(detail::child(prior, "decoder"), rng),
                                                         prior.size("latent"), prior.size("latent2"));
    parts.encoder = build_module<T>(detail::child(spec, "encoder"), rng);
    parts.decoder = build_module<T>(detail::child(spec, "decoder"), rng);
    parts.likelihood = build_likelihood<T>(detail::child(spec, "likelihood"));
    parts.latent = spec.size("latent");
    parts.conditions = spec.size("conditions");
    for (const auto& [name, child] : spec.children) {
        if (name != "flow") continue;
        if (child.type != "InverseAutoregressiveFlow")
            throw config_error("architecture: the posterior flow \"" + child.type + "\" is not one this version "
                               "builds (it knows InverseAutoregressiveFlow)");
        parts.flow = std::make_unique<InverseAutoregressiveFlow<T>>(child.size("latent"), child.size("steps"),
                                                                    child.size("hidden"), rng);
    }
    return std::make_unique<Vae<T>>(std::move(parts));
}

/// The compiled mode's list of this header's templates (core/extern_templates.hpp).
#define VAELET_ARCHITECTURE_TEMPLATES(prefix, T) \
    prefix template ModuleSpec architecture<T>(Vae<T>&);                           \
    prefix template std::unique_ptr<Vae<T>> build_vae<T>(const ModuleSpec&, Rng&);
VAELET_EXTERN_TEMPLATES(VAELET_ARCHITECTURE_TEMPLATES)

}  // namespace vaelet
