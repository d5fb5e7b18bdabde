// Running the `train` tool (built beside the test executables) as a child process: its output
// captured to a file, optionally SIGKILLed once a log file has some lines, or run under a file-size
// limit (a full disk as far as the process sees). Also the checks a resume test needs: the log
// without its wall-clock fields and safetensors files compared byte for byte.
#pragma once
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "nn/safetensors.h"

namespace petl::testing {

inline std::filesystem::path train_exe() {
  return std::filesystem::read_symlink("/proc/self/exe").parent_path() / "train";
}

inline std::string read_whole_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline int64_t count_lines(const std::filesystem::path& p) {
  const std::string text = read_whole_file(p);
  return int64_t(std::count(text.begin(), text.end(), '\n'));
}

struct TrainResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr together
};

struct TrainRunOptions {
  std::filesystem::path kill_when_log;  // SIGKILL the process once this file has `kill_after_lines` lines
  int64_t kill_after_lines = 0;
  long file_size_limit = 0;   // RLIMIT_FSIZE in bytes (a full disk, as far as the process sees)
  const char* threads = "1";  // OMP_NUM_THREADS of the run
};

// `train args...` with OMP_NUM_THREADS=options.threads, its output in `capture`.
inline TrainResult run_train_process(const std::vector<std::string>& args, const std::filesystem::path& capture,
                                     const TrainRunOptions& options = {}) {
  std::vector<std::string> argv_storage = {train_exe().string()};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(capture.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    setenv("OMP_NUM_THREADS", options.threads, 1);
    if (options.file_size_limit > 0) {
      signal(SIGXFSZ, SIG_IGN);  // writes past the limit fail with EFBIG instead of killing the process
      rlimit limit{rlim_t(options.file_size_limit), rlim_t(options.file_size_limit)};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  if (options.kill_after_lines > 0) {
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (std::filesystem::exists(options.kill_when_log) && count_lines(options.kill_when_log) >= options.kill_after_lines) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  } else {
    waitpid(pid, &status, 0);
  }
  TrainResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.output = read_whole_file(capture);
  return r;
}

// The log's records without their wall-clock fields (tokens/s and elapsed time differ between runs).
inline std::vector<nlohmann::json> log_without_timing(const std::filesystem::path& log) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_whole_file(log));
  std::string line;
  while (std::getline(in, line)) {
    auto record = nlohmann::json::parse(line);
    record.erase("tokens_per_s");
    record.erase("elapsed_s");
    out.push_back(record);
  }
  return out;
}

// Every tensor of two safetensors files, byte for byte, and their metadata (the runs' settings
// may differ in "out" only).
inline void check_same_tensors(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::map<std::string, std::string> meta_a, meta_b;
  const auto ta = nn::load_safetensors(a, &meta_a), tb = nn::load_safetensors(b, &meta_b);
  REQUIRE(ta.size() == tb.size());
  for (auto* meta : {&meta_a, &meta_b})
    if (meta->count("petl_train_config")) {
      auto config = nlohmann::json::parse(meta->at("petl_train_config"));
      config.erase("out");
      (*meta)["petl_train_config"] = config.dump();
    }
  CHECK(meta_a == meta_b);
  for (const auto& entry : ta) {
    const std::string& name = entry.first;
    const Tensor& t = entry.second;
    INFO(name);
    REQUIRE(tb.count(name));
    const auto& u = tb.at(name);
    REQUIRE(t.shape() == u.shape());
    CHECK(std::memcmp(t.raw_data(), u.raw_data(), size_t(t.numel()) * 4) == 0);
  }
}

}  // namespace petl::testing
