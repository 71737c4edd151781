// tests/fuzz/fuzz_csv.cpp — fuzz target: the CSV reader read_csv (data/csv_reader.hpp).
//
//   build/fuzz/bin/fuzz_csv -dict=tests/fuzz/csv.dict corpus-dir tests/fuzz/corpus/csv
//
// Input: one options byte, then the file. The options byte turns on the paths a plain read never takes:
// bit 0 off: no id detection; bit 1: declare column "a" numeric; bit 2: "id" id; bit 3: "b" ignored;
// bit 4: "c" categorical; bit 5: at most 3 levels per categorical column; bit 6: rows of at most 64 bytes;
// bit 7: files of at most 256 bytes. A table that reads must be well-formed (CsvTable::validate).
#include "fuzz_input.hpp"

#include "vaelet/data/csv_reader.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static vaelet::fuzz::InputFile input("csv");
    if (size == 0) return 0;
    using vaelet::ColumnKind;
    const unsigned bits = data[0];
    vaelet::CsvOptions options;
    options.detect_ids = bits & 1;
    if (bits & 2) options.declare("a", ColumnKind::numeric);
    if (bits & 4) options.declare("id", ColumnKind::id);
    if (bits & 8) options.ignore("b");
    if (bits & 16) options.declare("c", ColumnKind::categorical);
    if (bits & 32) options.max_levels = 3;
    if (bits & 64) options.max_row_bytes = 64;
    if (bits & 128) options.max_file_bytes = 256;

    vaelet::CsvTable table;
    try {
        table = vaelet::read_csv(input.write(data + 1, size - 1), options);
    } catch (const vaelet::error&) {
        return 0;  // rejected, as a bad file should be
    }
    table.validate();  // throws (uncaught: a finding) if the columns disagree
    vaelet::fuzz::require(table.rows() >= 1 && table.cols() >= 1, "a table that reads has a header and a row");
    return 0;
}
