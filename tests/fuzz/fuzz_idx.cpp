// tests/fuzz/fuzz_idx.cpp — fuzz target: the IDX image and label readers (data/idx.hpp), raw and gzip.
//
//   build/fuzz/bin/fuzz_idx -dict=tests/fuzz/idx.dict corpus-dir tests/fuzz/corpus/idx    (see docs/fuzzing.md)
//
// Input: one mode byte, then the file. Mode bit 0: read it as labels (else images); bit 1: gzip the file first,
// so the fuzzer mutates the decompressed bytes and the .gz path sees headers and data that almost make sense.
// (A raw file that starts 1f 8b is read as gzip too, which covers corrupt gzip streams.)
#include "fuzz_input.hpp"

#include "vaelet/data/idx.hpp"

#include <zlib.h>

#include <cstdint>
#include <cstdlib>

namespace {

void write_gzip(const std::string& path, const std::uint8_t* data, std::size_t size) {
    gzFile g = gzopen(path.c_str(), "wb1");
    const bool ok = g && (size == 0 || gzwrite(g, data, static_cast<unsigned>(size)) == static_cast<int>(size));
    if (!g || gzclose(g) != Z_OK || !ok) std::abort();  // the harness, not the input, failed
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static vaelet::fuzz::InputFile input("idx");
    if (size == 0) return 0;
    const bool labels = data[0] & 1, gzip = data[0] & 2;
    if (gzip) write_gzip(input.path(), data + 1, size - 1);
    else input.write(data + 1, size - 1);

    try {
        if (labels) {
            vaelet::fuzz::require(!vaelet::read_idx_labels(input.path()).empty(), "a label file read has labels");
        } else {
            const vaelet::Dataset d = vaelet::read_idx_images(input.path());
            vaelet::fuzz::require(d.size() >= 1 && d.pixels().size() == std::size_t(d.size() * d.features()),
                                  "an image file read holds whole images");
        }
    } catch (const vaelet::error&) {
        // rejected, as a bad file should be
    }
    return 0;
}
