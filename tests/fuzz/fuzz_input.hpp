// tests/fuzz/fuzz_input.hpp — what the fuzz targets share: the fuzzer's bytes written to a file of this process's
// own, since vaelet's readers take paths.
//
//   static vaelet::fuzz::InputFile input("idx");              // /dev/shm/vaelet-fuzz-<pid>-idx
//   const std::string& path = input.write(data, size);
//   try { vaelet::read_idx_images(path); } catch (const vaelet::error&) {}   // a rejection is fine
//
// The rule every target follows: a vaelet::error is the reader rejecting a bad file, as it should; anything else
// escaping (std::bad_alloc, std::length_error, a nlohmann exception), a crash, a sanitizer report, a hang or an
// allocation the input does not justify is a bug.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace vaelet::fuzz {

/// A file named after this process and `suffix`, in /dev/shm (memory, not disk) when there is one, else in the
/// temp directory; removed when the program ends normally. The name holds the pid, so several fuzzers (or ctest
/// jobs) never share a file.
class InputFile {
public:
    explicit InputFile(const std::string& suffix) {
        namespace fs = std::filesystem;
        std::error_code ec;
        const fs::path dir = fs::is_directory("/dev/shm", ec) ? fs::path("/dev/shm") : fs::temp_directory_path();
        path_ = (dir / ("vaelet-fuzz-" + std::to_string(::getpid()) + "-" + suffix)).string();
    }
    ~InputFile() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    InputFile(const InputFile&) = delete;
    InputFile& operator=(const InputFile&) = delete;

    /// Replaces the file's contents with `size` bytes at `data`; returns its path.
    const std::string& write(const void* data, std::size_t size) {
        std::FILE* f = std::fopen(path_.c_str(), "wb");
        // Not an input problem: the harness cannot work at all, so stop loudly.
        if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
            std::perror(path_.c_str());
            std::abort();
        }
        return path_;
    }

    const std::string& write(const std::string& bytes) { return write(bytes.data(), bytes.size()); }

    const std::string& path() const { return path_; }

private:
    std::string path_;
};

/// The file that an input of the safetensors-based targets stands for. An input starting with '{' is the JSON
/// header, a NUL byte, then the data section, and gets its 8-byte header size here, so a mutation can grow or
/// shrink the header without also having to fix the size. Any other input is the file as it is.
inline std::string safetensors_file(const std::uint8_t* data, std::size_t size) {
    const std::string input(reinterpret_cast<const char*>(data), size);
    if (input.empty() || input[0] != '{') return input;
    const std::size_t nul = std::min(input.find('\0'), input.size());
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[std::size_t(i)] = static_cast<char>(std::uint64_t(nul) >> (8 * i));
    return file + input.substr(0, nul) + (nul < input.size() ? input.substr(nul + 1) : std::string());
}

/// Stops the run as a finding when a property the library promises does not hold (a crash, to the fuzzer).
inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "fuzz property violated: %s\n", what);
        std::abort();
    }
}

}  // namespace vaelet::fuzz
