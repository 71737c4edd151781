/// \file
/// vaelet/nn/bypass.hpp — BypassTail: a module applied to all but the last columns of each row, with those last
/// columns appended to its output unchanged. This is how a conditional conv encoder passes its one-hot condition
/// around the convolutions (which read an image of fixed C×H×W) to the Linear layer after them.
///
///     vaelet::BypassTail<float> convs(/*tail=*/10, std::move(conv_stack));   // n×(784 + 10) → n×(3136 + 10)
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/nn/module.hpp"

#include <string>
#include <utility>

namespace vaelet {

/// [x | t] ↦ [inner(x) | t], with t the last `tail` columns. The inner module's parameters keep their own names
/// (no extra prefix), so a conditional model's layers are named as the unconditional model's.
template <class T>
class BypassTail : public Module<T> {
public:
    /// `inner`: a module value or a ModulePtr.
    template <class M>
    BypassTail(Index tail, M&& inner) : tail_(tail), inner_(module_ptr(std::forward<M>(inner))) {
        if (tail_ < 1) throw config_error("BypassTail: tail must be at least 1 column, got " + std::to_string(tail_));
        if (!inner_) throw config_error("BypassTail: the inner module is empty");
    }

    Var<T> forward(Tape<T>& tape, const Var<T>& x) override {
        if (x.cols() <= tail_)
            throw shape_error("BypassTail: each row must hold more than its " + std::to_string(tail_) +
                              " bypassing columns, but the batch is " + shape_string(x.value()));
        const Index head = x.cols() - tail_;
        return concat_cols(inner_->forward(tape, slice_cols(x, 0, head)), slice_cols(x, head, tail_));
    }
    void collect_parameters(ParameterList<T>& list, const std::string& prefix) override {
        inner_->collect_parameters(list, prefix);
    }
    ModuleSpec spec() const override { return {"BypassTail", {{"tail", tail_}}, {}, {}, {{"", inner_->spec()}}}; }

    /// The number of last columns passed around the inner module.
    Index tail() const { return tail_; }
    /// The module applied to the other columns.
    Module<T>& inner() { return *inner_; }

private:
    Index tail_;
    ModulePtr<T> inner_;
};

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_BYPASS_TEMPLATES(prefix, T) \
    prefix template class BypassTail<T>;
VAELET_EXTERN_TEMPLATES(VAELET_BYPASS_TEMPLATES)

}  // namespace vaelet
