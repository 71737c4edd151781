/// \file
/// vaelet/deploy/onnx.hpp — a trained model as ONNX graphs, for ONNX Runtime and every other ONNX runtime: the encoder
/// (x → μ, log σ², code), the decoder (z → its output and the likelihood's mean) and the reconstruction path with
/// its noise ε as an input, so that no graph holds a random node and each is deterministic. Opset 13, one dynamic
/// batch dimension ("batch"), the model's dtype (float or double). Needs the vaelet::onnx CMake target
/// (find_package(vaelet COMPONENTS onnx), or the build option VAELET_WITH_ONNX), which brings Debian's libonnx
/// (ONNX's own protobuf classes and its checker); vaelet::vaelet alone has no ONNX or protobuf in it.
///
///     vaelet::export_onnx(vae, "deploy/");          // deploy/encoder.onnx, decoder.onnx, reconstruction.onnx
///
/// How: a graph is the model's forward pass traced on a tape (trace_onnx), so any composed model exports (MLP,
/// conv, a posterior flow, your own modules and functions), and the graph computes what vaelet computes, op for
/// op: each tape op has one ONNX form (Linear's x·Wᵀ + b is Gemm, a convolution is Conv between reshapes of the
/// rows, a column slice is Slice, …). The trace runs twice, at two batch sizes and on different data: a constant
/// that differs between the runs (noise drawn inside the graph, a value computed off the tape) or a shape that
/// follows the batch would make a graph wrong at other batch sizes, so each is an error naming the op. Every graph
/// passes ONNX's checker and strict shape inference before it is written. docs/deploy.md has the details.
#pragma once

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/vae/model.hpp"
#include "vaelet/version.hpp"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace vaelet {

/// The ONNX opset of the exported graphs (ONNX 1.8, 2020; every ONNX Runtime since 1.6 runs it).
inline constexpr int onnx_opset = 13;

/// A graph input: its name and its columns; its rows are the dynamic batch.
struct OnnxInput {
    std::string name;  ///< "x", "z", "eps", "c", …
    Index cols = 0;    ///< features per row
};

/// Named graph outputs, as a traced function returns them.
template <class T>
using OnnxOutputs = std::vector<std::pair<std::string, Var<T>>>;

/// A function to trace: it gets the graph's inputs as constants on `tape` (in the order of its OnnxInput list) and
/// records its outputs with vaelet's ops and modules.
template <class T>
using OnnxFunction = std::function<OnnxOutputs<T>(Tape<T>& tape, const std::vector<Var<T>>& inputs)>;

namespace detail {

template <class T>
constexpr int onnx_type() {
    return std::is_same_v<T, double> ? ::onnx::TensorProto::DOUBLE : ::onnx::TensorProto::FLOAT;
}

/// The tape of one trace: the function run on inputs of `batch` rows.
template <class T>
struct OnnxTrace {
    Tape<T> tape;
    Index batch = 0;                                 // the rows of every input
    std::vector<int> inputs;                         // node index of each graph input
    std::vector<std::pair<std::string, int>> outputs;  // name, node index
};

template <class T>
void run_trace(OnnxTrace<T>& trace, const std::vector<OnnxInput>& inputs, const OnnxFunction<T>& f, Index batch,
               std::uint64_t seed) {
    trace.tape.set_grad_enabled(false);
    trace.batch = batch;
    Rng rng(seed);
    std::vector<Var<T>> vars;
    for (const OnnxInput& in : inputs) {
        Matrix<T> data(batch, in.cols);
        rng.fill_uniform(data, 0, 1);  // values in [0, 1): valid images, one-hots aside; only the shapes matter
        vars.push_back(trace.tape.constant(data));
        trace.inputs.push_back(vars.back().index());
    }
    for (const auto& [name, var] : f(trace.tape, vars)) {
        if (&var.tape() != &trace.tape)
            throw error("ONNX export: output \"" + name + "\" was recorded on another tape than the one traced");
        trace.outputs.emplace_back(name, var.index());
    }
}

/// Node i as an error names it: "node 12 (linear)".
template <class T>
std::string onnx_node_name(const Tape<T>& tape, int i) {
    return "node " + std::to_string(i) + " (" + tape.node(i).name() + ")";
}

/// Throws vaelet::error unless traces a and b (two batch sizes) recorded the same graph: the same ops on the same
/// operands with the same settings, the same parameters, and constants (other than the inputs) that are equal.
template <class T>
void require_same_graph(const OnnxTrace<T>& a, const OnnxTrace<T>& b, const std::string& graph) {
    const std::string where = "ONNX export of graph \"" + graph + "\": ";
    const std::string batches = "a batch of " + std::to_string(a.batch) + " and a batch of " + std::to_string(b.batch);
    if (a.tape.size() != b.tape.size())
        throw error(where + "the function recorded " + std::to_string(a.tape.size()) + " and " +
                    std::to_string(b.tape.size()) + " ops for " + batches + "; a graph must not depend on the batch size");
    for (int i = 0; i < a.tape.size(); ++i) {
        const Node<T>& x = a.tape.node(i);
        const Node<T>& y = b.tape.node(i);
        const std::string node = onnx_node_name(a.tape, i);
        if (x.op != y.op || x.parents != y.parents || x.scalar != y.scalar || x.start != y.start ||
            x.sizes != y.sizes || x.custom_name != y.custom_name)
            throw error(where + node + " differs between " + batches + "; a graph must not depend on the batch size");
        if (x.op == Op::variable && x.external_value != y.external_value)
            throw error(where + node + " reads different parameters in two traces");
        const bool input = std::find(a.inputs.begin(), a.inputs.end(), i) != a.inputs.end();
        if (x.op == Op::constant && !input &&
            (x.value.rows() != y.value.rows() || x.value.cols() != y.value.cols() || x.value != y.value))
            throw error(where + node + " is a constant that changes with the input (" + shape_string(x.value) +
                        " then " + shape_string(y.value) + "): noise drawn inside the function, or a value computed "
                        "off the tape. A graph holds no random node: make the noise an input (as ε is for the "
                        "reconstruction) and compute everything from the inputs with vaelet's ops");
        if (x.op == Op::reshape && x.value.cols() != y.value.cols())
            throw error(where + node + " reshapes to " + std::to_string(x.value.cols()) + " and " +
                        std::to_string(y.value.cols()) + " columns for " + batches + "; a graph's column counts must "
                        "not depend on the batch size");
    }
}

/// Turns one trace into a GraphProto: a graph input per input node, an initializer per parameter or constant, ONNX
/// nodes for the ops that the outputs depend on.
template <class T>
class OnnxEmitter {
public:
    OnnxEmitter(const OnnxTrace<T>& trace, const OnnxTrace<T>& other, const std::vector<OnnxInput>& inputs,
                const ParameterList<T>& parameters, ::onnx::GraphProto& graph)
        : tape_(trace.tape), other_(other.tape), batch_(trace.batch), other_batch_(other.batch), graph_(graph),
          names_(std::size_t(tape_.size())) {
        for (const auto& p : parameters) parameter_names_[&p.param->value] = p.name;
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            const int i = trace.inputs[k];
            names_[std::size_t(i)] = inputs[k].name;
            is_input_.insert(i);
            declare(*graph_.add_input(), inputs[k].name, i);
        }
        leaves_.assign(names_.size(), false);
        for (int i = 0; i < tape_.size(); ++i) {
            bool leaf = !is_input_.count(i);
            for (int p : tape_.node(i).parents) leaf = leaf && (p < 0 || leaves_[std::size_t(p)]);
            leaves_[std::size_t(i)] = leaf;
        }
        std::vector<bool> needed(names_.size(), false);
        for (const auto& [name, i] : trace.outputs) needed[std::size_t(i)] = true;
        for (int i = tape_.size() - 1; i >= 0; --i)
            if (needed[std::size_t(i)] && !is_leaf(i))
                for (int p : tape_.node(i).parents)
                    if (p >= 0) needed[std::size_t(p)] = true;
        // An output that an op computes is that op's result; a second name for it, or an input, is an Identity.
        std::vector<std::pair<std::string, int>> aliases;
        for (const auto& [name, i] : trace.outputs) {
            if (names_[std::size_t(i)].empty() && !is_leaf(i))
                names_[std::size_t(i)] = name;
            else
                aliases.emplace_back(name, i);
        }
        for (int i = 0; i < tape_.size(); ++i)
            if (needed[std::size_t(i)] && !is_leaf(i) && !is_input_.count(i)) emit(i);
        for (const auto& [name, i] : aliases) node("Identity", {tensor(i)}, name);
        for (const auto& [name, i] : trace.outputs) declare(*graph_.add_output(), name, i);
    }

private:
    /// A parameter, a constant other than an input, or an op on those alone (folded: IAF's masked weights): an
    /// initializer holding the value vaelet computed.
    bool is_leaf(int i) const { return leaves_[std::size_t(i)]; }

    /// The tensor name of node p; a leaf becomes an initializer on first use.
    std::string tensor(int p) {
        if (!is_leaf(p) || !names_[std::size_t(p)].empty()) return names_[std::size_t(p)];
        return names_[std::size_t(p)] = leaf(p, {tape_.value(p).rows(), tape_.value(p).cols()});
    }
    /// The tensor name of operand k of node i.
    std::string in(int i, int k) { return tensor(tape_.node(i).parents[std::size_t(k)]); }

    /// A graph input's or output's type: [batch, cols] when the rows follow the batch, else its fixed rows.
    void declare(::onnx::ValueInfoProto& info, const std::string& name, int i) {
        info.set_name(name);
        auto* tensor = info.mutable_type()->mutable_tensor_type();
        tensor->set_elem_type(onnx_type<T>());
        auto* shape = tensor->mutable_shape();
        const Index rows = tape_.value(i).rows(), other_rows = other_.value(i).rows();
        if (rows == other_rows)
            shape->add_dim()->set_dim_value(rows);
        else if (rows == batch_ && other_rows == other_batch_)
            shape->add_dim()->set_dim_param("batch");
        else
            shape->add_dim();  // a multiple of the batch (k samples per example): left unnamed
        shape->add_dim()->set_dim_value(tape_.value(i).cols());
    }

    ::onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
        ::onnx::NodeProto& n = *graph_.add_node();
        n.set_op_type(op);
        n.set_name(output);
        for (const std::string& s : inputs) n.add_input(s);
        n.add_output(output);
        return n;
    }
    static void attribute(::onnx::NodeProto& n, const std::string& name, std::int64_t v) {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::INT);
        a->set_i(v);
    }
    static void attribute(::onnx::NodeProto& n, const std::string& name, const std::vector<std::int64_t>& v) {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::INTS);
        for (std::int64_t x : v) a->add_ints(x);
    }
    static void attribute_float(::onnx::NodeProto& n, const std::string& name, double v) {
        auto* a = n.add_attribute();
        a->set_name(name);
        a->set_type(::onnx::AttributeProto::FLOAT);
        a->set_f(float(v));
    }

    /// An initializer holding `data` (row-major) with the dimensions `dims`; returns its name.
    std::string initializer(const std::string& name, const T* data, const std::vector<std::int64_t>& dims) {
        ::onnx::TensorProto& t = *graph_.add_initializer();
        t.set_name(name);
        t.set_data_type(onnx_type<T>());
        std::int64_t count = 1;
        for (std::int64_t d : dims) {
            t.add_dims(d);
            count *= d;
        }
        t.set_raw_data(std::string(reinterpret_cast<const char*>(data), std::size_t(count) * sizeof(T)));
        return name;
    }
    std::string scalar(const std::string& name, T v) { return initializer(name, &v, {}); }
    std::string int64s(const std::string& name, const std::vector<std::int64_t>& v) {
        ::onnx::TensorProto& t = *graph_.add_initializer();
        t.set_name(name);
        t.set_data_type(::onnx::TensorProto::INT64);
        t.add_dims(std::int64_t(v.size()));
        for (std::int64_t x : v) t.add_int64_data(x);
        return name;
    }

    /// Leaf p as an initializer of the dimensions `dims`: a parameter named by the parameter list, anything else
    /// by its op and node ("constant_12", "mul_37"); with the rank added when the leaf is also used in another shape.
    std::string leaf(int p, const std::vector<std::int64_t>& dims) {
        const Node<T>& n = tape_.node(p);
        std::string name = std::string(n.name()) + "_" + std::to_string(p);
        if (n.op == Op::variable) {
            const auto it = parameter_names_.find(n.external_value);
            name = it != parameter_names_.end() ? it->second : "parameter_" + std::to_string(p);
        }
        if (!used_names_.insert(name).second) name += "_" + std::to_string(dims.size()) + "d";
        return initializer(name, n.val().data(), dims);
    }

    /// Operand k of node i with the dimensions `dims` (a convolution's 4-D weight, its 1-D bias): a parameter or a
    /// constant becomes an initializer of that shape, anything else goes through a Reshape.
    std::string operand_as(int i, int k, const std::vector<std::int64_t>& dims) {
        const int p = tape_.node(i).parents[std::size_t(k)];
        if (is_leaf(p)) return leaf(p, dims);
        std::vector<std::int64_t> shape = dims;
        shape[0] = -1;
        const std::string name = in(i, k) + "_" + std::to_string(dims.size()) + "d_" + std::to_string(i);
        return node("Reshape", {in(i, k), int64s(name + "_shape", shape)}, name).output(0);
    }

    void emit(int i) {
        const Node<T>& n = tape_.node(i);
        if (names_[std::size_t(i)].empty()) names_[std::size_t(i)] = std::string(n.name()) + "_" + std::to_string(i);
        const std::string out = names_[std::size_t(i)];
        const std::string id = std::to_string(i);
        const auto unary = [&](const char* op) { node(op, {in(i, 0)}, out); };
        const auto binary = [&](const char* op) { node(op, {in(i, 0), in(i, 1)}, out); };
        const auto with_scalar = [&](const char* op) { node(op, {in(i, 0), scalar("scalar_" + id, n.scalar)}, out); };
        const auto reduce = [&](const char* op, std::int64_t axis) {
            auto& r = node(op, {in(i, 0)}, out);
            attribute(r, "keepdims", std::int64_t(1));
            if (axis >= 0) attribute(r, "axes", std::vector<std::int64_t>{axis});
        };
        const auto reduce_sum = [&](std::int64_t axis) {  // opset 13's ReduceSum takes its axes as an input
            std::vector<std::string> ins{in(i, 0)};
            if (axis >= 0) ins.push_back(int64s("axes_" + id, {axis}));
            attribute(node("ReduceSum", ins, out), "keepdims", std::int64_t(1));
        };
        switch (n.op) {
            case Op::add: return binary("Add");
            case Op::sub: return binary("Sub");
            case Op::mul: return binary("Mul");
            case Op::div: return binary("Div");
            case Op::add_scalar: return with_scalar("Add");
            case Op::mul_scalar: return with_scalar("Mul");
            case Op::scalar_div: node("Div", {scalar("scalar_" + id, n.scalar), in(i, 0)}, out); return;
            case Op::neg: return unary("Neg");
            case Op::matmul: return binary("MatMul");
            case Op::linear: attribute(node("Gemm", {in(i, 0), in(i, 1), in(i, 2)}, out), "transB", std::int64_t(1)); return;
            case Op::relu: return unary("Relu");
            case Op::leaky_relu: attribute_float(node("LeakyRelu", {in(i, 0)}, out), "alpha", double(n.scalar)); return;
            case Op::tanh: return unary("Tanh");
            case Op::sigmoid: return unary("Sigmoid");
            case Op::softplus: return unary("Softplus");
            case Op::exp: return unary("Exp");
            case Op::log: return unary("Log");
            case Op::sqrt: return unary("Sqrt");
            case Op::square: node("Mul", {in(i, 0), in(i, 0)}, out); return;
            case Op::clamp_min: return with_scalar("Max");
            case Op::sum: return reduce_sum(-1);
            case Op::mean: return reduce("ReduceMean", -1);
            case Op::sum_per_row: return reduce_sum(1);
            case Op::mean_per_row: return reduce("ReduceMean", 1);
            case Op::sum_per_col: return reduce_sum(0);
            case Op::mean_per_col: return reduce("ReduceMean", 0);
            case Op::log_sum_exp_per_row: return reduce("ReduceLogSumExp", 1);
            case Op::log_softmax_per_row: attribute(node("LogSoftmax", {in(i, 0)}, out), "axis", std::int64_t(1)); return;
            case Op::slice_cols:
                node("Slice", {in(i, 0), int64s("starts_" + id, {n.start}), int64s("ends_" + id, {n.start + n.value.cols()}),
                               int64s("axes_" + id, {1})}, out);
                return;
            case Op::concat_cols: attribute(node("Concat", {in(i, 0), in(i, 1)}, out), "axis", std::int64_t(1)); return;
            case Op::repeat_rows: {  // [n, d] → [n, 1, d] → [n, k, d] → [n·k, d]: each row k times in place
                const std::string x = in(i, 0);
                node("Unsqueeze", {x, int64s("unsqueeze_axes_" + id, {1})}, x + "_unsqueezed_" + id);
                node("Tile", {x + "_unsqueezed_" + id, int64s("repeats_" + id, {1, n.start, 1})}, x + "_tiled_" + id);
                node("Reshape", {x + "_tiled_" + id, int64s("shape_" + id, {-1, n.value.cols()})}, out);
                return;
            }
            case Op::reshape: node("Reshape", {in(i, 0), int64s("shape_" + id, {-1, n.value.cols()})}, out); return;
            case Op::conv2d:
            case Op::conv_transpose2d: return convolution(i);
            default:
                throw error("ONNX export: " + onnx_node_name(tape_, i) + " has no ONNX form (a loss or an op of your "
                            "own); a graph can hold the model's forward ops only");
        }
    }

    /// A convolution on rows: Reshape to NCHW, Conv or ConvTranspose, Flatten back to rows.
    void convolution(int i) {
        const Node<T>& n = tape_.node(i);
        const auto& z = n.sizes;  // C, H, W, out, kH, kW, stride, padding (core/conv.hpp)
        const bool transposed = n.op == Op::conv_transpose2d;
        const std::string id = std::to_string(i);
        const std::string image = in(i, 0) + "_nchw_" + id;
        node("Reshape", {in(i, 0), int64s("shape_" + id, {-1, z[0], z[1], z[2]})}, image);
        // conv2d's weight is out × (C·kH·kW), conv_transpose2d's C × (out·kH·kW): ONNX's W in both cases
        const std::vector<std::int64_t> w = transposed ? std::vector<std::int64_t>{z[0], z[3], z[4], z[5]}
                                                       : std::vector<std::int64_t>{z[3], z[0], z[4], z[5]};
        auto& conv = node(transposed ? "ConvTranspose" : "Conv", {image, operand_as(i, 1, w), operand_as(i, 2, {z[3]})},
                          names_[std::size_t(i)] + "_nchw");
        attribute(conv, "kernel_shape", std::vector<std::int64_t>{z[4], z[5]});
        attribute(conv, "strides", std::vector<std::int64_t>{z[6], z[6]});
        attribute(conv, "pads", std::vector<std::int64_t>{z[7], z[7], z[7], z[7]});
        attribute(node("Flatten", {conv.output(0)}, names_[std::size_t(i)]), "axis", std::int64_t(1));
    }

    const Tape<T>& tape_;
    const Tape<T>& other_;
    Index batch_, other_batch_;  // the two traces' batch sizes
    ::onnx::GraphProto& graph_;
    std::vector<std::string> names_;  // the tensor name of each node ("" before it is emitted)
    std::map<const Matrix<T>*, std::string> parameter_names_;
    std::set<int> is_input_;             // the nodes that are graph inputs
    std::vector<bool> leaves_;           // is_leaf of each node
    std::set<std::string> used_names_;   // the initializers' names so far
};

}  // namespace detail

/// The ONNX model of `f`: traced at two batch sizes (the file comment says why), then its ops as ONNX nodes;
/// `parameters` name the weights (initializers carry those names; a parameter not in the list is
/// "parameter_<node>"). Throws vaelet::error naming the op when the function cannot be a graph: an op without an
/// ONNX form (a loss, an op of your own), noise drawn inside it, a shape that follows the batch.
///
///     vaelet::OnnxFunction<float> f = [&](vaelet::Tape<float>& tape, const std::vector<vaelet::Var<float>>& in) {
///         return vaelet::OnnxOutputs<float>{{"h", vaelet::relu(layer(tape, in[0]))}};
///     };
///     onnx::ModelProto model = vaelet::trace_onnx<float>("layer", {{"x", 784}}, f, layer.named_parameters());
template <class T>
::onnx::ModelProto trace_onnx(const std::string& name, const std::vector<OnnxInput>& inputs, const OnnxFunction<T>& f,
                              const ParameterList<T>& parameters) {
    detail::OnnxTrace<T> two, three;
    detail::run_trace(two, inputs, f, 2, 1);
    detail::run_trace(three, inputs, f, 3, 2);
    if (three.outputs.empty()) throw error("ONNX export of graph \"" + name + "\": the function returned no outputs");
    detail::require_same_graph(two, three, name);
    ::onnx::ModelProto model;
    model.set_ir_version(7);  // the IR of opset 13
    model.set_producer_name("vaelet");
    model.set_producer_version(version());
    auto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(onnx_opset);
    ::onnx::GraphProto& graph = *model.mutable_graph();
    graph.set_name(name);
    detail::OnnxEmitter<T>(three, two, inputs, parameters, graph);
    return model;
}

/// Runs ONNX's checker and strict shape inference on `model`; vaelet::error with the checker's reason when either
/// rejects it (a bug in the exporter, or a graph of your own that ONNX cannot run).
inline void check_onnx(const ::onnx::ModelProto& model) {
    try {
        ::onnx::checker::check_model(model);
        ::onnx::ModelProto inferred = model;
        ::onnx::shape_inference::InferShapes(inferred, ::onnx::OpSchemaRegistry::Instance(),
                                             ::onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict=*/1));
    } catch (const std::exception& e) {
        throw error("ONNX export: the graph \"" + model.graph().name() + "\" fails ONNX's checker: " + e.what());
    }
}

/// Checks `model` (check_onnx) and writes it to `path`: all of it or, on failure, nothing (core/atomic_file.hpp).
inline void save_onnx(const ::onnx::ModelProto& model, const std::string& path) {
    check_onnx(model);
    std::string bytes;
    if (!model.SerializeToString(&bytes))
        throw error("ONNX export: the graph \"" + model.graph().name() + "\" could not be serialized for " + path);
    write_file_atomic(path, bytes);
}

namespace detail {
template <class T>
typename Vae<T>::Condition onnx_condition(const Vae<T>& vae, const std::vector<Var<T>>& in, std::size_t at) {
    if (vae.conditions() == 0) return std::nullopt;
    return in[at];
}
template <class T>
std::vector<OnnxInput> with_condition(const Vae<T>& vae, std::vector<OnnxInput> inputs) {
    if (vae.conditions() > 0) inputs.push_back({"c", vae.conditions()});
    return inputs;
}
}  // namespace detail

/// The encoder graph: inputs x (batch × input) and, for a conditional model, c (batch × conditions, one-hot);
/// outputs mu and logvar (q(z|x)'s Gaussian) and code (μ, or its image through the posterior flow: what
/// Vae::encode returns as the code).
template <class T>
::onnx::ModelProto onnx_encoder(Vae<T>& vae) {
    return trace_onnx<T>("encoder", detail::with_condition(vae, {{"x", vae.input()}}),
                         [&](Tape<T>& tape, const std::vector<Var<T>>& in) {
                             const Posterior<T> q = vae.encode(tape, in[0], detail::onnx_condition(vae, in, 1));
                             return OnnxOutputs<T>{{"mu", q.mu}, {"logvar", q.logvar}, {"code", vae.code(q)}};
                         },
                         vae.named_parameters());
}

/// The decoder graph: inputs z (batch × latent) and c for a conditional model; outputs output (the decoder's:
/// Bernoulli logits, Gaussian means, or a table's numeric means then one logit per category) and mean (the
/// likelihood's mean: σ(logits), the means, each block's softmax).
template <class T>
::onnx::ModelProto onnx_decoder(Vae<T>& vae) {
    return trace_onnx<T>("decoder", detail::with_condition(vae, {{"z", vae.latent()}}),
                         [&](Tape<T>& tape, const std::vector<Var<T>>& in) {
                             const Var<T> out = vae.decode(tape, in[0], detail::onnx_condition(vae, in, 1));
                             return OnnxOutputs<T>{{"output", out}, {"mean", vae.likelihood().mean(out)}};
                         },
                         vae.named_parameters());
}

/// The reconstruction graph: inputs x, eps (batch × latent, the noise: N(0, I) draws for a sample, zeros for
/// Vae::reconstruct's deterministic path) and c for a conditional model; output mean, the likelihood's mean at
/// z = flow(μ + σ·ε).
template <class T>
::onnx::ModelProto onnx_reconstruction(Vae<T>& vae) {
    return trace_onnx<T>("reconstruction", detail::with_condition(vae, {{"x", vae.input()}, {"eps", vae.latent()}}),
                         [&](Tape<T>& tape, const std::vector<Var<T>>& in) {
                             const auto c = detail::onnx_condition(vae, in, 2);
                             const Posterior<T> q = vae.encode(tape, in[0], c);
                             Var<T> z = reparameterize(q.mu, q.logvar, in[1]);
                             if (Flow<T>* flow = vae.flow()) z = flow->forward(tape, z).z;
                             return OnnxOutputs<T>{{"mean", vae.likelihood().mean(vae.decode(tape, z, c))}};
                         },
                         vae.named_parameters());
}

/// What a graph takes and gives, "x[batch,784], eps[batch,20] -> mean[batch,784]", as the export tools print it.
inline std::string onnx_signature(const ::onnx::ModelProto& model) {
    const auto list = [](const auto& values) {
        std::string s;
        for (const ::onnx::ValueInfoProto& v : values) {
            s += (s.empty() ? "" : ", ") + v.name() + "[";
            for (const auto& d : v.type().tensor_type().shape().dim())
                s += (d.has_dim_param() ? d.dim_param() : d.has_dim_value() ? std::to_string(d.dim_value()) : "?") + ",";
            s.back() = ']';
        }
        return s;
    };
    return list(model.graph().input()) + " -> " + list(model.graph().output());
}

/// A file that export_onnx wrote: its path and onnx_signature.
struct OnnxFile {
    std::string path;       ///< `DIR/<prefix><graph>.onnx`
    std::string signature;  ///< onnx_signature of its graph
};

/// Writes the three graphs of `vae` into `dir` (created when missing) as `<prefix>encoder.onnx`,
/// `<prefix>decoder.onnx` and `<prefix>reconstruction.onnx`, each checked first (save_onnx).
template <class T>
std::vector<OnnxFile> export_onnx(Vae<T>& vae, const std::string& dir, const std::string& prefix = "") {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec || !std::filesystem::is_directory(dir))
        throw io_error("ONNX export: cannot make the directory " + dir + " (" +
                       (ec ? ec.message() : std::string("a file of that name is in the way")) +
                       "); choose another directory");
    std::vector<OnnxFile> files;
    for (const ::onnx::ModelProto& model : {onnx_encoder(vae), onnx_decoder(vae), onnx_reconstruction(vae)}) {
        files.push_back({(std::filesystem::path(dir) / (prefix + model.graph().name() + ".onnx")).string(),
                         onnx_signature(model)});
        save_onnx(model, files.back().path);
    }
    return files;
}

}  // namespace vaelet
