// Shared pieces of the `exporters` subcommands. Each subcommand lives in its
// own source file and adds itself to the CLI11 app with add_<name>_command;
// parsing only records which action to run, main() runs it and turns any
// exception into one error line and a non-zero exit code.
#pragma once

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include <CLI/CLI.hpp>

#include "registry/plugin_registry.hpp"

namespace exporters::cli {

// Exit codes: 0 success, 1 the command failed, 2 bad usage / not implemented.
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct GlobalOptions {
  std::string plugin_path;  // --plugin-path, colon-separated
};

struct CommandContext {
  GlobalOptions global;
  std::function<int()> action;  // set by the parsed subcommand
};

// An error the user can fix; main() prints "exporters: error: <message>".
class CommandError : public std::runtime_error {
 public:
  explicit CommandError(const std::string& message, int exit_code = kExitFailure)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// The registry on the standard search path. When `print_warnings` is true,
// warnings go to stderr as "exporters: warning: ..." as they happen.
std::unique_ptr<registry::PluginRegistry> open_registry(const GlobalOptions& global,
                                                        bool print_warnings = true);

// Prints "exporters <command>: not implemented yet" and returns kExitUsage.
int not_implemented(const std::string& command);

void add_plugins_command(CLI::App& app, CommandContext& context);
void add_coreml_command(CLI::App& app, CommandContext& context);
void add_tflite_command(CLI::App& app, CommandContext& context);
void add_validate_command(CLI::App& app, CommandContext& context);
void add_inspect_command(CLI::App& app, CommandContext& context);

}  // namespace exporters::cli
