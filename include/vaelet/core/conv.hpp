/// \file
/// vaelet/core/conv.hpp — 2-D convolution and transposed convolution on the tape, computed by GEMMs over the whole
/// batch (im2col / col2im, as Caffe does), each with its gradient rule beside it.
///
///     const vaelet::Conv2dShape s{1, 28, 28, 32, 4, 4, 2, 1};  // 1×28×28 in, 32 out, 4×4 kernel, stride 2, padding 1
///     auto h = vaelet::conv2d(x, W, b, s);                      // x n×784, W 32×(1·4·4), b 1×32 → h n×(32·14·14)
///     auto y = vaelet::conv_transpose2d(h, V, c, {32, 14, 14, 1, 4, 4, 2, 1});  // V 32×(1·4·4), c 1×1 → y n×784
///
/// An image batch is a matrix with one example per row, C×H×W values in NCHW order (PyTorch's flattening), and the
/// op is told the geometry. Weights are PyTorch's, flattened row-major into a matrix: conv2d's out×in×kH×kW is
/// out × (in·kH·kW), conv_transpose2d's in×out×kH×kW is in × (out·kH·kW); a bias is 1×out.
///
/// How: im2col lays every kernel-sized patch of every image out as one column, so the convolution of the whole batch
/// is W·col, one GEMM; col2im adds columns back into images, its adjoint. The transposed convolution is the gradient of
/// the convolution with respect to its input (col2im of Wᵀ·x), so the two ops share these pieces, each one's forward
/// being the other's backward. The GEMMs want the batch channel-major (channels × (batch·positions)), so inputs and
/// outputs are reordered to and from rows on the way; that costs one pass over the data, far less than the GEMM.
/// The batch goes through in chunks whose patch matrix fits a core's L2 cache (~1 MB): im2col writes it and the GEMM
/// packs it from cache, and the backward pass makes the patches again rather than keep a whole batch's (for the conv
/// VAE's middle layers that was 13 MB each, written to memory and read back). The passes go example by example, over
/// Eigen's threads (OpenMP) as the GEMMs do. Every intermediate lives in the node's buffers (`saved`, `work`), sized
/// to a chunk, so a warmed-up step allocates nothing here (Eigen's GEMM still takes its packing workspace from the
/// heap for large products, as for `linear`).
#pragma once

#include "vaelet/core/extern_templates.hpp"
#include "vaelet/core/tape.hpp"

#include <algorithm>
#include <string>
#include <utility>

namespace vaelet {

/// The geometry of conv2d and conv_transpose2d: the input's C×H×W, the output channels, a kH×kW kernel, and one
/// stride and one padding for both axes (PyTorch's Conv2d(in, out, (kH, kW), stride, padding)).
///
///     vaelet::Conv2dShape s{32, 14, 14, 64, 4, 4, 2, 1};  // in_channels, height, width, out_channels, kH, kW,
///                                                         // stride, padding
struct Conv2dShape {
    /// The input's channels C: each input row is in_channels×height×width values, in NCHW order.
    Index in_channels = 1, height = 1, width = 1;
    Index out_channels = 1;  ///< the output's channels
    /// The kernel's height kH.
    Index kernel_height = 1, kernel_width = 1;
    /// The step between kernel positions, on both axes.
    Index stride = 1, padding = 0;
    /// \var height
    /// The input's height H.
    /// \var width
    /// The input's width W.
    /// \var kernel_width
    /// The kernel's width kW.
    /// \var padding
    /// conv2d: zeros added on every side of the input; conv_transpose2d: as much trimmed from every side of its
    /// output (PyTorch's meaning for both).

    /// Values per input row: C·H·W.
    Index in_size() const { return in_channels * height * width; }
    /// conv2d's output height ⌊(H + 2·padding − kH) / stride⌋ + 1, and width likewise.
    Index conv_height() const { return (height + 2 * padding - kernel_height) / stride + 1; }
    /// conv2d's output width; see conv_height.
    Index conv_width() const { return (width + 2 * padding - kernel_width) / stride + 1; }
    /// conv_transpose2d's output height (H − 1)·stride − 2·padding + kH, and width likewise: PyTorch's with
    /// output_padding 0, which vaelet does not need. (A conv2d of stride s > 1 maps several input sizes to one output
    /// size; output_padding would pick a larger one, this is the smallest.)
    Index transposed_height() const { return (height - 1) * stride - 2 * padding + kernel_height; }
    /// conv_transpose2d's output width; see transposed_height.
    Index transposed_width() const { return (width - 1) * stride - 2 * padding + kernel_width; }
};

namespace detail {

/// "in 1x28x28, out 32, kernel 4x4, stride 2, padding 1", for messages.
inline std::string describe(const Conv2dShape& s) {
    return "in " + std::to_string(s.in_channels) + "x" + std::to_string(s.height) + "x" + std::to_string(s.width) +
           ", out " + std::to_string(s.out_channels) + ", kernel " + std::to_string(s.kernel_height) + "x" +
           std::to_string(s.kernel_width) + ", stride " + std::to_string(s.stride) + ", padding " +
           std::to_string(s.padding);
}

/// What is wrong with `s` as the geometry of a convolution (transposed or not), or "" when nothing is.
inline std::string conv_shape_problem(const Conv2dShape& s, bool transposed) {
    if (s.in_channels < 1 || s.height < 1 || s.width < 1 || s.out_channels < 1 || s.kernel_height < 1 ||
        s.kernel_width < 1 || s.stride < 1 || s.padding < 0)
        return "channels, sizes, kernel and stride must be positive and padding not negative, got " + describe(s);
    if (!transposed && (s.height + 2 * s.padding < s.kernel_height || s.width + 2 * s.padding < s.kernel_width))
        return "the kernel is larger than the padded input (" + describe(s) + ")";
    if (transposed && (s.transposed_height() < 1 || s.transposed_width() < 1))
        return "the output would be empty: (H - 1)*stride - 2*padding + kernel < 1 (" + describe(s) + ")";
    return "";
}

/// How a kernel slides over an image: the image (channels × height × width, one per row of a batch), the kernel,
/// and the grid of kernel positions. For conv2d the image is the input and the grid its output; for
/// conv_transpose2d the image is the output and the grid its input.
struct PatchGrid {
    Index channels, height, width;
    Index kernel_height, kernel_width, stride, padding;
    Index grid_height, grid_width;

    Index positions() const { return grid_height * grid_width; }
    Index patch_size() const { return channels * kernel_height * kernel_width; }
    Index image_size() const { return channels * height * width; }
};

inline PatchGrid conv_grid(const Conv2dShape& s) {
    return {s.in_channels, s.height,   s.width,         s.kernel_height, s.kernel_width,
            s.stride,      s.padding, s.conv_height(), s.conv_width()};
}

inline PatchGrid transposed_grid(const Conv2dShape& s) {
    return {s.out_channels, s.transposed_height(), s.transposed_width(), s.kernel_height, s.kernel_width,
            s.stride,       s.padding,             s.height,              s.width};
}

/// The grid columns [first, last) at which kernel column `kj` falls inside the image (the rest read padding).
inline std::pair<Index, Index> inside_columns(const PatchGrid& g, Index kj) {
    const Index before = g.padding - kj;  // grid column q reads image column q·stride − before
    const Index first = before > 0 ? (before + g.stride - 1) / g.stride : 0;
    const Index reach = g.width - 1 + before;
    const Index last = reach < 0 ? 0 : std::min(g.grid_width, reach / g.stride + 1);
    return {first, std::max(first, last)};
}

/// Calls f(n) for every example n < batch, spread over Eigen's threads when there are several (OpenMP): the passes
/// around the GEMMs would otherwise run on one thread while the GEMMs run on all. Each call must touch only its own
/// example's entries, and f must not throw.
template <class F>
void for_each_example(Index batch, F&& f) {
#if defined(_OPENMP)
    const int threads = Eigen::nbThreads();
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && batch > 1)
#endif
    for (Index n = 0; n < batch; ++n) f(n);
}

/// Examples [first, first + count) of a batch: the convolutions go through a batch one chunk at a time.
struct Chunk {
    Index first, count;
};

/// Examples per chunk: a chunk's patch matrix (patch_size × size·positions) holds at most ~256 K values (1 MB of
/// float), so im2col writes it and the GEMM reads it while it sits in a core's L2 cache, and no op keeps the patches
/// of a whole large batch (12.8 MB for the conv VAE's conv2 at batch 128). A batch whose patches are at most twice
/// that goes in one chunk, and its backward pass reuses the forward's patches.
inline Index chunk_size(const PatchGrid& g, Index batch) {
    constexpr Index target = Index(1) << 18;
    const Index per_example = std::max<Index>(1, g.patch_size() * g.positions());
    if (per_example * batch <= 2 * target) return std::max<Index>(batch, 1);
    return std::clamp<Index>(target / per_example, 1, batch);
}

/// Calls f(chunk) for consecutive chunks of chunk_size(g, batch) examples (the last may hold fewer).
template <class F>
void for_each_chunk(const PatchGrid& g, Index batch, F&& f) {
    const Index size = chunk_size(g, batch);
    for (Index first = 0; first < batch; first += size) f(Chunk{first, std::min(size, batch - first)});
}

/// Calls visit(r, col_at, image_at, first, last) for each kernel offset r and grid row of the k-th example of a
/// chunk: the run of col row r from column col_at (grid_width entries) takes grid columns [first, last) from the
/// image entries image_at, image_at + stride, … of that example, and padding (zeros) elsewhere; image_at means
/// nothing when first == last. Row r of col is the kernel offset (c, ki, kj) in PyTorch's weight order
/// c·kH·kW + ki·kW + kj; column k·positions + oh·grid_width + ow is grid position (oh, ow) of the chunk's example k.
template <class F>
void for_each_patch_run(const PatchGrid& g, Index k, F&& visit) {
    for (Index c = 0; c < g.channels; ++c)
        for (Index ki = 0; ki < g.kernel_height; ++ki)
            for (Index kj = 0; kj < g.kernel_width; ++kj) {
                const Index r = (c * g.kernel_height + ki) * g.kernel_width + kj;
                const auto [first, last] = inside_columns(g, kj);
                for (Index oh = 0; oh < g.grid_height; ++oh) {
                    const Index ih = oh * g.stride - g.padding + ki;
                    const Index col_at = k * g.positions() + oh * g.grid_width;
                    if (ih < 0 || ih >= g.height) {
                        visit(r, col_at, Index(0), Index(0), Index(0));  // a padding row
                        continue;
                    }
                    const Index image_at = (c * g.height + ih) * g.width + first * g.stride - g.padding + kj;
                    visit(r, col_at, image_at, first, last);
                }
            }
}

/// The first chunk.count·positions columns of col = the patches of the chunk's images of `images`
/// (batch × C·H·W), one per column. `col` must already be patch_size × (at least that many columns).
template <class T>
void im2col(const Matrix<T>& images, Chunk chunk, const PatchGrid& g, Matrix<T>& col) {
    const Index stride = g.stride, grid_width = g.grid_width;
    for_each_example(chunk.count, [&](Index k) {
        const T* image = images.data() + (chunk.first + k) * images.cols();
        for_each_patch_run(g, k, [&](Index r, Index col_at, Index image_at, Index first, Index last) {
            T* out = col.data() + r * col.cols() + col_at;
            // Plain loops: runs are a few entries long, too short for std::fill's call to memset to pay.
            for (Index q = 0; q < first; ++q) out[q] = T(0);
            for (Index q = first; q < last; ++q) out[q] = image[image_at + (q - first) * stride];
            for (Index q = last; q < grid_width; ++q) out[q] = T(0);
        });
    });
}

/// The chunk's images of `images` (batch × C·H·W) += the first chunk.count·positions columns of `col` added back
/// where im2col took them from: the adjoint of im2col.
template <class T>
void col2im_add(const Matrix<T>& col, Chunk chunk, const PatchGrid& g, Matrix<T>& images) {
    const Index stride = g.stride;
    for_each_example(chunk.count, [&](Index k) {
        T* image = images.data() + (chunk.first + k) * images.cols();
        for_each_patch_run(g, k, [&](Index r, Index col_at, Index image_at, Index first, Index last) {
            const T* in = col.data() + r * col.cols() + col_at;
            for (Index q = first; q < last; ++q) image[image_at + (q - first) * stride] += in[q];
        });
    });
}

/// Row n of `rows` (batch × channels·P) viewed as its channels × P matrix.
template <class T>
Eigen::Map<const Matrix<T>> example(const Matrix<T>& rows, Index n, Index channels) {
    return Eigen::Map<const Matrix<T>>(rows.data() + n * rows.cols(), channels, rows.cols() / channels);
}
template <class T>
Eigen::Map<Matrix<T>> example(Matrix<T>& rows, Index n, Index channels) {
    return Eigen::Map<Matrix<T>>(rows.data() + n * rows.cols(), channels, rows.cols() / channels);
}

/// The first chunk.count·P columns of big = the chunk's examples of `rows` (batch × channels·P) channel-major:
/// the chunk's example k in columns [k·P, (k+1)·P). `big` must already have `channels` rows and enough columns.
template <class T>
void to_channel_major(const Matrix<T>& rows, Chunk chunk, Index channels, Matrix<T>& big) {
    const Index P = rows.cols() / channels;
    for_each_example(chunk.count,
                     [&](Index k) { big.middleCols(k * P, P) = example(rows, chunk.first + k, channels); });
}

/// The chunk's examples of `rows` (batch × channels·P, already that size) = the first chunk.count·P columns of
/// `big` (channels × …), to_channel_major undone.
template <class T>
void to_rows(const Matrix<T>& big, Chunk chunk, Matrix<T>& rows) {
    const Index P = rows.cols() / big.rows();
    for_each_example(chunk.count,
                     [&](Index k) { example(rows, chunk.first + k, big.rows()) = big.middleCols(k * P, P); });
}

/// The sum over the batch and the positions of each channel of `rows` (batch × channels·P): the gradient of a bias
/// that was added to every position of its channel. 1 × channels, as an expression (nothing allocated).
template <class T>
auto channel_sums(const Matrix<T>& rows, Index channels) {
    const Index P = rows.cols() / channels;
    return RowVector<T>::NullaryExpr(channels, [&rows, P](Index c) { return rows.middleCols(c * P, P).sum(); });
}

/// Keeps the geometry on the node for the gradient rule (rules capture nothing).
template <class T>
void store_shape(Node<T>& n, const Conv2dShape& s) {
    n.sizes = {s.in_channels, s.height, s.width, s.out_channels, s.kernel_height, s.kernel_width, s.stride, s.padding};
}
template <class T>
Conv2dShape stored_shape(const Node<T>& n) {
    const auto& z = n.sizes;
    return {z[0], z[1], z[2], z[3], z[4], z[5], z[6], z[7]};
}

/// Throws shape_error naming `op` unless `s` is a valid geometry and x, W and b fit it: x has in_size() columns,
/// W is weight_rows × weight_cols, b is 1 × out_channels.
template <class T>
void check_conv_operands(Op op, const Conv2dShape& s, bool transposed, const Matrix<T>& x, const Matrix<T>& W,
                         const Matrix<T>& b) {
    const char* name = op_name(op);  // a std::string only on error: the checks must not allocate
    const std::string problem = conv_shape_problem(s, transposed);
    if (!problem.empty()) throw shape_error(name + (": " + problem));
    const Index kernel = s.kernel_height * s.kernel_width;
    const Index weight_rows = transposed ? s.in_channels : s.out_channels;
    const Index weight_cols = (transposed ? s.out_channels : s.in_channels) * kernel;
    if (x.cols() != s.in_size())
        throw shape_error(std::string(name) + ": x is " + shape_string(x) + " but each row must hold " +
                          std::to_string(s.in_size()) + " values (" + describe(s) + ")");
    if (W.rows() != weight_rows || W.cols() != weight_cols)
        throw shape_error(std::string(name) + ": W is " + shape_string(W) + " but must be " +
                          shape_string(weight_rows, weight_cols) +
                          (transposed ? " (in × out·kH·kW, " : " (out × in·kH·kW, ") + describe(s) + ")");
    if (b.rows() != 1 || b.cols() != s.out_channels)
        throw shape_error(std::string(name) + ": b is " + shape_string(b) + " but must be " +
                          shape_string(1, s.out_channels) + " (one bias per output channel)");
}

}  // namespace detail

/// The 2-D convolution (PyTorch's cross-correlation) of each row of x (in_channels×H×W, NCHW) with W
/// (out × in·kH·kW, PyTorch's out×in×kH×kW) plus b (1 × out): n × out·conv_height·conv_width.
template <class T>
Var<T> conv2d(const Var<T>& x, const Var<T>& W, const Var<T>& b, const Conv2dShape& shape) {
    Tape<T>& t = x.tape(Op::conv2d);
    t.check_operands(Op::conv2d, {x, W, b});
    detail::check_conv_operands(Op::conv2d, shape, false, x.value(), W.value(), b.value());
    Node<T>& n = t.push(Op::conv2d, {x, W, b}, [](Tape<T>& t, Node<T>& n) {
        const Conv2dShape s = detail::stored_shape(n);
        const detail::PatchGrid g = detail::conv_grid(s);
        const Matrix<T>&x = t.value(n.parents[0]), &W = t.value(n.parents[1]);
        const bool input_grad = t.node(n.parents[0]).requires_grad;  // not for data (a first layer): saves a GEMM
        t.accumulate(n.parents[2], detail::channel_sums(n.grad, s.out_channels));
        Matrix<T>& dx = n.saved;  // the batch's input gradient, chunk by chunk
        if (input_grad) dx.setZero(x.rows(), s.in_size());
        const Index size = detail::chunk_size(g, x.rows()), width = size * g.positions();
        const bool one_chunk = size >= x.rows();  // then col still holds the forward's patches
        Matrix<T>&col = n.work[0], &dy = n.work[1], &dcol = n.work[2];
        dy.resize(s.out_channels, width);  // resizes are no-ops after the first step
        if (input_grad) dcol.resize(g.patch_size(), width);
        detail::for_each_chunk(g, x.rows(), [&](detail::Chunk c) {
            const Index cols = c.count * g.positions();
            if (!one_chunk) detail::im2col(x, c, g, col);  // made again: the forward keeps one chunk's patches
            detail::to_channel_major(n.grad, c, s.out_channels, dy);
            t.accumulate(n.parents[1], dy.leftCols(cols) * col.leftCols(cols).transpose());  // ∂W = ∂y · colᵀ
            if (!input_grad) return;
            dcol.leftCols(cols).noalias() = W.transpose() * dy.leftCols(cols);
            detail::col2im_add(dcol, c, g, dx);
        });
        if (input_grad) t.accumulate(n.parents[0], dx);
    });
    detail::store_shape(n, shape);
    const detail::PatchGrid g = detail::conv_grid(shape);
    n.value.resize(x.rows(), shape.out_channels * g.positions());
    const Index width = detail::chunk_size(g, x.rows()) * g.positions();
    Matrix<T>&col = n.work[0], &y = n.work[1];
    col.resize(g.patch_size(), width);
    y.resize(shape.out_channels, width);
    detail::for_each_chunk(g, x.rows(), [&](detail::Chunk c) {
        const Index cols = c.count * g.positions();
        detail::im2col(x.value(), c, g, col);
        y.leftCols(cols).noalias() = W.value() * col.leftCols(cols);
        detail::to_rows(y, c, n.value);
    });
    const auto bias = b.value().row(0).transpose();
    detail::for_each_example(x.rows(),
                             [&](Index i) { detail::example(n.value, i, shape.out_channels).colwise() += bias; });
    return t.last();
}

/// The transposed convolution (PyTorch's ConvTranspose2d with output_padding 0, the gradient of conv2d with respect
/// to its input) of each row of x (in_channels×H×W, NCHW) with W (in × out·kH·kW, PyTorch's in×out×kH×kW) plus
/// b (1 × out): n × out·transposed_height·transposed_width.
template <class T>
Var<T> conv_transpose2d(const Var<T>& x, const Var<T>& W, const Var<T>& b, const Conv2dShape& shape) {
    Tape<T>& t = x.tape(Op::conv_transpose2d);
    t.check_operands(Op::conv_transpose2d, {x, W, b});
    detail::check_conv_operands(Op::conv_transpose2d, shape, true, x.value(), W.value(), b.value());
    Node<T>& n = t.push(Op::conv_transpose2d, {x, W, b}, [](Tape<T>& t, Node<T>& n) {
        const Conv2dShape s = detail::stored_shape(n);
        const detail::PatchGrid g = detail::transposed_grid(s);  // the output is the image, x's pixels the grid
        const Matrix<T>&x = t.value(n.parents[0]), &W = t.value(n.parents[1]);
        const bool input_grad = t.node(n.parents[0]).requires_grad;
        t.accumulate(n.parents[2], detail::channel_sums(n.grad, s.out_channels));
        Matrix<T>& dx = n.saved;  // the batch's input gradient, chunk by chunk
        if (input_grad) dx.resize(x.rows(), s.in_size());
        const Index size = detail::chunk_size(g, x.rows()), width = size * g.positions();
        const bool one_chunk = size >= x.rows();  // then xc still holds the forward's x
        Matrix<T>&dcol = n.work[0], &xc = n.work[1], &dxc = n.work[2];
        dcol.resize(g.patch_size(), width);  // resizes are no-ops after the first step
        if (input_grad) dxc.resize(s.in_channels, width);
        detail::for_each_chunk(g, x.rows(), [&](detail::Chunk c) {
            const Index cols = c.count * g.positions();
            detail::im2col(n.grad, c, g, dcol);  // patches of the output's gradient
            if (!one_chunk) detail::to_channel_major(x, c, s.in_channels, xc);
            t.accumulate(n.parents[1], xc.leftCols(cols) * dcol.leftCols(cols).transpose());  // ∂W = x · dcolᵀ
            if (!input_grad) return;
            dxc.leftCols(cols).noalias() = W * dcol.leftCols(cols);
            detail::to_rows(dxc, c, dx);
        });
        if (input_grad) t.accumulate(n.parents[0], dx);
    });
    detail::store_shape(n, shape);
    const detail::PatchGrid g = detail::transposed_grid(shape);
    n.value.resize(x.rows(), g.image_size());
    const auto bias = b.value().row(0).transpose();  // each output starts at its channel's bias; col2im adds the rest
    detail::for_each_example(x.rows(),
                             [&](Index i) { detail::example(n.value, i, shape.out_channels).colwise() = bias; });
    const Index width = detail::chunk_size(g, x.rows()) * g.positions();
    Matrix<T>&col = n.work[0], &xc = n.work[1];
    xc.resize(shape.in_channels, width);
    col.resize(g.patch_size(), width);
    detail::for_each_chunk(g, x.rows(), [&](detail::Chunk c) {
        const Index cols = c.count * g.positions();
        detail::to_channel_major(x.value(), c, shape.in_channels, xc);
        col.leftCols(cols).noalias() = W.value().transpose() * xc.leftCols(cols);
        detail::col2im_add(col, c, g, n.value);
    });
    return t.last();
}

/// The compiled mode's list (core/extern_templates.hpp).
#define VAELET_CONV_TEMPLATES(prefix, T) \
    prefix template Var<T> conv2d<T>(const Var<T>&, const Var<T>&, const Var<T>&, const Conv2dShape&);           \
    prefix template Var<T> conv_transpose2d<T>(const Var<T>&, const Var<T>&, const Var<T>&, const Conv2dShape&);
VAELET_EXTERN_TEMPLATES(VAELET_CONV_TEMPLATES)

}  // namespace vaelet
