// exporters validate MODEL_DIR EXPORTED_FILE [--inputs X.safetensors] [--atol A]
#include <memory>
#include <string>

#include "cli/command.hpp"

namespace exporters::cli {

namespace {

struct ValidateOptions {
  std::string model_dir;
  std::string exported_file;
  std::string inputs;  // .safetensors with the inputs; empty = generated
  double atol = 1e-4;
};

int run_validate(const ValidateOptions& options, const GlobalOptions& global) {
  return not_implemented("validate");
}

}  // namespace

void add_validate_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Run an exported file and the original model on the same inputs and compare");
  cmd->add_option("MODEL_DIR", options->model_dir, "The Hugging Face model folder it was exported from")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("EXPORTED_FILE", options->exported_file, ".mlpackage, .mlmodel or .tflite")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("--inputs", options->inputs, "Inputs as a .safetensors file (default: generated)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--atol", options->atol, "Largest allowed absolute difference")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->callback([&context, options] {
    context.action = [&context, options] { return run_validate(*options, context.global); };
  });
}

}  // namespace exporters::cli
