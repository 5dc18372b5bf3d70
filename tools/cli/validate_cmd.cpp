// exporters validate MODEL_DIR EXPORTED_FILE [--inputs X.safetensors] [--atol A]
//                    [the task/shape/head options used for the export]
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/export_common.hpp"
#include "core/export/target.hpp"

namespace exporters::cli {

namespace {

int run_validate(ExportCommandOptions options, const GlobalOptions& global) {
  options.target_format = exporting::target_for_file(options.output).name;
  options.validate_only = true;
  return run_export_command(options, global);
}

}  // namespace

void add_validate_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ExportCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate",
      "Run an exported file and the original model on the same inputs and compare (pass the task, shape and "
      "head options the export used)");
  cmd->add_option("MODEL", options->model_dir,
                  "The Hugging Face model folder (or Hub id in the local cache) it was exported from")
      ->required();
  cmd->add_option("EXPORTED_FILE", options->output, ".mlpackage, .mlmodel or .tflite")
      ->required()
      ->check(CLI::ExistingPath);
  add_task_options(cmd, *options);
  cmd->add_option("--quantize", options->quantize,
                  "Precision the file was exported with, for the tolerance (float16 is also detected from the file)")
      ->check(CLI::IsMember({"float32", "float16", "dynamic-int8"}))
      ->capture_default_str();
  cmd->callback([&context, options] {
    context.action = [&context, options] { return run_validate(*options, context.global); };
  });
}

}  // namespace exporters::cli
