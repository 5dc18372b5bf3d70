// exporters tflite MODEL_DIR -o model.tflite ...
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/export_common.hpp"

namespace exporters::cli {

void add_tflite_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ExportCommandOptions>();
  options->target_format = "tflite";
  CLI::App* cmd = app.add_subcommand("tflite", "Export a model to TensorFlow Lite (.tflite)");
  add_common_export_options(cmd, *options);
  cmd->add_option("--quantize", options->quantize,
                  "float32, float16 (fp16 weights + DEQUANTIZE) or dynamic-int8 (per-channel int8 weights)")
      ->check(CLI::IsMember({"float32", "float16", "dynamic-int8"}))
      ->capture_default_str();
  cmd->add_option("--description", options->description, "Model description");
  cmd->callback([&context, options] {
    context.action = [&context, options] { return run_export_command(*options, context.global); };
  });
}

}  // namespace exporters::cli
