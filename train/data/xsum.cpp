#include "train/data/xsum.h"

#include <filesystem>

#include "tensor/error.h"
#include "train/data/json_input.h"
#include "train/data/text_file.h"

namespace petl::data {

XsumExample parse_xsum_jsonl_line(std::string_view line, const std::string& source, int64_t line_number) {
  check_utf8(line, detail::concat(source, ":", line_number));
  const nlohmann::json object = parse_json(line, source, line_number);
  const std::string where = detail::concat(source, ":", line_number);
  XsumExample example;
  example.document = json_string(json_member(object, "document", where), where + ": field 'document'");
  example.summary = json_string(json_member(object, "summary", where), where + ": field 'summary'");
  if (object.contains("id")) {
    // Hugging Face writes the BBC id as a string ("38264402"); some dumps write it as a number.
    const nlohmann::json& id = object["id"];
    PETL_CHECK(id.is_string() || id.is_number_unsigned(), where,
               ": field 'id': expected a string or a non-negative integer, found ", id.type_name());
    example.id = id.is_string() ? id.get<std::string>() : std::to_string(id.get<uint64_t>());
  }
  example.line = line_number;
  return example;
}

void for_each_xsum_jsonl(const std::string& path, const std::function<void(const XsumExample&)>& on_example) {
  for_each_line(path, [&](std::string_view line, int64_t line_number) {
    if (line.find_first_not_of(" \t") == std::string_view::npos) return true;
    on_example(parse_xsum_jsonl_line(line, path, line_number));
    return true;
  });
}

std::vector<XsumExample> read_xsum_jsonl(const std::string& path) {
  std::vector<XsumExample> examples;
  for_each_xsum_jsonl(path, [&](const XsumExample& example) { examples.push_back(example); });
  PETL_CHECK(!examples.empty(), path, ": no examples (expected one JSON object a line)");
  return examples;
}

std::vector<XsumExample> read_xsum_pair(const std::string& document_path, const std::string& summary_path) {
  std::vector<XsumExample> examples;
  for_each_line(document_path, [&](std::string_view line, int64_t line_number) {
    examples.push_back(XsumExample{std::string(line), "", "", line_number});
    return true;
  });
  int64_t summaries = 0;
  for_each_line(summary_path, [&](std::string_view line, int64_t line_number) {
    PETL_CHECK(size_t(line_number) <= examples.size(), summary_path, ":", line_number, ": more summaries than the ",
               examples.size(), " documents of ", document_path);
    examples[size_t(line_number - 1)].summary = std::string(line);
    summaries = line_number;
    return true;
  });
  PETL_CHECK(size_t(summaries) == examples.size(), summary_path, ": ", summaries, " summaries for the ",
             examples.size(), " documents of ", document_path, " (expected one a line, line-aligned)");
  return examples;
}

std::vector<std::string> read_xsum_split_ids(const std::string& split_json_path, const std::string& split) {
  const nlohmann::json document = parse_json(read_text_file(split_json_path), split_json_path);
  const std::string where = split_json_path + ": field '" + split + "'";
  const nlohmann::json& ids = json_array(json_member(document, split.c_str(), split_json_path), where);
  std::vector<std::string> out;
  for (size_t i = 0; i < ids.size(); ++i) out.push_back(json_string(ids[i], detail::concat(where, "[", i, "]")));
  return out;
}

std::vector<XsumExample> read_xsum_preprocessed(const std::string& directory, const std::vector<std::string>& ids) {
  namespace fs = std::filesystem;
  auto text_without_final_line_end = [](const std::string& path) {
    std::string text = read_text_file(path);
    if (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  };
  std::vector<XsumExample> examples;
  for (const std::string& id : ids) {
    PETL_CHECK(!id.empty() && id.find('/') == std::string::npos && id != "." && id != "..", directory,
               ": bad XSum id '", id, "' (expected a BBC article id)");
    XsumExample example;
    example.id = id;
    example.document = text_without_final_line_end((fs::path(directory) / "document" / (id + ".document")).string());
    example.summary = text_without_final_line_end((fs::path(directory) / "summary" / (id + ".summary")).string());
    examples.push_back(std::move(example));
  }
  return examples;
}

}  // namespace petl::data
