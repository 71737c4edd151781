/// \file
/// vaelet/data/csv.hpp — read and write tables of numbers and categories as CSV (RFC 4180): read_csv and write_csv
/// with the table they share, in one include.
///
///     vaelet::CsvOptions options;  options.ignore("segment");              // kept in the table, not modelled
///     vaelet::CsvTable customers = vaelet::read_csv("customers.csv", options);
///     vaelet::write_csv("copy.csv", customers);                           // same format, written atomically
///
/// The pieces, one concept each, whose header comments are the reference:
///
///     data/table.hpp             CsvTable, CsvColumn and ColumnKind: the table in memory
///     data/csv_options.hpp       CsvOptions: declared column kinds, id detection, limits
///     data/csv_records.hpp       the syntax: quoting, line ends, blank lines, missing values
///     data/column_inference.hpp  how a column gets its kind when none is declared, and the checks of each kind
///     data/csv_reader.hpp        read_csv, read_csv_header
///     data/csv_writer.hpp        write_csv
#pragma once

#include "vaelet/data/csv_reader.hpp"
#include "vaelet/data/csv_writer.hpp"
