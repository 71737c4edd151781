// tests/fuzz/fuzz_safetensors.cpp — fuzz target: load_safetensors (io/safetensors.hpp) and reading what it loaded.
//
//   build/fuzz/bin/fuzz_safetensors -dict=tests/fuzz/safetensors.dict corpus-dir tests/fuzz/corpus/safetensors
//
// Input: the file, or its JSON header, a NUL byte and its data (see safetensors_file in fuzz_input.hpp).
// A file that loads must also give up its tensors (as matrices and vectors of every type that applies) and
// survive save → load unchanged.
#include "fuzz_input.hpp"

#include "vaelet/io/safetensors.hpp"

#include <cstdint>

namespace {

template <class F>
void allow_rejection(F&& f) {
    try {
        f();
    } catch (const vaelet::error&) {
    }
}

void read_every_way(const vaelet::SafeTensors& st) {
    using vaelet::FloatCast;
    for (const auto& [name, t] : st.tensors()) {
        allow_rejection([&, &name = name] { st.get_matrix<float>(name, FloatCast::allow); });
        allow_rejection([&, &name = name] { st.get_matrix<double>(name); });
        allow_rejection([&, &name = name] { st.get_vector<std::uint64_t>(name); });
        allow_rejection([&, &name = name] { st.get_vector<std::int64_t>(name); });
        allow_rejection([&, &name = name] { st.get_vector<std::uint8_t>(name); });
        vaelet::fuzz::require(t.numel() >= 0, "numel is never negative");
    }
}

bool same(const vaelet::SafeTensors& a, const vaelet::SafeTensors& b) {
    if (a.metadata != b.metadata || a.tensors().size() != b.tensors().size()) return false;
    for (std::size_t i = 0; i < a.tensors().size(); ++i) {
        const auto& [name_a, ta] = a.tensors()[i];
        const auto& [name_b, tb] = b.tensors()[i];
        if (name_a != name_b || ta.dtype != tb.dtype || ta.shape != tb.shape || ta.bytes != tb.bytes) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static vaelet::fuzz::InputFile input("safetensors"), copy("safetensors-copy");
    vaelet::SafeTensors st;
    try {
        st = vaelet::load_safetensors(input.write(vaelet::fuzz::safetensors_file(data, size)));
    } catch (const vaelet::error&) {
        return 0;  // rejected, as a bad file should be
    }
    read_every_way(st);
    // What loads can be saved, and loads back the same (tensors in the same order: save keeps put order).
    vaelet::save_safetensors(copy.path(), st);
    vaelet::fuzz::require(same(st, vaelet::load_safetensors(copy.path())), "save then load gives back what loaded");
    return 0;
}
