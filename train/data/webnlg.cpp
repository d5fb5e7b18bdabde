#include "train/data/webnlg.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tensor/error.h"
#include "train/data/text_file.h"
#include "train/data/xml.h"

namespace petl::data {

const std::vector<std::string>& webnlg_seen_categories() {
  static const std::vector<std::string> seen = {"Airport", "Astronaut",       "Building", "City",
                                                "ComicsCharacter", "Food",   "Monument", "SportsTeam",
                                                "University",      "WrittenWork"};
  return seen;
}

const std::vector<std::string>& webnlg_unseen_categories() {
  static const std::vector<std::string> unseen = {"Artist", "Athlete", "CelestialBody", "Company",
                                                  "MeanOfTransportation", "Politician"};
  return unseen;
}

bool webnlg_is_seen_category(std::string_view category) {
  const auto& seen = webnlg_seen_categories();
  return std::find(seen.begin(), seen.end(), category) != seen.end();
}

Triple parse_webnlg_triple(std::string_view text, const std::string& where) {
  // The corpus reader splits on " | " and needs exactly three parts.
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t bar = text.find(" | ", start);
    parts.emplace_back(text.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 3;
  }
  PETL_CHECK(parts.size() == 3, where, ": expected a triple 'subject | property | object', found ", parts.size(),
             " part(s) in '", text, "'");
  return Triple{parts[0], parts[1], parts[2]};
}

namespace {

std::string at(const std::string& path, const XmlElement& element) {
  return detail::concat(path, ":", element.line, ": <", element.name, ">");
}

const std::string& required_attribute(const std::string& path, const XmlElement& element, const char* key) {
  const std::string* value = element.attribute(key);
  PETL_CHECK(value != nullptr, at(path, element), ": missing attribute '", key, "'");
  return *value;
}

// Text of an element that must hold only text.
const std::string& leaf_text(const std::string& path, const XmlElement& element) {
  PETL_CHECK(element.children.empty(), at(path, element), ": expected text only, found child <",
             element.children.empty() ? "" : element.children[0].name, ">");
  return element.text;
}

std::vector<Triple> read_tripleset(const std::string& path, const XmlElement& set, const char* triple_name) {
  std::vector<Triple> triples;
  for (const XmlElement& child : set.children) {
    PETL_CHECK(child.name == triple_name, at(path, child), ": unexpected inside <", set.name, ">, expected <",
               triple_name, ">");
    triples.push_back(parse_webnlg_triple(leaf_text(path, child), at(path, child)));
  }
  return triples;
}

WebNlgEntry read_entry(const std::string& path, const XmlElement& element) {
  WebNlgEntry entry;
  entry.file = path;
  entry.line = element.line;
  entry.category = required_attribute(path, element, "category");
  entry.eid = required_attribute(path, element, "eid");
  entry.size = required_attribute(path, element, "size");
  bool has_modified = false;
  for (const XmlElement& child : element.children) {
    if (child.name == "originaltripleset") {
      entry.original_triplesets.push_back(read_tripleset(path, child, "otriple"));
    } else if (child.name == "modifiedtripleset") {
      PETL_CHECK(!has_modified, at(path, child), ": second <modifiedtripleset> in one entry");
      entry.modified_triples = read_tripleset(path, child, "mtriple");
      has_modified = true;
    } else if (child.name == "lex") {
      WebNlgLexicalisation lex;
      lex.comment = required_attribute(path, child, "comment");
      lex.lid = required_attribute(path, child, "lid");
      lex.text = leaf_text(path, child);
      lex.has_text = !lex.text.empty();
      entry.lexicalisations.push_back(std::move(lex));
    } else {
      throw Error(detail::concat(at(path, child), ": unexpected in <entry>, expected <originaltripleset>, ",
                                 "<modifiedtripleset> or <lex>"));
    }
  }
  PETL_CHECK(has_modified, at(path, element), ": entry ", entry.eid, " has no <modifiedtripleset>");
  PETL_CHECK(!entry.modified_triples.empty(), at(path, element), ": entry ", entry.eid,
             " has an empty <modifiedtripleset>");
  return entry;
}

}  // namespace

std::vector<WebNlgEntry> read_webnlg_file(const std::string& path) {
  return parse_webnlg(read_text_file(path), path);
}

std::vector<WebNlgEntry> parse_webnlg(std::string_view xml_text, const std::string& path) {
  const XmlElement root = parse_xml(xml_text, path);
  PETL_CHECK(root.name == "benchmark", at(path, root), ": expected the root element <benchmark>");
  std::vector<WebNlgEntry> entries;
  for (const XmlElement& block : root.children) {
    PETL_CHECK(block.name == "entries", at(path, block), ": unexpected in <benchmark>, expected <entries>");
    for (const XmlElement& element : block.children) {
      PETL_CHECK(element.name == "entry", at(path, element), ": unexpected in <entries>, expected <entry>");
      entries.push_back(read_entry(path, element));
    }
  }
  return entries;
}

std::vector<WebNlgEntry> read_webnlg(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(path, error)) return read_webnlg_file(path);
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(path, error), end; !error && it != end; it.increment(error))
    if (it->is_regular_file() && it->path().extension() == ".xml") files.push_back(it->path().string());
  PETL_CHECK(!error, path, ": cannot list directory: ", error.message());
  PETL_CHECK(!files.empty(), path, ": no .xml files in this directory");
  std::sort(files.begin(), files.end());  // the corpus reader's (and dev.json's) order
  std::vector<WebNlgEntry> entries;
  for (const std::string& file : files) {
    std::vector<WebNlgEntry> more = read_webnlg_file(file);
    entries.insert(entries.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
  }
  return entries;
}

namespace {
nlohmann::ordered_json triple_json(const Triple& triple) {
  return {{"object", triple.object}, {"property", triple.property}, {"subject", triple.subject}};
}
}  // namespace

std::string webnlg_to_prefix_tuning_json(const std::vector<WebNlgEntry>& entries) {
  // Keys written in sorted order (json.dumps sort_keys=True); the corpus reader's fixed fields
  // shape/shape_type "NA", empty dbpedialinks/links and lang "" for 2017 data.
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (size_t i = 0; i < entries.size(); ++i) {
    const WebNlgEntry& entry = entries[i];
    nlohmann::ordered_json lexicalisations = nlohmann::ordered_json::array();
    for (const WebNlgLexicalisation& lex : entry.lexicalisations) {
      nlohmann::ordered_json text = lex.has_text ? nlohmann::ordered_json(lex.text) : nlohmann::ordered_json();
      lexicalisations.push_back(
          {{"comment", lex.comment}, {"lang", ""}, {"lex", std::move(text)}, {"xml_id", lex.lid}});
    }
    nlohmann::ordered_json modified = nlohmann::ordered_json::array();
    for (const Triple& triple : entry.modified_triples) modified.push_back(triple_json(triple));
    nlohmann::ordered_json originals = nlohmann::ordered_json::array();
    for (const auto& set : entry.original_triplesets) {
      nlohmann::ordered_json one = nlohmann::ordered_json::array();
      for (const Triple& triple : set) one.push_back(triple_json(triple));
      originals.push_back(std::move(one));
    }
    nlohmann::ordered_json fields = {
        {"category", entry.category},
        {"dbpedialinks", nlohmann::ordered_json::array()},
        {"lexicalisations", std::move(lexicalisations)},
        {"links", nlohmann::ordered_json::array()},
        {"modifiedtripleset", std::move(modified)},
        {"originaltriplesets", {{"originaltripleset", std::move(originals)}}},
        {"shape", "NA"},
        {"shape_type", "NA"},
        {"size", entry.size},
        {"xml_id", entry.eid},
    };
    list.push_back({{std::to_string(i + 1), std::move(fields)}});
  }
  nlohmann::ordered_json document = {{"entries", std::move(list)}};
  return document.dump(4);  // UTF-8 kept as is (ensure_ascii=False)
}

}  // namespace petl::data
