// exporters validate MODEL_DIR EXPORTED_FILE [--inputs X.safetensors] [--atol A]
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/command.hpp"
#include "core/export/export_pipeline.hpp"

namespace exporters::cli {

namespace {

struct ValidateOptions {
  std::string model_dir;
  std::string exported_file;
  std::string inputs;    // .safetensors with the inputs; empty = example / generated
  std::string dump_dir;  // --dump-validation
  std::string precision; // "" = detect from the file
  double atol = 0;       // 0 = default of the precision
};

int run_validate(const ValidateOptions& options, const GlobalOptions&) {
  exporting::ValidationSettings settings;
  if (!options.inputs.empty()) settings.inputs = options.inputs;
  if (!options.dump_dir.empty()) settings.dump_dir = options.dump_dir;
  if (options.atol > 0) settings.atol = options.atol;
  auto report = exporting::validate_export(options.model_dir, options.exported_file, settings, options.precision,
                                           [](const std::string& m) { fmt::print(stderr, "exporters: {}\n", m); });
  fmt::print("{}", report.to_string());
  return report.pass() ? 0 : kExitFailure;
}

}  // namespace

void add_validate_command(CLI::App& app, CommandContext& context) {
  auto options = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand(
      "validate", "Run an exported file and the original model on the same inputs and compare");
  cmd->add_option("MODEL_DIR", options->model_dir, "The Hugging Face model folder it was exported from")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("EXPORTED_FILE", options->exported_file, ".mlpackage or .tflite")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_option("--inputs", options->inputs,
                  "Inputs as a .safetensors file (input.<name>; default: the model's example inputs or generated)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--atol", options->atol,
                  "Allowed error, scaled by max(1, |output|) (default 1e-4; 1e-2 relative for float16 files)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--precision", options->precision, "Tolerance class (default: detected from the file)")
      ->check(CLI::IsMember({"float32", "float16"}));
  cmd->add_option("--dump-validation", options->dump_dir,
                  "Write expected.safetensors and actual.safetensors to this folder");
  cmd->callback([&context, options] {
    context.action = [&context, options] { return run_validate(*options, context.global); };
  });
}

}  // namespace exporters::cli
