#include "train/data/gutenberg.h"

#include "tensor/error.h"
#include "train/data/text_file.h"

namespace petl::data {

namespace {
bool is_marker(std::string_view line, std::string_view word) {
  if (!line.starts_with("***")) return false;
  line.remove_prefix(3);
  while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
  if (!line.starts_with(word)) return false;
  line.remove_prefix(word.size());
  return line.starts_with(" OF THE PROJECT GUTENBERG EBOOK") ||
         line.starts_with(" OF THIS PROJECT GUTENBERG EBOOK");
}
}  // namespace

bool is_gutenberg_start_marker(std::string_view line) { return is_marker(line, "START"); }
bool is_gutenberg_end_marker(std::string_view line) { return is_marker(line, "END"); }

void for_each_gutenberg_body_line(const std::string& path,
                                  const std::function<void(std::string_view line, int64_t line_number)>& on_line) {
  enum class State { header, body, done } state = State::header;
  for_each_line(path, [&](std::string_view line, int64_t line_number) {
    if (line_number == 1 && line.substr(0, 3) == "\xEF\xBB\xBF") line.remove_prefix(3);
    if (state == State::header) {
      if (is_gutenberg_start_marker(line)) state = State::body;
      return true;
    }
    if (is_gutenberg_end_marker(line)) {
      state = State::done;
      return false;
    }
    on_line(line, line_number);
    return true;
  });
  PETL_CHECK(state != State::header, path,
             ": no '*** START OF THE PROJECT GUTENBERG EBOOK' line (not a Project Gutenberg text?)");
  PETL_CHECK(state == State::done, path,
             ": no '*** END OF THE PROJECT GUTENBERG EBOOK' line after the START marker (truncated file?)");
}

std::string read_gutenberg_body(const std::string& path) {
  std::string body;
  for_each_gutenberg_body_line(path, [&](std::string_view line, int64_t) {
    body.append(line);
    body.push_back('\n');
  });
  return body;
}

}  // namespace petl::data
