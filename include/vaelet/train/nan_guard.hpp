// vaelet/train/nan_guard.hpp — finds where a NaN or infinity first appeared: which step, which op on the tape,
// which parameter's gradient.
//
//   if (auto where = vaelet::first_non_finite_node(tape)) throw vaelet::numeric_error(where->describe());
//   if (auto name = vaelet::first_non_finite_gradient(params)) ...      // (nn/parameter.hpp)
#pragma once

#include "vaelet/core/tape.hpp"
#include "vaelet/nn/parameter.hpp"

#include <optional>
#include <string>

namespace vaelet {

struct NonFiniteNode {
    int index;         // position on the tape (creation order)
    Op op;
    std::string name;  // the op's name: op_name(op), or a custom op's own
    std::string describe() const {
        return "first non-finite value produced by op '" + name + "' (tape node " +
               std::to_string(index) + ")";
    }
};

/// The earliest node (in creation order) whose value holds a NaN or an infinity.
template <class T>
std::optional<NonFiniteNode> first_non_finite_node(const Tape<T>& tape) {
    for (int i = 0; i < tape.size(); ++i)
        if (!tape.value(i).allFinite()) return NonFiniteNode{i, tape.node(i).op, tape.node(i).name()};
    return std::nullopt;
}

}  // namespace vaelet
