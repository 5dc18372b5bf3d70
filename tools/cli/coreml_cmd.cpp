// exporters coreml MODEL_DIR -o Model.mlpackage ...
#include <memory>
#include <string>
#include <vector>

#include "cli/command.hpp"

namespace exporters::cli {

namespace {

struct CoremlOptions {
  std::string model_dir;
  std::string output;
  std::string quantize = "float32";
  bool legacy = false;
  std::string task;
  std::string target = "iOS15";
  std::vector<std::string> shapes;  // NAME=d0,d1,...
  int sequence_length = 0;          // 0 = the plugin's default
  int batch_size = 1;
  std::string author;
  std::string license;
  std::string model_version;
  std::string description;
  bool no_validate = false;
};

int run_coreml(const CoremlOptions& options, const GlobalOptions& global) {
  return not_implemented("coreml");
}

}  // namespace

void add_coreml_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<CoremlOptions>();
  CLI::App* cmd = app.add_subcommand(
      "coreml", "Export a model to Core ML (.mlpackage ML Program, or .mlmodel with --legacy)");
  cmd->add_option("MODEL_DIR", options->model_dir,
                  "Hugging Face model folder with model.pt and config.json (or a bare .pt)")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("-o,--output", options->output, "Output path (Model.mlpackage or Model.mlmodel)")
      ->required();
  cmd->add_option("--quantize", options->quantize, "Weight precision")
      ->check(CLI::IsMember({"float32", "float16", "int8", "palettize2", "palettize4",
                             "palettize6", "palettize8"}))
      ->capture_default_str();
  cmd->add_flag("--legacy", options->legacy, "Write a NeuralNetwork .mlmodel instead of an ML Program");
  cmd->add_option("--task", options->task, "Task / HF class to export (default: from config.json)");
  cmd->add_option("--target", options->target, "Minimum deployment target")
      ->check(CLI::IsMember({"iOS15", "iOS16", "iOS17", "iOS18"}))
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
  cmd->add_option("--author", options->author, "Author metadata");
  cmd->add_option("--license", options->license, "License metadata");
  cmd->add_option("--version", options->model_version, "Version metadata of the exported model");
  cmd->add_option("--description", options->description, "Description metadata");
  cmd->add_flag("--no-validate", options->no_validate,
                "Skip the numerical check of the written file against the original model");
  cmd->callback([&context, options] {
    context.action = [&context, options] { return run_coreml(*options, context.global); };
  });
}

}  // namespace exporters::cli
