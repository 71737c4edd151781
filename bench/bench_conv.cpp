// bench/bench_conv.cpp — Google Benchmark timings of conv2d and conv_transpose2d, forward + backward, at the shapes of
// the standard small conv VAE (issue #14) at batch 128: its two encoder convolutions and two decoder transposed ones.
//
//   OMP_NUM_THREADS=1 vaelet_bench --benchmark_filter=conv
//
// Each iteration records on one Tape that is reset first, as a training step does, so the buffers (the im2col
// matrix and the GEMM operands) are warm and the loop times the arithmetic. The first layer reads data, so its
// backward skips ∂x (as in a VAE); the others compute it. Counters as bench_ops.cpp's GEMM benches: items/s = images
// per second; GFLOPS = the GEMMs' multiply-adds (2 flops each: the forward GEMM, ∂W, and ∂x where asked) per CPU
// second of the whole process, so the im2col/col2im passes and the reorders count as time but not as flops.
#include "vaelet/core/conv.hpp"
#include "vaelet/core/ops.hpp"
#include "vaelet/core/random.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

namespace {

using vaelet::Conv2dShape;
using vaelet::Index;
using vaelet::Matrix;
using vaelet::Tape;
using vaelet::Var;

template <class T>
Matrix<T> uniform_matrix(Index rows, Index cols, std::uint64_t seed) {
    vaelet::Rng rng(seed);
    Matrix<T> m(rows, cols);
    rng.fill_uniform(m, -0.1, 0.1);
    return m;
}

/// A value with its gradient buffer, like a parameter (never zeroed: it only grows, far from overflow here).
template <class T>
struct Leaf {
    Matrix<T> value;
    Matrix<T> grad;

    Leaf(Index rows, Index cols, std::uint64_t seed)
        : value(uniform_matrix<T>(rows, cols, seed)), grad(Matrix<T>::Zero(rows, cols)) {}

    Var<T> on(Tape<T>& tape) { return tape.variable(value, grad); }
};

/// Forward + backward of one convolution, loss = sum(y). Arguments: batch, in_channels, height, width,
/// out_channels, kernel, stride, padding, and dx (1: the input needs a gradient). `transposed` picks the op.
template <class T>
void BM_conv(benchmark::State& state, bool transposed) {
    const Index batch = state.range(0);
    const Conv2dShape s{state.range(1), state.range(2), state.range(3), state.range(4),
                        state.range(5), state.range(5), state.range(6), state.range(7)};
    const bool input_grad = state.range(8) != 0;
    const Index kernel = s.kernel_height * s.kernel_width;
    Leaf<T> x(batch, s.in_size(), 1), b(1, s.out_channels, 3);
    Leaf<T> W(transposed ? s.in_channels : s.out_channels, (transposed ? s.out_channels : s.in_channels) * kernel, 2);
    Tape<T> tape;
    for (auto _ : state) {
        tape.reset();
        const Var<T> input = input_grad ? x.on(tape) : tape.constant(x.value);
        const Var<T> y = transposed ? vaelet::conv_transpose2d(input, W.on(tape), b.on(tape), s)
                                    : vaelet::conv2d(input, W.on(tape), b.on(tape), s);
        tape.backward(vaelet::sum(y));
        benchmark::DoNotOptimize(W.grad.data());
        benchmark::ClobberMemory();
    }
    // One GEMM is (channels of the small side) × (patch size) × (batch · kernel positions) multiply-adds.
    const double positions = transposed ? double(s.height * s.width) : double(s.conv_height() * s.conv_width());
    const double gemm =
        2.0 * double(s.in_channels) * double(s.out_channels) * double(kernel) * double(batch) * positions;
    const double gemms = input_grad ? 3.0 : 2.0;
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * batch);
    state.counters["GFLOPS"] = benchmark::Counter(gemms * gemm * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel("eigen threads " + std::to_string(Eigen::nbThreads()));
}

template <class T>
void BM_conv2d_forward_backward(benchmark::State& state) {
    BM_conv<T>(state, false);
}

template <class T>
void BM_conv_transpose2d_forward_backward(benchmark::State& state) {
    BM_conv<T>(state, true);
}

// The conv VAE's layers: Conv2d(1,32,4,2,1) on 1×28×28 (data: no ∂x), Conv2d(32,64,4,2,1) on 32×14×14;
// ConvTranspose2d(64,32,4,2,1) on 64×7×7, ConvTranspose2d(32,1,4,2,1) on 32×14×14.
BENCHMARK_TEMPLATE(BM_conv2d_forward_backward, float)
    ->ArgNames({"batch", "in", "h", "w", "out", "k", "stride", "pad", "dx"})
    ->Args({128, 1, 28, 28, 32, 4, 2, 1, 0})
    ->Args({128, 32, 14, 14, 64, 4, 2, 1, 1})
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_conv_transpose2d_forward_backward, float)
    ->ArgNames({"batch", "in", "h", "w", "out", "k", "stride", "pad", "dx"})
    ->Args({128, 64, 7, 7, 32, 4, 2, 1, 1})
    ->Args({128, 32, 14, 14, 1, 4, 2, 1, 1})
    ->MeasureProcessCPUTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
