// exporters inspect EXPORTED_FILE
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/command.hpp"
#include "core/backends/coreml/coreml.hpp"
#include "core/backends/coreml/neuralnetwork/nn_model.hpp"
#include "core/backends/tflite/tflite.hpp"

namespace exporters::cli {

namespace {

struct InspectOptions {
  std::string exported_file;
};

int run_inspect(const InspectOptions& options, const GlobalOptions&) {
  std::filesystem::path file = options.exported_file;
  const std::string ext = file.extension().string();
  if (ext == ".tflite") {
    fmt::print("{}", tflite::format_summary(tflite::summarize_tflite(file)));
  } else if (ext == ".mlpackage") {
    fmt::print("{}", coreml::format_summary(coreml::summarize_mlpackage(file)));
  } else if (ext == ".mlmodel") {
    fmt::print("{}", coreml::format_summary(coreml::summarize_mlmodel(file)));
  } else {
    throw CommandError(fmt::format("{}: unknown file type (expected .mlpackage, .mlmodel or .tflite)", file.string()));
  }
  return 0;
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
