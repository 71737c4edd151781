/// \file
/// vaelet/core/atomic_file.hpp — write a whole file so that readers see the old version or the new one, never half.
///
///     vaelet::write_file_atomic("notes.txt", "epoch 3 done\n");
///     vaelet::AtomicWriter out("metrics.csv");          // writes metrics.csv.tmp next to it
///     out.write("epoch,loss\n");  out.write("1,93.5\n");  out.commit();   // fsync, then rename over metrics.csv
///
/// How: the bytes go to `path.tmp` in the same directory (so the rename cannot cross file systems), are flushed
/// and fsync'ed, and the temp file is renamed over `path`; rename is atomic on POSIX. On any failure the temp file
/// is removed and the previous `path` is left as it was. POSIX only (open/fsync/rename).
#pragma once

#include "vaelet/core/error.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace vaelet {

namespace detail {
/// Closes a FILE* owned by a std::unique_ptr (readers of IDX and safetensors files use it).
struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
};
}  // namespace detail

namespace testing {
/// Test hook: while set, every AtomicWriter fails like a full disk (ENOSPC) once it has written this many bytes,
/// after writing those bytes to the temp file. Tests set it to check that a failed write leaves the previous file
/// intact and no `.tmp` behind, then reset it. Not thread-safe; leave it empty outside tests.
inline std::optional<std::size_t> fail_writes_after;
}  // namespace testing

/// Writes `path` atomically: open, `write` the pieces, `commit`. Destroyed without `commit` (an exception, an
/// early return), it removes the temp file and leaves `path` untouched. Throws io_error naming the path, the
/// system's reason and what to check.
class AtomicWriter {
public:
    /// Creates `path.tmp` beside `path`, which stays untouched until `commit`. Throws io_error when `path` is a
    /// directory or the temp file cannot be created.
    explicit AtomicWriter(std::string path) : path_(std::move(path)), tmp_(path_ + ".tmp") {
        struct stat st {};
        if (::stat(path_.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
            throw io_error("cannot write '" + path_ + "': it is a directory; give a file name instead");
        file_ = std::fopen(tmp_.c_str(), "wb");
        if (!file_) fail("cannot create", errno);
    }

    AtomicWriter(const AtomicWriter&) = delete;             ///< owns its temp file
    AtomicWriter& operator=(const AtomicWriter&) = delete;  ///< owns its temp file

    /// Without a commit, closes and removes the temp file: `path` keeps its previous contents.
    ~AtomicWriter() {
        if (file_) {
            std::fclose(file_);
            ::unlink(tmp_.c_str());
        }
    }

    /// Appends `size` bytes from `data` to the temp file. Throws io_error (temp file removed) when the write fails,
    /// e.g. a full disk, or after `commit`.
    void write(const void* data, std::size_t size) {
        require_open();
        if (size == 0) return;  // fwrite's pointer must not be null even for 0 bytes (an empty tensor's data() is)
        std::size_t n = size;
        const bool inject = testing::fail_writes_after && written_ + size > *testing::fail_writes_after;
        if (inject) n = *testing::fail_writes_after - written_;
        if (std::fwrite(data, 1, n, file_) != n) fail("cannot write", errno);
        written_ += n;
        if (inject) fail("cannot write", ENOSPC);
    }

    /// Appends `bytes`.
    void write(std::string_view bytes) { write(bytes.data(), bytes.size()); }

    /// Flushes, fsyncs and renames the temp file over `path`. The writer is done afterwards.
    void commit() {
        require_open();
        if (std::fflush(file_) != 0) fail("cannot write", errno);
        if (::fsync(::fileno(file_)) != 0) fail("cannot sync", errno);
        const int closed = std::fclose(file_);
        file_ = nullptr;
        if (closed != 0) fail("cannot write", errno);
        if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail("cannot rename the temp file over", errno);
        sync_directory();
    }

    /// The file being written (not its temp file).
    const std::string& path() const { return path_; }

private:
    void require_open() const {
        if (!file_)
            throw io_error("AtomicWriter for '" + path_ + "' is already committed or failed; open a new one");
    }

    // Closes and removes the temp file, then throws; `err` is errno as it was at the failing call.
    [[noreturn]] void fail(const std::string& what, int err) {
        if (file_) std::fclose(file_);
        file_ = nullptr;
        ::unlink(tmp_.c_str());
        throw io_error(what + " '" + path_ + "' (through '" + tmp_ + "'): " + std::strerror(err) +
                       "; does the directory exist, is it writable, is the disk full?");
    }

    // Makes the rename itself durable. Best effort: some file systems cannot fsync a directory.
    void sync_directory() const {
        const auto slash = path_.rfind('/');
        const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path_.substr(0, slash);
        const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
        if (fd < 0) return;
        ::fsync(fd);
        ::close(fd);
    }

    std::string path_;
    std::string tmp_;
    std::FILE* file_ = nullptr;
    std::size_t written_ = 0;
};

/// Writes `bytes` to `path` atomically (see AtomicWriter).
inline void write_file_atomic(const std::string& path, std::string_view bytes) {
    AtomicWriter out(path);
    out.write(bytes);
    out.commit();
}

}  // namespace vaelet
