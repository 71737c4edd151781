#include "vaelet/core/atomic_file.hpp"

#include <doctest/doctest.h>

#include "../temp_dir.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {

using vaelet::testing::TempDir;

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// The message of the io_error `f` throws, or a note that it threw none.
template <class F>
std::string io_error_message(F&& f) {
    try {
        f();
    } catch (const vaelet::io_error& e) {
        return e.what();
    }
    return "(no io_error was thrown)";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// Resets the failure hook even when a check fails.
struct FailWritesAfter {
    explicit FailWritesAfter(std::size_t n) { vaelet::testing::fail_writes_after = n; }
    ~FailWritesAfter() { vaelet::testing::fail_writes_after.reset(); }
};

}  // namespace

TEST_CASE("write_file_atomic writes exact bytes, replaces the old file and leaves no temp file") {
    TempDir dir;
    const std::string path = dir / "data.bin";
    const std::string binary("a\0b\r\n\xff", 6);
    vaelet::write_file_atomic(path, binary);
    CHECK(read_all(path) == binary);
    vaelet::write_file_atomic(path, "second");
    CHECK(read_all(path) == "second");
    vaelet::write_file_atomic(path, "");
    CHECK(fs::file_size(path) == 0);
    CHECK_FALSE(fs::exists(path + ".tmp"));

    // An empty tensor's bytes are (nullptr, 0): fwrite must not see the null pointer (UBSan found this).
    vaelet::AtomicWriter writer(path);
    writer.write(nullptr, 0);
    writer.write("x");
    writer.commit();
    CHECK(read_all(path) == "x");
}

TEST_CASE("AtomicWriter: the old file stays until commit, and without commit the temp file is removed") {
    TempDir dir;
    const std::string path = dir / "metrics.csv";
    vaelet::write_file_atomic(path, "old\n");
    {
        vaelet::AtomicWriter out(path);
        out.write("epoch,loss\n");
        out.write("1,93.5\n");
        CHECK(fs::exists(path + ".tmp"));
        CHECK(read_all(path) == "old\n");
        out.commit();
        CHECK(read_all(path) == "epoch,loss\n1,93.5\n");
        CHECK(contains(io_error_message([&] { out.write("more"); }), "already committed"));
    }
    {
        vaelet::AtomicWriter out(path);
        out.write("abandoned");
    }
    CHECK(read_all(path) == "epoch,loss\n1,93.5\n");
    CHECK_FALSE(fs::exists(path + ".tmp"));
    CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("a write that fails midway leaves the previous file intact and no temp file") {
    TempDir dir;
    const std::string path = dir / "model.safetensors";
    vaelet::write_file_atomic(path, "previous contents");

    SUBCASE("streaming writer") {
        FailWritesAfter hook(10);
        vaelet::AtomicWriter out(path);
        out.write("12345678");  // 8 bytes: below the limit
        const std::string msg = io_error_message([&] { out.write("9abcdef"); });
        CHECK(contains(msg, path));
        CHECK(contains(msg, std::strerror(ENOSPC)));
        CHECK(contains(msg, "writable"));
        CHECK(contains(io_error_message([&] { out.commit(); }), "failed"));
    }
    SUBCASE("whole file") {
        FailWritesAfter hook(3);
        CHECK(contains(io_error_message([&] { vaelet::write_file_atomic(path, "new contents"); }), path));
    }
    CHECK(read_all(path) == "previous contents");
    CHECK_FALSE(fs::exists(path + ".tmp"));
}

TEST_CASE("clear errors for a missing directory, a directory as the path and an unwritable directory") {
    TempDir dir;
    const std::string missing = dir / "no_such_dir/out.csv";
    const std::string msg = io_error_message([&] { vaelet::write_file_atomic(missing, "x"); });
    CHECK(contains(msg, missing));
    CHECK(contains(msg, std::strerror(ENOENT)));
    CHECK(contains(msg, "does the directory exist"));

    fs::create_directory(dir / "sub");
    CHECK(contains(io_error_message([&] { vaelet::write_file_atomic(dir / "sub", "x"); }), "is a directory"));
    CHECK(fs::is_directory(dir / "sub"));

    if (::geteuid() != 0) {  // root may write anywhere, so the check means nothing there
        fs::permissions(dir / "sub", fs::perms::owner_read | fs::perms::owner_exec);
        const std::string locked = dir / "sub/out.csv";
        const std::string denied = io_error_message([&] { vaelet::write_file_atomic(locked, "x"); });
        CHECK(contains(denied, locked));
        CHECK(contains(denied, std::strerror(EACCES)));
    }
}
