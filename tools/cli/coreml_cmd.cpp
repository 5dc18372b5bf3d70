// exporters coreml MODEL_DIR -o Model.mlpackage ...
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/export_common.hpp"

namespace exporters::cli {

namespace {

int run_coreml(ExportCommandOptions options, bool legacy, const GlobalOptions& global) {
  options.target_format = legacy ? "coreml-legacy" : "coreml";
  return run_export_command(options, global);
}

}  // namespace

void add_coreml_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ExportCommandOptions>();
  auto legacy = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "coreml", "Export a model to Core ML (.mlpackage ML Program, or .mlmodel with --legacy)");
  add_common_export_options(cmd, *options);
  cmd->add_option("--quantize", options->quantize, "Weight and compute precision")
      ->check(CLI::IsMember({"float32", "float16"}))
      ->capture_default_str();
  cmd->add_flag("--legacy", *legacy, "Write a NeuralNetwork .mlmodel instead of an ML Program");
  cmd->add_option("--target", options->os_target, "Minimum deployment target (sets the spec version and opset)")
      ->check(CLI::IsMember({"iOS15", "iOS16", "iOS17", "iOS18"}))
      ->capture_default_str();
  cmd->add_option("--author", options->author, "Author metadata");
  cmd->add_option("--license", options->license, "License metadata");
  cmd->add_option("--version", options->model_version, "Version metadata of the exported model");
  cmd->add_option("--description", options->description, "Short description metadata");
  cmd->callback([&context, options, legacy] {
    context.action = [&context, options, legacy] { return run_coreml(*options, *legacy, context.global); };
  });
}

}  // namespace exporters::cli
