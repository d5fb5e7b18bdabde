// Fuzz target: the strict XML reader and the WebNLG 2017 entry reader on top of it, then the
// Li & Liang JSON writer and the linearizations of whatever entries were read
// (train/data/xml.h, train/data/webnlg.h). Only petl::Error may escape.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tensor/error.h"
#include "train/data/webnlg.h"
#include "train/data/xml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    petl::data::parse_xml(text, "fuzz.xml");
  } catch (const petl::Error&) {
  }
  try {
    const auto entries = petl::data::parse_webnlg(text, "fuzz.xml");
    petl::data::webnlg_to_prefix_tuning_json(entries);
    for (const auto& entry : entries) {
      petl::data::linearize_webnlg_lora(entry);
      petl::data::linearize_webnlg_li_liang(entry);
    }
  } catch (const petl::Error&) {
  }
  return 0;
}
