/// \file
/// vaelet/io/safetensors.hpp — read and write safetensors files (the Hugging Face weights format).
///
///     vaelet::SafeTensors st;  st.put_matrix("fc1.weight", w);  st.metadata["epoch"] = "3";
///     vaelet::save_safetensors("model.safetensors", st);                  // atomic: model.safetensors.tmp, rename
///     vaelet::Matrix<float> w2 = vaelet::load_safetensors("model.safetensors").get_matrix<float>("fc1.weight");
///
/// The file format alone; io/safetensors_parameters.hpp puts a model's named parameters into it and back.
///
/// Needs nlohmann_json (CMake: VAELET_HAVE_JSON, found by find_package(nlohmann_json)).
///
/// The format (https://github.com/huggingface/safetensors): 8 bytes of little-endian u64 header size N; N bytes of
/// JSON {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}},
/// padded with spaces to a multiple of 8 as the reference writer does; then the tensors' little-endian bytes,
/// row-major, offsets counted from the end of the header. Tensors are written in the order they were put.
/// Loading checks the whole header against the file size before it allocates anything for the data.
#pragma once

#if !__has_include(<nlohmann/json.hpp>)
#error "vaelet/io/safetensors.hpp needs nlohmann_json (Debian: nlohmann-json3-dev; CMake: find_package(nlohmann_json))"
#endif

#include "vaelet/core/atomic_file.hpp"
#include "vaelet/core/error.hpp"
#include "vaelet/core/matrix.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vaelet/io/safetensors.hpp copies tensor bytes as they are in memory, so it needs a little-endian machine"
#endif

namespace vaelet {

/// The element types of the safetensors format that vaelet reads and writes.
enum class Dtype { BOOL, U8, I8, U16, I16, U32, I32, U64, I64, F16, BF16, F32, F64 };

namespace detail {
struct DtypeInfo {
    Dtype dtype;
    const char* name;
    std::size_t size;
};
inline constexpr DtypeInfo dtype_table[] = {
    {Dtype::BOOL, "BOOL", 1}, {Dtype::U8, "U8", 1},   {Dtype::I8, "I8", 1},     {Dtype::U16, "U16", 2},
    {Dtype::I16, "I16", 2},   {Dtype::U32, "U32", 4}, {Dtype::I32, "I32", 4},   {Dtype::U64, "U64", 8},
    {Dtype::I64, "I64", 8},   {Dtype::F16, "F16", 2}, {Dtype::BF16, "BF16", 2}, {Dtype::F32, "F32", 4},
    {Dtype::F64, "F64", 8}};

inline const DtypeInfo& dtype_info(Dtype dtype) {
    for (const auto& info : dtype_table)
        if (info.dtype == dtype) return info;
    throw error("unknown vaelet::Dtype value " + std::to_string(static_cast<int>(dtype)));
}

// The byte size of a tensor, or nothing if a dimension is negative or the size overflows 64 bits.
inline std::optional<std::uint64_t> byte_size(const std::vector<std::int64_t>& shape, Dtype dtype) {
    std::uint64_t bytes = dtype_info(dtype).size;
    for (const auto d : shape) {
        if (d < 0) return std::nullopt;
        const auto dim = static_cast<std::uint64_t>(d);
        if (dim != 0 && bytes > std::numeric_limits<std::uint64_t>::max() / dim) return std::nullopt;
        bytes *= dim;
    }
    return bytes;
}

inline std::string shape_text(const std::vector<std::int64_t>& shape) {
    std::string s = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}
}  // namespace detail

/// "F32", "I64", ... as written in the header.
inline const char* dtype_name(Dtype dtype) { return detail::dtype_info(dtype).name; }

/// Bytes per element.
inline std::size_t dtype_size(Dtype dtype) { return detail::dtype_info(dtype).size; }

/// The Dtype called `name` in a header, or nothing if vaelet does not know it.
inline std::optional<Dtype> parse_dtype(std::string_view name) {
    for (const auto& info : detail::dtype_table)
        if (name == info.name) return info.dtype;
    return std::nullopt;
}

/// The Dtype that stores a C++ `T` (float → F32, std::int64_t → I64, ...).
template <class T>
constexpr Dtype dtype_of() {
    if constexpr (std::is_same_v<T, float>) return Dtype::F32;
    else if constexpr (std::is_same_v<T, double>) return Dtype::F64;
    else if constexpr (std::is_same_v<T, std::uint8_t>) return Dtype::U8;
    else if constexpr (std::is_same_v<T, std::int8_t>) return Dtype::I8;
    else if constexpr (std::is_same_v<T, std::uint16_t>) return Dtype::U16;
    else if constexpr (std::is_same_v<T, std::int16_t>) return Dtype::I16;
    else if constexpr (std::is_same_v<T, std::uint32_t>) return Dtype::U32;
    else if constexpr (std::is_same_v<T, std::int32_t>) return Dtype::I32;
    else if constexpr (std::is_same_v<T, std::uint64_t>) return Dtype::U64;
    else if constexpr (std::is_same_v<T, std::int64_t>) return Dtype::I64;
    else static_assert(sizeof(T) == 0, "no safetensors dtype for this type");
}

/// Whether reading may convert between F32 and F64. Never done silently: a checkpoint in the other precision is
/// usually a mistake, but can be loaded on purpose.
enum class FloatCast { forbid, allow };

/// One tensor: its element type, its shape ([] is a scalar) and its raw little-endian row-major bytes.
struct Tensor {
    Dtype dtype = Dtype::F32;          ///< the element type
    std::vector<std::int64_t> shape;   ///< dimensions, outermost first; [] is a scalar
    std::vector<std::uint8_t> bytes;   ///< numel() elements of dtype, little-endian, row-major (empty if borrowed)
    /// Instead of `bytes`, the caller's memory (SafeTensors::borrow_matrix), which must outlive this tensor.
    const std::uint8_t* borrowed = nullptr;
    std::size_t borrowed_size = 0;     ///< the borrowed bytes' count

    /// The tensor's bytes, its own or borrowed.
    const std::uint8_t* data() const { return borrowed ? borrowed : bytes.data(); }
    /// How many bytes data() holds.
    std::size_t byte_count() const { return borrowed ? borrowed_size : bytes.size(); }

    /// The number of elements: the product of the shape (1 for a scalar).
    std::int64_t numel() const {
        // A zero anywhere makes it 0, and the product of the other dimensions may not fit (e.g. [2^32, 2^31, 0]).
        if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
        std::int64_t n = 1;
        for (const auto d : shape) n *= d;
        return n;
    }
};

/// The contents of a safetensors file: named tensors in the order of their data, plus string metadata.
class SafeTensors {
public:
    /// Written as "__metadata__": free-form strings (the config, the vaelet version, ...).
    std::map<std::string, std::string> metadata;
    /// Where the tensors came from, for error messages; load_safetensors sets the file name.
    std::string source = "safetensors";

    /// Adds a tensor at the end. Throws if the name is taken or reserved, or the bytes do not fit the shape.
    void put(std::string name, Tensor tensor) {
        if (name == "__metadata__") throw config_error("safetensors: \"__metadata__\" is reserved, not a tensor name");
        if (contains(name)) throw config_error(source + ": tensor " + name + " is already there; names must be unique");
        const auto need = detail::byte_size(tensor.shape, tensor.dtype);
        if (!need)
            throw shape_error(source + ": tensor " + name + " has shape " + detail::shape_text(tensor.shape) +
                              ", which has a negative dimension or is too large");
        if (tensor.byte_count() != *need)
            throw shape_error(source + ": tensor " + name + " has " + std::to_string(tensor.byte_count()) +
                              " bytes, but shape " + detail::shape_text(tensor.shape) + " of " +
                              dtype_name(tensor.dtype) + " needs " + std::to_string(*need));
        index_.emplace(name, tensors_.size());
        tensors_.emplace_back(std::move(name), std::move(tensor));
    }

    /// Whether a tensor is called `name`.
    bool contains(std::string_view name) const { return find(name) != nullptr; }

    /// The tensor called `name`; io_error naming it (and what there is) if it is missing.
    const Tensor& at(std::string_view name) const {
        if (const Tensor* t = find(name)) return *t;
        std::string have;
        for (const auto& entry : tensors_) have += (have.empty() ? "" : ", ") + entry.first;
        throw io_error(source + ": no tensor " + std::string(name) + " (it has: " +
                       (have.empty() ? "no tensors" : have) + ")");
    }

    /// (name, tensor) pairs in put order; as loaded, in the order of their data in the file (which is put order
    /// for a file save_safetensors wrote, except that zero-size tensors at one offset come by name).
    const std::vector<std::pair<std::string, Tensor>>& tensors() const { return tensors_; }

    /// Stores `m` with shape [rows, cols], or with shape [cols] when `as_vector` (a 1×n bias, as PyTorch has it).
    template <class Derived>
    void put_matrix(std::string name, const Eigen::MatrixBase<Derived>& m, bool as_vector = false) {
        if (as_vector && m.rows() != 1)
            throw shape_error(source + ": tensor " + name + " is " + shape_string(m) +
                              ", so it cannot be stored as a vector (that needs one row)");
        put_matrix(std::move(name), m,
                   as_vector ? std::vector<std::int64_t>{m.cols()} : std::vector<std::int64_t>{m.rows(), m.cols()});
    }

    /// Stores the entries of `m`, row-major, with shape `shape` (its product must be m.size()): e.g. a conv weight
    /// held as out × (in·kH·kW) with its 4-D shape [out, in, kH, kW].
    template <class Derived>
    void put_matrix(std::string name, const Eigen::MatrixBase<Derived>& m, std::vector<std::int64_t> shape) {
        using T = typename Derived::Scalar;
        check_matrix_shape(name, m, shape);
        Tensor t;
        t.dtype = dtype_of<T>();
        t.shape = std::move(shape);
        t.bytes.resize(static_cast<std::size_t>(m.size()) * sizeof(T));
        std::size_t at = 0;
        for (Index r = 0; r < m.rows(); ++r)
            for (Index c = 0; c < m.cols(); ++c, at += sizeof(T)) {
                const T v = m(r, c);
                std::memcpy(t.bytes.data() + at, &v, sizeof(T));
            }
        put(std::move(name), std::move(t));
    }

    /// A 2-D tensor as a matrix; a 1-D one of length n (or a scalar) as 1×n; one of more dimensions as
    /// shape[0] × (the product of the others), its entries in the same row-major order (PyTorch's
    /// t.reshape(t.shape[0], -1)): how vaelet holds a conv weight. The dtype must be `T`'s, unless `cast` allows
    /// F32 <-> F64.
    template <class T>
    Matrix<T> get_matrix(std::string_view name, FloatCast cast = FloatCast::forbid) const {
        const Tensor& t = at(name);
        const Index rows = t.shape.size() >= 2 ? t.shape[0] : 1;
        Index cols = 1;
        for (std::size_t i = t.shape.size() >= 2 ? 1 : 0; i < t.shape.size(); ++i) {
            if (t.shape[i] != 0 && cols > std::numeric_limits<Index>::max() / t.shape[i])
                throw io_error(source + ": tensor " + std::string(name) + " has shape " + detail::shape_text(t.shape) +
                               ", too large for a matrix");
            cols *= t.shape[i];
        }
        Matrix<T> m(rows, cols);
        read_elements(name, t, m.data(), cast);
        return m;
    }

    /// As put_matrix, without a copy: the tensor's bytes stay `m`'s, which must live, unchanged, as long as this
    /// SafeTensors. For writing a file at once (checkpoints: a copy of every weight and optimizer buffer would be the
    /// largest allocation of a training run).
    template <class T>
    void borrow_matrix(std::string name, const Matrix<T>& m, std::vector<std::int64_t> shape) {
        check_matrix_shape(name, m, shape);
        Tensor t;
        t.dtype = dtype_of<T>();
        t.shape = std::move(shape);
        t.borrowed = reinterpret_cast<const std::uint8_t*>(m.data());
        t.borrowed_size = static_cast<std::size_t>(m.size()) * sizeof(T);
        put(std::move(name), std::move(t));
    }

    /// Stores `v` with shape [size] (e.g. an RNG state as U64, a step count as I64).
    template <class T>
    void put_vector(std::string name, const std::vector<T>& v) {
        Tensor t;
        t.dtype = dtype_of<T>();
        t.shape = {static_cast<std::int64_t>(v.size())};
        t.bytes.resize(v.size() * sizeof(T));
        if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
        put(std::move(name), std::move(t));
    }

    /// The elements of a 1-D tensor (or a scalar). The dtype must be `T`'s, unless `cast` allows F32 <-> F64.
    template <class T>
    std::vector<T> get_vector(std::string_view name, FloatCast cast = FloatCast::forbid) const {
        const Tensor& t = at(name);
        if (t.shape.size() > 1)
            throw io_error(source + ": tensor " + std::string(name) + " has shape " + detail::shape_text(t.shape) +
                           ", but a vector needs 1 dimension");
        std::vector<T> v(static_cast<std::size_t>(t.numel()));
        read_elements(name, t, v.data(), cast);
        return v;
    }

private:
    // Throws shape_error unless `shape` can hold `m`: no negative size, and the sizes multiply to m.size().
    template <class Derived>
    void check_matrix_shape(const std::string& name, const Eigen::EigenBase<Derived>& m,
                            const std::vector<std::int64_t>& shape) const {
        std::int64_t numel = 1;
        for (const auto d : shape) numel *= d;
        if (numel != m.size() || std::any_of(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; }))
            throw shape_error(source + ": tensor " + name + " is " + shape_string(m) + ", so it cannot be stored " +
                              "with shape " + detail::shape_text(shape) + " (the sizes must multiply to " +
                              std::to_string(m.size()) + ")");
    }

    const Tensor* find(std::string_view name) const {
        const auto it = index_.find(name);
        return it == index_.end() ? nullptr : &tensors_[it->second].second;
    }

    // Copies t's elements to `out` (room for numel), bit for bit, or converting F32 <-> F64 when allowed.
    template <class T>
    void read_elements(std::string_view name, const Tensor& t, T* out, FloatCast cast) const {
        const std::size_t n = static_cast<std::size_t>(t.numel());
        if (t.dtype == dtype_of<T>()) {
            if (n) std::memcpy(out, t.data(), n * sizeof(T));
            return;
        }
        if constexpr (std::is_floating_point_v<T>) {
            if (cast == FloatCast::allow && (t.dtype == Dtype::F32 || t.dtype == Dtype::F64)) {
                for (std::size_t i = 0; i < n; ++i) {
                    if (t.dtype == Dtype::F32) {
                        float v;
                        std::memcpy(&v, t.data() + i * sizeof v, sizeof v);
                        out[i] = static_cast<T>(v);
                    } else {
                        double v;
                        std::memcpy(&v, t.data() + i * sizeof v, sizeof v);
                        out[i] = static_cast<T>(v);
                    }
                }
                return;
            }
        }
        const bool floats = std::is_floating_point_v<T> && (t.dtype == Dtype::F32 || t.dtype == Dtype::F64);
        throw io_error(source + ": tensor " + std::string(name) + " is " + dtype_name(t.dtype) + " but " +
                       dtype_name(dtype_of<T>()) + " was asked for" +
                       (floats ? "; pass FloatCast::allow to convert" : ""));
    }

    std::vector<std::pair<std::string, Tensor>> tensors_;
    // Name → position in tensors_, so a file of many tensors loads in O(n log n), not O(n²).
    std::map<std::string, std::size_t, std::less<>> index_;
};

namespace detail {
/// How deep vaelet's JSON (safetensors headers, checkpoint configs) may nest; a safetensors header needs 3.
inline constexpr int max_json_depth = 64;

/// Whether `text` nests [ and { at most `limit` deep (outside strings), checked before parsing: nlohmann parses
/// iteratively, but dump() and copies recurse, so a file of nothing but '[' would overflow the stack later.
inline bool json_nesting_within(std::string_view text, int limit) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '[' || c == '{') {
            if (++depth > limit) return false;
        } else if (c == ']' || c == '}') {
            --depth;
        }
    }
    return true;
}

// The JSON header, padded with spaces to a multiple of 8 bytes.
inline std::string safetensors_header(const std::string& path, const SafeTensors& st) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!st.metadata.empty()) header["__metadata__"] = st.metadata;
    std::uint64_t offset = 0;
    for (const auto& [name, t] : st.tensors()) {
        nlohmann::ordered_json info;
        info["dtype"] = dtype_name(t.dtype);
        info["shape"] = t.shape;
        info["data_offsets"] = nlohmann::ordered_json::array({offset, offset + t.byte_count()});
        // Names are unique (put checks), so append: ordered_json's operator[] searches linearly, O(n²) in all.
        header.get_ref<nlohmann::ordered_json::object_t&>().emplace_back(name, std::move(info));
        offset += t.byte_count();
    }
    std::string text;
    try {
        text = header.dump();
    } catch (const nlohmann::json::type_error& e) {
        throw io_error("cannot write '" + path + "': tensor names and metadata must be valid UTF-8 (" + e.what() + ")");
    }
    text.append((8 - text.size() % 8) % 8, ' ');
    return text;
}

// One tensor's header entry, checked but not yet read.
struct TensorEntry {
    std::string name;
    Dtype dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin, end;
};

// Checks one header entry against the data section's size; throws io_error naming the file and the tensor.
inline TensorEntry check_entry(const std::string& path, const std::string& name, const nlohmann::json& info,
                               std::uint64_t data_size) {
    const auto bad = [&](const std::string& what) {
        return io_error(path + ": tensor " + name + " " + what + "; the file is damaged or not safetensors");
    };
    if (!info.is_object()) throw bad("is not a JSON object");
    const auto dtype_it = info.find("dtype");
    const auto shape_it = info.find("shape");
    const auto offsets_it = info.find("data_offsets");
    if (dtype_it == info.end() || !dtype_it->is_string()) throw bad("has no \"dtype\" string");
    if (shape_it == info.end() || !shape_it->is_array()) throw bad("has no \"shape\" array");
    if (offsets_it == info.end() || !offsets_it->is_array() || offsets_it->size() != 2 ||
        !(*offsets_it)[0].is_number_unsigned() || !(*offsets_it)[1].is_number_unsigned())
        throw bad("has no \"data_offsets\" pair of non-negative integers");

    TensorEntry e{name, Dtype::F32, {}, (*offsets_it)[0].get<std::uint64_t>(), (*offsets_it)[1].get<std::uint64_t>()};
    const auto dtype = parse_dtype(dtype_it->get<std::string>());
    if (!dtype) {
        std::string known;
        for (const auto& d : dtype_table) known += std::string(known.empty() ? "" : ", ") + d.name;
        throw io_error(path + ": tensor " + name + " has dtype " + dtype_it->get<std::string>() +
                       ", which vaelet does not read (it reads " + known + ")");
    }
    e.dtype = *dtype;

    const auto max_dim = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    for (const auto& d : *shape_it) {
        if (!d.is_number_unsigned() || d.get<std::uint64_t>() > max_dim)
            throw bad("has a shape " + shape_it->dump() + " with an entry that is not a non-negative integer");
        e.shape.push_back(static_cast<std::int64_t>(d.get<std::uint64_t>()));
    }
    const auto size = byte_size(e.shape, e.dtype);
    if (!size) throw bad("has a shape " + shape_it->dump() + " too large to address");
    const std::uint64_t bytes = *size;
    if (e.begin > e.end || e.end > data_size)
        throw bad("has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                  "] outside the data section of " + std::to_string(data_size) + " bytes");
    if (e.end - e.begin != bytes)
        throw bad("has data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] (" +
                  std::to_string(e.end - e.begin) + " bytes), but shape " + shape_text(e.shape) + " of " +
                  dtype_name(e.dtype) + " needs " + std::to_string(bytes) + " bytes");
    return e;
}
}  // namespace detail

/// Writes `st` to `path` atomically (path.tmp, fsync, rename). Throws io_error naming the path.
inline void save_safetensors(const std::string& path, const SafeTensors& st) {
    const std::string header = detail::safetensors_header(path, st);
    unsigned char size_le[8];
    for (int i = 0; i < 8; ++i) size_le[i] = static_cast<unsigned char>(std::uint64_t(header.size()) >> (8 * i));
    AtomicWriter out(path);
    out.write(size_le, sizeof size_le);
    out.write(header);
    for (const auto& entry : st.tensors()) out.write(entry.second.data(), entry.second.byte_count());
    out.commit();
}

/// Reads a safetensors file. The header is checked completely first (sizes, dtypes, shapes, offsets: the tensors
/// must tile the data section exactly, as the format requires) so a damaged or hostile file fails with an
/// io_error naming the file and the tensor before any tensor memory is allocated.
inline SafeTensors load_safetensors(const std::string& path) {
    constexpr std::uint64_t max_header = 100'000'000;  // the reference reader's limit
    const std::unique_ptr<std::FILE, detail::FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) throw io_error("cannot open '" + path + "': " + std::strerror(errno) + "; check the path");
    struct stat st {};
    if (::fstat(::fileno(file.get()), &st) != 0 || !S_ISREG(st.st_mode))
        throw io_error("cannot read '" + path + "': not a regular file; give the path of a .safetensors file");
    const auto file_size = static_cast<std::uint64_t>(st.st_size);
    const auto read_exactly = [&](void* out, std::uint64_t offset, std::uint64_t size) {
        if (std::fseek(file.get(), static_cast<long>(offset), SEEK_SET) != 0 ||
            std::fread(out, 1, size, file.get()) != size)
            throw io_error("cannot read '" + path + "': " + std::to_string(size) + " bytes at offset " +
                           std::to_string(offset) + " are missing; did the file change while it was read?");
    };

    if (file_size < 8)
        throw io_error(path + ": " + std::to_string(file_size) +
                       " bytes is too short for safetensors (at least 8); the file is truncated or not safetensors");
    unsigned char size_le[8];
    read_exactly(size_le, 0, 8);
    std::uint64_t header_size = 0;
    for (int i = 0; i < 8; ++i) header_size |= std::uint64_t(size_le[i]) << (8 * i);
    if (header_size > file_size - 8)
        throw io_error(path + ": the header claims " + std::to_string(header_size) + " bytes, but only " +
                       std::to_string(file_size - 8) + " follow; the file is truncated or not safetensors");
    if (header_size > max_header)
        throw io_error(path + ": the header claims " + std::to_string(header_size) +
                       " bytes, more than the 100 MB limit; the file is damaged or not safetensors");
    std::string text(header_size, '\0');
    read_exactly(text.data(), 8, header_size);

    if (!detail::json_nesting_within(text, detail::max_json_depth))
        throw io_error(path + ": the header nests JSON more than " + std::to_string(detail::max_json_depth) +
                       " levels deep; the file is damaged or not safetensors");
    // nlohmann::json, not ordered_json: its objects are std::maps, where ordered_json's search linearly and a
    // header of n tensors would parse in O(n²).
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e400
        throw io_error(path + ": the header is not valid JSON (" + e.what() + "); the file is damaged or not "
                       "safetensors");
    }
    if (!header.is_object())
        throw io_error(path + ": the header is not a JSON object; the file is damaged or not safetensors");

    SafeTensors result;
    result.source = path;
    const std::uint64_t data_start = 8 + header_size, data_size = file_size - data_start;
    std::vector<detail::TensorEntry> entries;
    for (const auto& item : header.items()) {
        if (item.key() == "__metadata__") {
            if (!item.value().is_object())
                throw io_error(path + ": \"__metadata__\" is not a JSON object of strings; the file is damaged");
            for (const auto& kv : item.value().items()) {
                if (!kv.value().is_string())
                    throw io_error(path + ": metadata entry " + kv.key() + " is not a string; the file is damaged");
                result.metadata[kv.key()] = kv.value().get<std::string>();
            }
        } else {
            entries.push_back(detail::check_entry(path, item.key(), item.value(), data_size));
        }
    }

    // The tensors must tile the data section: no overlap, no hole, nothing after the last one. Sorted by
    // data_offsets as the reference reader does, they are kept in that order (the header's keys come by name).
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto& a, const auto& b) { return std::tie(a.begin, a.end) < std::tie(b.begin, b.end); });
    std::uint64_t covered = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const auto& e = entries[i];
        if (e.begin < covered)
            throw io_error(path + ": tensor " + e.name + " overlaps tensor " + entries[i - 1].name +
                           "; the file is damaged");
        if (e.begin > covered)
            throw io_error(path + ": " + std::to_string(e.begin - covered) + " bytes before tensor " + e.name +
                           " belong to no tensor; the file is damaged");
        covered = e.end;
    }
    if (covered != data_size)
        throw io_error(path + ": the data section has " + std::to_string(data_size) + " bytes but the tensors " +
                       "cover " + std::to_string(covered) + "; the file is truncated or has trailing bytes");

    for (auto& e : entries) {
        Tensor t{e.dtype, std::move(e.shape), std::vector<std::uint8_t>(e.end - e.begin)};
        if (!t.bytes.empty()) read_exactly(t.bytes.data(), data_start + e.begin, t.bytes.size());
        result.put(std::move(e.name), std::move(t));
    }
    return result;
}

}  // namespace vaelet
