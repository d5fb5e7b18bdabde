#include "train/data/dart.h"

#include "tensor/error.h"
#include "train/data/json_input.h"
#include "train/data/text_file.h"

namespace petl::data {

std::vector<DartEntry> parse_dart(std::string_view text, const std::string& source_name) {
  check_utf8(text, source_name);
  const nlohmann::json document = parse_json(text, source_name);
  json_array(document, source_name + ": top level");
  std::vector<DartEntry> entries;
  for (size_t i = 0; i < document.size(); ++i) {
    const nlohmann::json& object = document[i];
    const std::string where = detail::concat(source_name, ": [", i, "]");
    DartEntry entry;
    const nlohmann::json& tripleset = json_array(json_member(object, "tripleset", where), where + ".tripleset");
    for (size_t t = 0; t < tripleset.size(); ++t) {
      const std::string triple_where = detail::concat(where, ".tripleset[", t, "]");
      const nlohmann::json& triple = json_array(tripleset[t], triple_where);
      PETL_CHECK(triple.size() == 3, triple_where, ": expected [subject, property, object], found ", triple.size(),
                 " element(s)");
      entry.triples.push_back(Triple{json_string(triple[0], triple_where + "[0]"),
                                     json_string(triple[1], triple_where + "[1]"),
                                     json_string(triple[2], triple_where + "[2]")});
    }
    PETL_CHECK(!entry.triples.empty(), where, ".tripleset: empty");
    if (object.contains("subtree_was_extended"))
      entry.subtree_was_extended = json_bool(object["subtree_was_extended"], where + ".subtree_was_extended");
    const nlohmann::json& annotations =
        json_array(json_member(object, "annotations", where), where + ".annotations");
    for (size_t a = 0; a < annotations.size(); ++a) {
      const std::string annotation_where = detail::concat(where, ".annotations[", a, "]");
      entry.annotations.push_back(
          DartAnnotation{json_string(json_member(annotations[a], "source", annotation_where), annotation_where + ".source"),
                         json_string(json_member(annotations[a], "text", annotation_where), annotation_where + ".text")});
    }
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::vector<DartEntry> read_dart(const std::string& path) { return parse_dart(read_text_file(path), path); }

}  // namespace petl::data
