// petl_webnlg_json XML_PATH OUT.json
// Converts WebNLG 2017 XML (a file, or a directory read recursively in sorted path order) into the
// JSON Li & Liang and LoRA train from (train/data/webnlg.h): from webnlg/dev it writes dev.json
// byte for byte; from webnlg/train, the train.json of those papers. Prints the entry and text counts.
#include <cstdio>
#include <exception>

#include "train/data/text_file.h"
#include "train/data/webnlg.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s XML_FILE_OR_DIR OUT.json\n", argv[0]);
    return 2;
  }
  try {
    const auto entries = petl::data::read_webnlg(argv[1]);
    petl::data::write_text_file_atomic(argv[2], petl::data::webnlg_to_prefix_tuning_json(entries));
    size_t texts = 0;
    for (const auto& entry : entries) texts += entry.lexicalisations.size();
    std::printf("%zu entries, %zu lexicalisations -> %s\n", entries.size(), texts, argv[2]);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "petl_webnlg_json: %s\n", error.what());
    return 1;
  }
  return 0;
}
