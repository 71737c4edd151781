// bench/bench_ops.cpp — Google Benchmark timings of the core op set: the fused linear layer (forward+backward,
// and forward only under NoGrad) and the elementwise ops a VAE step uses (forward+backward).
//
//   vaelet_bench --benchmark_filter=linear                     # the GEMM benches only
//   vaelet_bench --benchmark_filter=elementwise --benchmark_repetitions=5 --benchmark_report_aggregates_only
//   vaelet_bench --benchmark_format=json > ops.json            # for scripts
//
// Each iteration records on one Tape that is reset first, as a training step does: from the second iteration on
// the tape's arena already holds every buffer, so the loop times the arithmetic, not the allocator (the only heap
// traffic left is Eigen's GEMM packing workspace, two mallocs per product, ~1 MB per linear forward+backward).
// Counters: items/s = rows (images) per second; bytes/s = the rows×cols operands' bytes, read once, per second;
// GFLOPS = the GEMMs' multiply-adds (2 flops each) per second. Eigen's thread count is shown in the label.
// Rates are per CPU second, which a busy shared machine disturbs far less than wall-clock time (both times are
// printed). The GEMM benches count the CPU time of the whole process (MeasureProcessCPUTime), because Eigen may run
// them on several OpenMP threads (OMP_NUM_THREADS): their rates are then per core-second, never inflated by threads.
#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"
#include "vaelet/core/tape.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

namespace {

using vaelet::Index;
using vaelet::Matrix;
using vaelet::Tape;
using vaelet::Var;

template <class T>
Matrix<T> normal_matrix(Index rows, Index cols, std::uint64_t seed) {
    vaelet::Rng rng(seed);
    Matrix<T> m(rows, cols);
    rng.fill_normal(m);
    return m;
}

/// A value with its gradient buffer, like a parameter: the tape reads it in place and adds to `grad`.
/// The gradient is never zeroed here; it only grows linearly, far from overflow in a benchmark's iterations.
template <class T>
struct Leaf {
    Matrix<T> value;
    Matrix<T> grad;

    Leaf(Index rows, Index cols, std::uint64_t seed)
        : value(normal_matrix<T>(rows, cols, seed)), grad(Matrix<T>::Zero(rows, cols)) {}

    Var<T> on(Tape<T>& tape) { return tape.variable(value, grad); }
};

void set_gemm_counters(benchmark::State& state, Index batch, double flops_per_iteration) {
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
    state.counters["GFLOPS"] = benchmark::Counter(flops_per_iteration * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel("eigen threads " + std::to_string(Eigen::nbThreads()));
}

// ---- the fused linear layer: y = x·Wᵀ + b -------------------------------------------------------------------------

/// Forward + backward of one linear layer, loss = sum(y). With dx = 0 the input is data (a VAE's first layer), so
/// the backward skips ∂x; with dx = 1 the input needs a gradient too (a hidden layer), one more GEMM.
template <class T>
void BM_linear_forward_backward(benchmark::State& state) {
    const Index batch = state.range(0), in = state.range(1), out = state.range(2);
    const bool input_grad = state.range(3) != 0;
    Leaf<T> x(batch, in, 1), W(out, in, 2), b(1, out, 3);
    Tape<T> tape;
    for (auto _ : state) {
        tape.reset();
        const Var<T> input = input_grad ? x.on(tape) : tape.constant(x.value);
        const Var<T> y = vaelet::linear(input, W.on(tape), b.on(tape));
        tape.backward(vaelet::sum(y));
        benchmark::DoNotOptimize(W.grad.data());
        benchmark::ClobberMemory();
    }
    const double gemms = input_grad ? 3.0 : 2.0;  // x·Wᵀ, ∂W = gᵀ·x, and ∂x = g·W when asked
    set_gemm_counters(state, batch, gemms * 2.0 * double(batch) * double(in) * double(out));
}

/// Inference: the same op with recording off, so nothing is kept for a backward pass.
template <class T>
void BM_linear_forward_nograd(benchmark::State& state) {
    const Index batch = state.range(0), in = state.range(1), out = state.range(2);
    const Matrix<T> x = normal_matrix<T>(batch, in, 1);
    Leaf<T> W(out, in, 2), b(1, out, 3);
    Tape<T> tape;
    const vaelet::NoGrad<T> no_grad(tape);
    for (auto _ : state) {
        tape.reset();
        const Var<T> y = vaelet::linear(tape.constant(x), W.on(tape), b.on(tape));
        benchmark::DoNotOptimize(y.value().data());
        benchmark::ClobberMemory();
    }
    set_gemm_counters(state, batch, 2.0 * double(batch) * double(in) * double(out));
}

BENCHMARK_TEMPLATE(BM_linear_forward_backward, float)
    ->ArgNames({"batch", "in", "out", "dx"})
    ->Args({128, 784, 400, 0})
    ->Args({128, 784, 400, 1})
    ->Args({1, 784, 400, 0})
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_linear_forward_backward, double)
    ->ArgNames({"batch", "in", "out", "dx"})
    ->Args({128, 784, 400, 0})
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_linear_forward_nograd, float)
    ->ArgNames({"batch", "in", "out"})
    ->Args({128, 784, 400})
    ->Args({1, 784, 400})
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMicrosecond);

// ---- elementwise ops, forward + backward ---------------------------------------------------------------------------

/// What an elementwise op may take: `a` and `b` are rows×cols variables, `row` a 1×cols variable (broadcast over
/// the batch) and `target` rows×cols data in [0, 1] (pixels), recorded as a constant.
template <class T>
struct Operands {
    Leaf<T> a, b, row;
    Matrix<T> target;

    Operands(Index rows, Index cols)
        : a(rows, cols, 1), b(rows, cols, 2), row(1, cols, 3),
          target((normal_matrix<T>(rows, cols, 4).array().tanh() * T(0.5) + T(0.5)).matrix()) {}
};

/// loss = sum(op(operands)), forward and backward. `operands` is how many rows×cols inputs `op` reads (for bytes/s).
/// The sum and its backward (a fill) are part of every one; `BM_elementwise<float>/sum` times them alone.
template <class T, class F>
void BM_elementwise(benchmark::State& state, F op, int operands) {
    const Index rows = state.range(0), cols = state.range(1);
    Operands<T> in(rows, cols);
    Tape<T> tape;
    for (auto _ : state) {
        tape.reset();
        tape.backward(vaelet::sum(op(tape, in)));
        benchmark::DoNotOptimize(in.a.grad.data());
        benchmark::ClobberMemory();
    }
    const auto iterations = static_cast<std::int64_t>(state.iterations());
    state.SetItemsProcessed(iterations * rows);
    state.SetBytesProcessed(iterations * operands * rows * cols * static_cast<std::int64_t>(sizeof(T)));
}

/// Registers `BM_elementwise<float>/name` at batch 128 (the VAE's shapes: 784 pixels, 400 hidden units).
template <class F>
void register_elementwise(const std::string& name, int operands, Index cols, F op) {
    benchmark::RegisterBenchmark(("BM_elementwise<float>/" + name).c_str(),
                                 [=](benchmark::State& state) { BM_elementwise<float>(state, op, operands); })
        ->ArgNames({"rows", "cols"})
        ->Args({128, cols});
}

[[maybe_unused]] const bool elementwise_registered = [] {
    register_elementwise("sum", 1, 784, [](auto& t, auto& o) { return o.a.on(t); });
    register_elementwise("relu", 1, 400, [](auto& t, auto& o) { return vaelet::relu(o.a.on(t)); });
    register_elementwise("tanh", 1, 400, [](auto& t, auto& o) { return vaelet::tanh(o.a.on(t)); });
    register_elementwise("sigmoid", 1, 784, [](auto& t, auto& o) { return vaelet::sigmoid(o.a.on(t)); });
    register_elementwise("softplus", 1, 784, [](auto& t, auto& o) { return vaelet::softplus(o.a.on(t)); });
    register_elementwise("exp", 1, 784, [](auto& t, auto& o) { return vaelet::exp(o.a.on(t)); });
    register_elementwise("add_row", 1, 784, [](auto& t, auto& o) { return vaelet::add(o.a.on(t), o.row.on(t)); });
    register_elementwise("bce_with_logits", 2, 784,
                         [](auto& t, auto& o) { return vaelet::bce_with_logits(o.a.on(t), t.constant(o.target)); });
    register_elementwise("gaussian_kl", 2, 400,
                         [](auto& t, auto& o) { return vaelet::gaussian_kl(o.a.on(t), o.b.on(t)); });
    return true;
}();

}  // namespace
