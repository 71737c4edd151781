/// \file
/// vaelet/io/safetensors_parameters.hpp — a model's named parameters in a safetensors file (io/safetensors.hpp)
/// and back, by name, with their shapes and dtypes checked.
///
///     vaelet::SafeTensors st;  vaelet::save_parameters(st, model.named_parameters());  st.metadata["epoch"] = "3";
///     vaelet::save_safetensors("model.safetensors", st);
///     vaelet::load_parameters(vaelet::load_safetensors("model.safetensors"), model.named_parameters());
///
/// A parameter is stored under its name with shape [rows, cols], [cols] when it is a vector (a bias, as PyTorch has
/// it), or its tensor_shape when it has one (a conv weight's [out, in, kH, kW]). Needs nlohmann_json, as
/// io/safetensors.hpp does.
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"
#include "vaelet/io/safetensors.hpp"
#include "vaelet/nn/parameter.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace vaelet {

namespace detail {
/// A parameter's shape in a file: its tensor_shape when it has one (a conv weight's 4 dimensions), else [cols] for
/// a vector (a bias), else [rows, cols].
template <class T>
std::vector<std::int64_t> file_shape(const Parameter<T>& p) {
    if (!p.tensor_shape.empty()) return std::vector<std::int64_t>(p.tensor_shape.begin(), p.tensor_shape.end());
    if (p.is_vector) return {p.value.cols()};
    return {p.value.rows(), p.value.cols()};
}
}  // namespace detail

/// Whether load_parameters rejects tensors that the model does not have.
enum class Strict { no, yes };

/// Whether the weights put into a SafeTensors are copied, or borrowed (SafeTensors::borrow_matrix: the model must
/// then live, unchanged, until the SafeTensors is saved — as when a file is written at once).
enum class Storage { copy, borrow };

/// Puts every parameter into `st` under its name: shape [rows, cols], or [cols] for a vector (a bias), or its
/// tensor_shape when it has one (a conv weight's [out, in, kH, kW]).
template <class T>
void save_parameters(SafeTensors& st, const ParameterList<T>& params, Storage storage = Storage::copy) {
    for (const auto& p : params) {
        if (storage == Storage::borrow)
            st.borrow_matrix(p.name, p.param->value, detail::file_shape(*p.param));
        else
            st.put_matrix(p.name, p.param->value, detail::file_shape(*p.param));
    }
}

/// Throws io_error unless load_parameters(st, params, strict, cast) would succeed: every parameter is there with
/// the shape and dtype the model expects (F32 <-> F64 only if `cast` allows); with Strict::yes, no other tensors.
template <class T>
void check_parameters(const SafeTensors& st, const ParameterList<T>& params, Strict strict = Strict::no,
                      FloatCast cast = FloatCast::forbid) {
    for (const auto& p : params) {
        const std::vector<std::int64_t> expected = detail::file_shape(*p.param);
        if (!st.contains(p.name))
            throw io_error(st.source + ": tensor " + p.name + " is missing (the model expects shape " +
                           detail::shape_text(expected) + "); was it saved from a different model?");
        const Tensor& t = st.at(p.name);
        if (t.shape != expected)
            throw io_error(st.source + ": tensor " + p.name + " has shape " + detail::shape_text(t.shape) +
                           " but the model expects " + detail::shape_text(expected) +
                           "; was it saved with different layer sizes (other hidden widths or latent size)?");
        const bool float_pair = (t.dtype == Dtype::F32 || t.dtype == Dtype::F64);
        if (t.dtype != dtype_of<T>() && !(cast == FloatCast::allow && float_pair))
            throw io_error(st.source + ": tensor " + p.name + " is " + dtype_name(t.dtype) + " but the model is " +
                           dtype_name(dtype_of<T>()) +
                           (float_pair ? "; load with FloatCast::allow to convert" : ""));
    }
    if (strict == Strict::yes) {
        std::string extra;
        for (const auto& entry : st.tensors()) {
            const bool known = std::any_of(params.begin(), params.end(),
                                           [&](const auto& p) { return p.name == entry.first; });
            if (!known) extra += (extra.empty() ? "" : ", ") + entry.first;
        }
        if (!extra.empty())
            throw io_error(st.source + ": tensors the model does not have: " + extra +
                           "; was it saved from a different model?");
    }
}

/// Copies the tensors of `st` into the parameters of the same names, bit for bit, after check_parameters: on an
/// error nothing is copied and the model is unchanged.
template <class T>
void load_parameters(const SafeTensors& st, const ParameterList<T>& params, Strict strict = Strict::no,
                     FloatCast cast = FloatCast::forbid) {
    check_parameters(st, params, strict, cast);
    for (const auto& p : params) p.param->value = st.get_matrix<T>(p.name, cast);
}

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_SAFETENSORS_PARAMETERS_TEMPLATES(prefix, T) \
    prefix template void save_parameters<T>(SafeTensors&, const ParameterList<T>&, Storage);                          \
    prefix template void load_parameters<T>(const SafeTensors&, const ParameterList<T>&, Strict, FloatCast);
VAELET_EXTERN_TEMPLATES(VAELET_SAFETENSORS_PARAMETERS_TEMPLATES)

}  // namespace vaelet
