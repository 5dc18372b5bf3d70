// exporters tflite MODEL_DIR -o model.tflite ...
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace exporters::cli {

namespace {

struct TfliteOptions {
  std::string model_dir;
  std::string output;
  std::string quantize = "float32";
  std::vector<std::string> shapes;  // NAME=d0,d1,...
  int sequence_length = 0;          // 0 = the plugin's default
  int batch_size = 1;
};

int run_tflite(const TfliteOptions& options, const GlobalOptions& global) {
  return not_implemented("tflite");
}

}  // namespace

void add_tflite_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<TfliteOptions>();
  CLI::App* cmd = app.add_subcommand("tflite", "Export a model to TensorFlow Lite (.tflite)");
  cmd->add_option("MODEL_DIR", options->model_dir,
                  "Hugging Face model folder with model.pt and config.json (or a bare .pt)")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("-o,--output", options->output, "Output path (model.tflite)")->required();
  cmd->add_option("--quantize", options->quantize, "Weight / activation precision")
      ->check(CLI::IsMember({"float32", "float16", "dynamic-int8", "int8"}))
      ->capture_default_str();
  cmd->add_option("--shape", options->shapes, "Fix an input's shape, NAME=d0,d1,... (repeatable)")
      ->type_name("NAME=DIMS")
      ->allow_extra_args(false);  // one value per --shape, repeat the flag for more
  cmd->add_option("--sequence-length", options->sequence_length,
                  "Sequence length of text inputs (default: the plugin's)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--batch-size", options->batch_size, "Batch size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([&context, options] {
    context.action = [&context, options] { return run_tflite(*options, context.global); };
  });
}

}  // namespace exporters::cli
