// tests/vae/whole_gradient.hpp — the gradient check of a whole loss against every parameter of a model, as the
// ELBO, IWAE and VampPrior tests make it.
#pragma once

#include "vaelet/core/gradcheck.hpp"
#include "vaelet/vae/model.hpp"

#include <doctest/doctest.h>

#include <string>
#include <type_traits>

namespace vaelet::testing {

/// Checks the gradient of `loss(tape)` (a 1×1 Var; deterministic: it must re-seed its noise) against central
/// differences in every parameter of `vae`, with a looser tolerance in float; `what` names the case on failure.
template <class T, class Loss>
void check_whole_gradient(Vae<T>& vae, Loss&& loss, const std::string& what) {
    auto params = vae.named_parameters();
    GradcheckOptions<T> tolerance;
    if (std::is_same<T, float>::value) tolerance.tolerance = T(2e-2);
    const auto report = gradcheck_parameters<T>(loss, params, tolerance);
    INFO(what << ": " << report.describe() << " in "
              << (report.input >= 0 ? params[std::size_t(report.input)].name : std::string()));
    CHECK(report.ok);
    CHECK(report.entries_checked == vae.parameter_count());
}

}  // namespace vaelet::testing
