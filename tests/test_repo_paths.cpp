// Every repository path that a comment or a doc names must exist, so a reader who follows one
// lands on a real file. Scanned: *.h, *.cpp, *.cu, *.cuh, *.md, *.sh, *.py, CMakeLists.txt and
// .ci/run, outside build directories and test fixtures. Two kinds of names are checked:
//   - a path that starts with one of the repository's top-level directories and ends in an
//     extension ("tensor/kernels.h"); it must exist relative to the repository root;
//   - a bare C++/CUDA source name ("graph.cpp"); some file of that name must exist in the tree.
// A name preceded by "/" or "." (a URL, "../shared/data/...", another repository's path written
// with its owner as in "huggingface/peft/src/...") is not ours and is skipped, as are
// #include <...> lines (system and third-party headers) and, in code, string literals (run-time
// paths such as a data file under ../shared/data, not names of repository files).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct MissingPath {
  std::string file;  // where the name appears, relative to the root
  int line = 0;
  std::string name;
};

// The repository root: the nearest directory upward from the working directory (ctest runs the
// tests from the root) that holds CMakeLists.txt and autograd/.
fs::path repository_root() {
  for (fs::path dir = fs::current_path(); !dir.empty(); dir = dir.parent_path()) {
    if (fs::exists(dir / "CMakeLists.txt") && fs::is_directory(dir / "autograd")) return dir;
    if (dir == dir.parent_path()) break;
  }
  FAIL("test_repo_paths: no repository root (CMakeLists.txt next to autograd/) above " << fs::current_path());
  return {};
}

bool skipped_directory(const std::string& name) {
  return name.rfind("build", 0) == 0 || (!name.empty() && name[0] == '.' && name != ".ci");
}

bool scanned_file(const fs::path& p) {
  static const std::set<std::string> extensions = {".h", ".cpp", ".cu", ".cuh", ".md", ".sh", ".py"};
  const std::string name = p.filename().string();
  return extensions.count(p.extension().string()) || name == "CMakeLists.txt" || name == "run";
}

struct Tree {
  std::set<std::string> top_level_dirs;
  std::set<std::string> basenames;
  std::vector<fs::path> scanned;  // relative to the root
};

Tree walk(const fs::path& root) {
  Tree tree;
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.is_directory() && !skipped_directory(entry.path().filename().string()))
      tree.top_level_dirs.insert(entry.path().filename().string());
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path rel = fs::relative(it->path(), root);
    if (it->is_directory()) {
      if (skipped_directory(it->path().filename().string()) || rel == fs::path("tests/fixtures"))
        it.disable_recursion_pending();
      continue;
    }
    tree.basenames.insert(it->path().filename().string());
    if (scanned_file(rel) && (rel.parent_path() != ".ci" || rel.filename() == "run")) tree.scanned.push_back(rel);
  }
  std::sort(tree.scanned.begin(), tree.scanned.end());
  return tree;
}

bool is_code(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".h" || ext == ".cpp" || ext == ".cu" || ext == ".cuh" || ext == ".cmake" ||
         p.filename() == "CMakeLists.txt";
}

// The line without its string literals.
std::string without_strings(const std::string& line) {
  static const std::regex literal(R"("(?:[^"\\]|\\.)*")");
  return std::regex_replace(line, literal, "\"\"");
}

// The names in one line of text that do not exist in the tree.
std::vector<std::string> missing_names(const std::string& line, const fs::path& root, const Tree& tree) {
  std::vector<std::string> missing;
  if (std::regex_search(line, std::regex(R"(^\s*#\s*include\s*<)"))) return missing;
  // A run of path characters that contains a "/" or ends in a source extension, not glued to a
  // preceding path character (which would make it part of a longer, foreign path) nor followed by
  // ".word", ".{" or ".*" (a dotted module path such as "transformer.h.0.attn" or
  // "transformer.h.{i}.mlp" or "transformer.h.<i>.attn" is no file name).
  static const std::regex token(R"((^|[^\w./-])([\w-]+(?:/[\w.-]+)*\.[A-Za-z]\w*)(?!\.[\w{*<]))");
  static const std::regex source_name(R"([\w-]+\.(cpp|h|cu|cuh|hpp))");
  for (auto it = std::sregex_iterator(line.begin(), line.end(), token); it != std::sregex_iterator(); ++it) {
    std::string name = (*it)[2].str();
    const size_t slash = name.find('/');
    if (slash != std::string::npos) {
      if (!tree.top_level_dirs.count(name.substr(0, slash))) continue;
      // "tensor/cuda/context.h/.cpp" names two files: check the first (the pair is a doc idiom).
      if (const size_t pair = name.find("/."); pair != std::string::npos) name = name.substr(0, pair);
      if (!fs::exists(root / name)) missing.push_back(name);
    } else if (std::regex_match(name, source_name)) {
      if (!tree.basenames.count(name)) missing.push_back(name);
    }
  }
  return missing;
}

std::vector<MissingPath> scan(const fs::path& root) {
  const Tree tree = walk(root);
  std::vector<MissingPath> missing;
  for (const fs::path& rel : tree.scanned) {
    std::ifstream in(root / rel);
    std::string line;
    for (int n = 1; std::getline(in, line); ++n)
      for (const std::string& name : missing_names(is_code(rel) ? without_strings(line) : line, root, tree))
        missing.push_back({rel.string(), n, name});
  }
  return missing;
}

}  // namespace

TEST_CASE("the path scanner finds names that do not exist and accepts those that do") {
  const fs::path root = repository_root();
  const Tree tree = walk(root);
  REQUIRE(tree.top_level_dirs.count("autograd"));
  REQUIRE(tree.basenames.count("graph.cpp"));
  // The stale names issue 7 found in autograd/ops.h and their fixed forms.
  CHECK(missing_names("// ---- neural-network ops (ops_nn.cpp, ops_attention.cpp)", root, tree) ==
        std::vector<std::string>{"ops_nn.cpp", "ops_attention.cpp"});
  CHECK(missing_names("// defined in autograd/ops_nn.cpp", root, tree) == std::vector<std::string>{"autograd/ops_nn.cpp"});
  CHECK(missing_names("// defined in autograd/matmul.cpp and graph.cpp.", root, tree).empty());
  CHECK(missing_names("see `tensor/cuda/context.h/.cpp`", root, tree).empty());
  // A Hugging Face module path is not a file name; a name ending a sentence still is.
  CHECK(missing_names("the sites transformer.h.0.attn, transformer.h.{i}.mlp, transformer.h.*", root, tree).empty());
  CHECK(missing_names("GPT-2 `transformer.h.<i>.attn.heads`", root, tree).empty());
  CHECK(missing_names("see nothing_here.h.", root, tree) == std::vector<std::string>{"nothing_here.h"});
  // Not ours: URLs, paths outside the repository, other repositories, system headers.
  CHECK(missing_names("https://github.com/x/y/blob/main/tensor/nothing_here.cpp", root, tree).empty());
  CHECK(missing_names("../shared/data/gpt2/encoder.json", root, tree).empty());
  CHECK(missing_names("huggingface/peft/src/peft/tuners/lora/layer.py", root, tree).empty());
  CHECK(missing_names("#include <cuda_runtime_api_not_ours.h>", root, tree).empty());
  CHECK(without_strings("data_path(\"tokenizer/gpt2_encodings.jsonl\");  // see tensor/x.h") ==
        "data_path(\"\");  // see tensor/x.h");
}

TEST_CASE("every repository path named in a comment or doc exists") {
  const std::vector<MissingPath> missing = scan(repository_root());
  std::ostringstream report;
  for (const MissingPath& m : missing) report << "\n  " << m.file << ":" << m.line << " names " << m.name;
  INFO("names of files that do not exist:" << report.str());
  CHECK(missing.empty());
}
