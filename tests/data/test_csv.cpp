// Tests for vaelet/data/csv.hpp, read_csv and write_csv through the pieces it includes: the RFC-4180 details,
// kind inference and id detection, and every way a file can be wrong — each must give an io_error that names the
// row and column.
#include <doctest/doctest.h>

#include "../temp_dir.hpp"
#include "vaelet/data/csv.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace vaelet;

namespace {

/// A fresh directory (mkdtemp: parallel test processes never share one), removed at scope exit.
struct CsvDir : vaelet::testing::TempDir {
    /// Writes `text` to a file called `name` here and returns its path.
    fs::path file(const std::string& name, const std::string& text) const {
        std::ofstream(path / name, std::ios::binary) << text;
        return path / name;
    }
};

/// The io_error message read_csv gives for `text` (empty if it reads fine).
std::string error_for(const std::string& text, const CsvOptions& options = {}) {
    CsvDir dir;
    try {
        read_csv(dir.file("t.csv", text), options);
    } catch (const io_error& e) {
        return e.what();
    }
    return {};
}

}  // namespace

TEST_CASE("RFC-4180 fields: quotes, doubled quotes, commas and line breaks inside quotes, CRLF, BOM, no last newline") {
    CsvDir dir;
    const auto path = dir.file("t.csv", "\xEF\xBB\xBFname,score,note\r\n"
                                        "\"Smith, J\",1.5,\"say \"\"hi\"\"\"\r\n"
                                        "  Lee , 2 ,\"two\nlines\"\r\n"
                                        "\"NA\",-3e2,plain");
    const CsvTable t = read_csv(path);
    REQUIRE(t.rows() == 3);
    CHECK(t.names() == std::vector<std::string>{"name", "score", "note"});
    CHECK(t.column("name").kind == ColumnKind::categorical);
    CHECK(t.column("name").text == std::vector<std::string>{"Smith, J", "Lee", "NA"});  // quoted NA is text
    CHECK(t.column("score").kind == ColumnKind::numeric);
    CHECK(t.column("score").numbers == std::vector<double>{1.5, 2, -300});
    CHECK(t.column("note").text == std::vector<std::string>{"say \"hi\"", "two\nlines", "plain"});
    CHECK(t.describe().find("score: numeric (inferred: every value is a number)") != std::string::npos);
}

TEST_CASE("blank lines are skipped but counted, as a spreadsheet numbers rows") {
    const std::string msg = error_for("a,b\n1,2\n\n3,NA\n");
    CHECK(msg.find("1 missing value") != std::string::npos);
    CHECK(msg.find("row 4 column 'b'") != std::string::npos);
}

TEST_CASE("id columns: detected by name and uniqueness, declared, or not at all") {
    CsvDir dir;
    const auto path = dir.file("t.csv",
                               "id,customerId,user_id,paid,store_id,ratio_id,CODE\n"
                               "1,C1,u1,x,7,0.5,a\n"
                               "2,C2,u2,y,7,1.5,b\n"
                               "3,C3,u3,z,8,2.5,c\n");
    const CsvTable t = read_csv(path);
    CHECK(t.column("id").kind == ColumnKind::id);           // integers, unique, named id
    CHECK(t.column("id").text == std::vector<std::string>{"1", "2", "3"});
    CHECK(t.column("customerId").kind == ColumnKind::id);   // camelCase …Id
    CHECK(t.column("user_id").kind == ColumnKind::id);
    CHECK(t.column("paid").kind == ColumnKind::categorical);  // ends in "id" but is not an id name
    CHECK(t.column("store_id").kind == ColumnKind::numeric);  // repeats: a code, so it stays a feature …
    CHECK(t.column("store_id").reason.find("values repeat") != std::string::npos);  // … and the reason says so
    CHECK(t.column("ratio_id").kind == ColumnKind::numeric);  // not integers
    CHECK(t.column("CODE").kind == ColumnKind::categorical);  // unique, but the name does not say id
    CHECK(t.column("id").reason.find("detected") != std::string::npos);

    CsvOptions declared;
    declared.declare("CODE", ColumnKind::id).declare("id", ColumnKind::categorical);
    declared.detect_ids = false;
    const CsvTable d = read_csv(path, declared);
    CHECK(d.column("CODE").kind == ColumnKind::id);
    CHECK(d.column("id").kind == ColumnKind::categorical);
    CHECK(d.column("user_id").kind == ColumnKind::categorical);

    CsvOptions dup;
    dup.declare("store_id", ColumnKind::id);
    const std::string msg = error_for("store_id,x\n7,1\n8,2\n7,3\n", dup);
    CHECK(msg.find("'7' appears in row 2 and row 4") != std::string::npos);
}

TEST_CASE("declared kinds: ignored columns keep their text and may be missing, and numeric must parse") {
    CsvDir dir;
    const auto path = dir.file("t.csv", "zip,segment,amount\n01234,a,1\n99999,,2\n01234,NA,3\n");
    CsvOptions options;
    options.declare("zip", ColumnKind::categorical).ignore("segment");
    const CsvTable t = read_csv(path, options);
    CHECK(t.column("zip").text == std::vector<std::string>{"01234", "99999", "01234"});
    CHECK(t.column("segment").kind == ColumnKind::ignored);
    CHECK(t.column("segment").text == std::vector<std::string>{"a", "", "NA"});

    CsvOptions numeric;
    numeric.declare("segment", ColumnKind::numeric);
    const std::string msg = error_for("segment,x\n1,1\nabc,2\n3,3\nxyz,4\n", numeric);
    CHECK(msg.find("2 values in column 'segment', declared numeric") != std::string::npos);
    CHECK(msg.find("row 3 column 'segment', row 5 column 'segment'") != std::string::npos);
    CHECK(msg.find("'abc'") != std::string::npos);

    CsvOptions typo;
    typo.ignore("segmnt");
    CHECK(error_for("segment,x\n1,2\n", typo).find("column 'segmnt' is declared ignored but the header has no such "
                                                   "column (columns: segment, x)") != std::string::npos);
}

TEST_CASE("missing values are listed by row and column, with the count") {
    const std::string msg = error_for("a,b,c\n1,,x\nNaN,2,null\n3,4,N/A\n5,6,\"\"\n7,8,NULL\n9,na,y\n");
    CHECK(msg.find("t.csv: 7 missing values") != std::string::npos);
    CHECK(msg.find("row 2 column 'b', row 3 column 'a', row 3 column 'c', row 4 column 'c', row 5 column 'c' and "
                   "2 more") != std::string::npos);
    CHECK(msg.find("declare the column ignored") != std::string::npos);
}

TEST_CASE("malformed files give an io_error that names the file, the row or column, and the fix") {
    struct Case {
        const char* text;
        const char* expected;
    };
    const Case cases[] = {
        {"", "the file is empty"},
        {"\n\n", "the file is empty"},
        {"a,b\n", "has a header (a, b) but no data rows"},
        {"a,b\n1,2\n3\n", "row 3 has 1 field but the header has 2 (a, b)"},
        {"a,b\n1,2,\n", "row 2 has 3 fields"},
        {"a,b,a\n1,2,3\n", "names two columns 'a' (columns 1 and 3)"},
        {"a,,c\n1,2,3\n", "no name for column 2"},
        {"1,2.5,3\n4,5,6\n", "looks like data, not column names"},
        {"a,b\n1,\"open\n2,3\n", "row 2, column 2 ('b'): a quoted field opened on line 2 is never closed"},
        {"a,b\n1,ab\"c\"\n", "row 2, column 2 ('b'): a quote inside an unquoted field"},
        {"a,b\n1,\"ab\"c\n", "row 2, column 2 ('b'): text after the closing quote"},
    };
    for (const Case& c : cases) {
        const std::string msg = error_for(c.text);
        INFO("input: " << c.text << "\nmessage: " << msg);
        CHECK(msg.find("t.csv: ") != std::string::npos);
        CHECK(msg.find(c.expected) != std::string::npos);
    }
    CsvDir dir;
    CHECK_THROWS_WITH_AS(read_csv(dir.path / "nope.csv"), doctest::Contains("no such file"), io_error);
    CHECK_THROWS_WITH_AS(read_csv(dir.path), doctest::Contains("is a directory"), io_error);
}

TEST_CASE("limits: levels per categorical column, bytes per row, bytes per file") {
    std::string many = "email,x\n";
    for (int i = 0; i < 12; ++i) many += "user" + std::to_string(i) + "@example.com," + std::to_string(i % 3) + "\n";
    CsvOptions few;
    few.max_levels = 10;
    const std::string msg = error_for(many, few);
    CHECK(msg.find("column 'email' has more than 10 distinct values") != std::string::npos);
    CHECK(msg.find("probably an identifier or free text") != std::string::npos);
    CHECK(error_for(many).empty());  // 12 levels are fine under the default 1000
    CsvDir dir;
    std::string unique = "name,x\n";
    for (int i = 0; i < 25; ++i) unique += "n" + std::to_string(i) + ",1\n";
    CHECK(read_csv(dir.file("u.csv", unique)).column("name").reason.find("every value is different") != std::string::npos);

    CsvOptions small;
    small.max_row_bytes = 16;
    CHECK(error_for("a,b\n1,2\n" + std::string(20, '7') + ",3\n", small)
              .find("row 3 is longer than 16 bytes") != std::string::npos);
    small.max_file_bytes = 10;
    CHECK(error_for("a,b\n1,2\n3,4\n", small).find("over the limit of 10 bytes for one CSV file") != std::string::npos);
}

TEST_CASE("write_csv writes what read_csv reads back exactly, quoting where needed, atomically") {
    CsvTable t;
    CsvColumn id{"customer_id", ColumnKind::id, {}, {"c1", "c2", "c3", "c4"}, ""};
    CsvColumn x{"x", ColumnKind::numeric, {0.1, 1e-300, 3, -2.5e17}, {}, ""};
    CsvColumn cat{"label, with comma", ColumnKind::categorical, {}, {"a \"b\"", " padded ", "two\nlines", "NA"}, ""};
    CsvColumn free{"notes", ColumnKind::ignored, {}, {"", "x", "", "y"}, ""};
    t.columns = {id, x, cat, free};
    CsvDir dir;
    const auto path = dir.path / "out.csv";
    write_csv(path, t);
    CHECK_FALSE(fs::exists(dir.path / "out.csv.tmp"));
    CsvOptions options;
    options.declare("customer_id", ColumnKind::id).declare("label, with comma", ColumnKind::categorical).ignore("notes");
    const CsvTable back = read_csv(path, options);
    REQUIRE(back.cols() == 4);
    CHECK(back.column("customer_id").text == id.text);
    CHECK(back.column("x").numbers == x.numbers);  // bit-exact
    CHECK(back.column("label, with comma").text == cat.text);
    CHECK(back.column("notes").text == free.text);
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    CHECK(header == "customer_id,x,\"label, with comma\",notes");

    t.columns[1].numbers[2] = std::nan("");
    CHECK_THROWS_WITH_AS(write_csv(path, t), doctest::Contains("column 'x', data row 3 is nan"), numeric_error);
    t.columns[1].numbers.pop_back();
    CHECK_THROWS_AS(write_csv(path, t), shape_error);
    CHECK(read_csv(path, options).rows() == 4);  // the failed writes left the file as it was
}

TEST_CASE("read_csv_header gives the column names alone, and column_text gives any column as text") {
    CsvDir dir;
    const fs::path path = dir.file("t.csv", "\xEF\xBB\xBF" "id, \"a, b\",n\r\nx,1,1.50\ny,2,0\n");
    CHECK(read_csv_header(path) == std::vector<std::string>{"id", "a, b", "n"});
    CHECK(read_csv_header(dir.file("empty.csv", "")).empty());
    CHECK_THROWS_AS(read_csv_header(dir.path / "missing.csv"), io_error);

    const CsvTable table = read_csv(path);
    CHECK(column_text(table.column("n")) == std::vector<std::string>{"1.5", "0"});  // numbers, shortest exact form
    CHECK(column_text(table.column("id")) == std::vector<std::string>{"x", "y"});
}
