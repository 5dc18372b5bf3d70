// exporters inspect EXPORTED_FILE
#include <memory>
#include <string>

#include "cli/command.hpp"

namespace exporters::cli {

namespace {

struct InspectOptions {
  std::string exported_file;
};

int run_inspect(const InspectOptions& options, const GlobalOptions& global) {
  return not_implemented("inspect");
}

}  // namespace

void add_inspect_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show an exported file's inputs, outputs, metadata and op histogram");
  cmd->add_option("EXPORTED_FILE", options->exported_file, ".mlpackage, .mlmodel or .tflite")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->callback([&context, options] {
    context.action = [&context, options] { return run_inspect(*options, context.global); };
  });
}

}  // namespace exporters::cli
