#include "train/lib/run_log.h"

#include <fstream>
#include <sstream>
#include <string>

#include "nn/atomic_file.h"
#include "tensor/error.h"

namespace petl::train {

RunLog::RunLog(std::filesystem::path path, int64_t keep_through_step) : path_(std::move(path)) {
  std::string kept;
  if (keep_through_step >= 0 && std::filesystem::exists(path_)) {
    std::ifstream in(path_, std::ios::binary);
    std::string line;
    int64_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      nlohmann::json record;
      try {
        record = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        if (in.peek() == std::char_traits<char>::eof()) break;  // the torn last line of a killed run
        throw Error(path_.string() + ":" + std::to_string(number) + ": not a JSON line (the log is damaged)");
      }
      PETL_CHECK(record.is_object() && record.contains("step") && record["step"].is_number_integer(), path_.string(),
                 ":", number, ": a log line without an integer \"step\"");
      if (record["step"].get<int64_t>() > keep_through_step) break;
      kept += line + "\n";
      records_.push_back(std::move(record));
    }
  }
  nn::write_file_atomic(path_, kept);
  file_ = std::fopen(path_.c_str(), "ab");
  PETL_CHECK(file_ != nullptr, path_.string(), ": cannot open the run log for appending");
}

RunLog::~RunLog() {
  if (file_) std::fclose(file_);
}

void RunLog::write(const nlohmann::json& record) {
  const std::string line = record.dump() + "\n";
  PETL_CHECK(std::fwrite(line.data(), 1, line.size(), file_) == line.size() && std::fflush(file_) == 0,
             path_.string(), ": writing the run log failed (disk full?)");
  records_.push_back(record);
}

}  // namespace petl::train
