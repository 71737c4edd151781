// Shared by the tests: a fresh temporary directory, removed with everything in it at the end of the test.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <stdlib.h>

namespace vaelet::testing {

struct TempDir {
    std::filesystem::path path;
    TempDir() {
        std::string name = (std::filesystem::temp_directory_path() / "vaelet_test_XXXXXX").string();
        REQUIRE(::mkdtemp(name.data()) != nullptr);
        path = name;
    }
    ~TempDir() {
        std::error_code ec;
        // A test may have taken its permissions away; give them back so it can be removed.
        std::filesystem::permissions(path, std::filesystem::perms::owner_all, std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& file) const { return (path / file).string(); }
};

}  // namespace vaelet::testing
