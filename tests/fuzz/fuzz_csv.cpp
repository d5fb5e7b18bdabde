// Fuzz target: the RFC 4180 CSV reader and the E2E MR parser / linearizer over every field of
// every record (train/data/csv.h, train/data/e2e.h), and the E2E scorer's reading of a reference
// file (train/data/e2e_scorer_csv.h). Only petl::Error may escape the readers.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tensor/error.h"
#include "train/data/csv.h"
#include "train/data/e2e.h"
#include "train/data/e2e_scorer_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    petl::data::for_each_csv_record_in_text(text, "fuzz.csv", [](const petl::data::CsvRecord& record) {
      for (const std::string& field : record.fields) {
        try {
          petl::data::linearize_e2e_mr(field, "fuzz.csv");
        } catch (const petl::Error&) {
        }
      }
      return true;
    });
  } catch (const petl::Error&) {
  }
  try {
    petl::data::parse_e2e_references_as_scorer(text, "fuzz.csv");
  } catch (const petl::Error&) {
  }
  return 0;
}
