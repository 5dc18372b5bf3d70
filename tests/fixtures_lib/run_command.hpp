// Runs a shell command for the CLI tests and captures what it prints
// (stdout and stderr together when the command says `2>&1`). Header-only so
// test executables that link nothing else can use it.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace exporters::testing {

struct CommandRun {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string output;
};

inline CommandRun run_command(const std::string& command) {
  CommandRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.output.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

}  // namespace exporters::testing
