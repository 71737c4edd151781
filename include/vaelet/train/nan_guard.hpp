/// \file
/// vaelet/train/nan_guard.hpp — finds where a NaN or infinity first appeared: which step, which op on the tape,
/// which parameter's gradient.
///
///     if (auto where = vaelet::first_non_finite_node(tape)) throw vaelet::numeric_error(where->describe());
///     if (auto name = vaelet::first_non_finite_gradient(params)) ...      // (nn/parameter.hpp)
#pragma once

#include "vaelet/core/tape.hpp"
#include "vaelet/nn/parameter.hpp"

#include <optional>
#include <string>

namespace vaelet {

/// The tape node whose value first held a NaN or an infinity, and the op that computed it.
struct NonFiniteNode {
    int index;         ///< position on the tape (creation order)
    Op op;             ///< the op that computed the value (Op::custom for an op of your own)
    std::string name;  ///< the op's name: op_name(op), or a custom op's own
    /// "first non-finite value produced by op 'log1p' (tape node 3)", for an error message.
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
