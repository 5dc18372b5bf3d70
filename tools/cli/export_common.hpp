// What `exporters coreml` and `exporters tflite` share: options common to
// both, plugin lookup, progress and the final report.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "cli/command.hpp"

namespace exporters::cli {

struct ExportCommandOptions {
  std::string model_dir;            // a folder, a .pt or a Hub id in the local cache
  std::string revision;             // --revision for a Hub id ("" = main)
  std::string output;
  std::string target_format;        // "coreml" | "tflite"
  std::string quantize = "float32";
  std::string task;                 // --task: HF class or task name
  std::string os_target = "iOS15";
  std::vector<std::string> shapes;  // NAME=d0,d1,...
  int sequence_length = 0;          // 0 = the plugin's default
  int batch_size = 0;               // 0 = the plugin's default (1)
  std::string author, license, model_version, description;
  bool no_validate = false;
  bool overwrite = false;
  bool no_keep_invalid = false;     // --no-keep-invalid: remove an export that fails validation
  bool profile = false;
  std::string inputs;               // --inputs for validation
  std::vector<std::string> validation_images;  // --validation-image PNG, one per batch item
  std::vector<std::string> validation_audio;   // --validation-audio WAV, one per batch item
  std::string dump_dir;             // --dump-validation
  double atol = 0;                  // 0 = default of the precision
  bool no_attention_mask = false;   // --no-attention-mask (tasks that allow it, e.g. MobileBERT)
  bool no_upsample = false;         // --no-upsample (semantic segmentation)
  bool no_argmax = false;           // --no-argmax (semantic segmentation)
  std::string image_input = "image";  // --image-input image|tensor (Core ML)
  bool fold_normalization = false;  // --fold-normalization (image tensors take pixels 0..255)
  std::string runtime = "interpreter";  // --runtime interpreter|litert (validation of .tflite files)
  std::string source;                   // --source native|trace ("" = native when the plugin can build the class)
  bool validate_only = false;       // `exporters validate`: `output` exists, compare it only
};

// Options both export commands take (model, output, shapes, validation...).
void add_common_export_options(CLI::App* cmd, ExportCommandOptions& options);
// The task, shape, head and validation options, which `exporters validate`
// takes too so it can rebuild what an export with them did.
void add_task_options(CLI::App* cmd, ExportCommandOptions& options);

// Runs the export and prints the report; returns the exit code.
int run_export_command(const ExportCommandOptions& options, const GlobalOptions& global);

}  // namespace exporters::cli
