// The `exporters` command line: global options, then one subcommand.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <exception>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.hpp"
#include "exporters_config.h"

int main(int argc, char** argv) {
  using namespace exporters::cli;
  CommandContext context;

  CLI::App app{"Export Hugging Face Transformers models (TorchScript traces) to Core ML and TFLite.",
               "exporters"};
  app.set_version_flag("--version", std::string("exporters ") + EXPORTERS_VERSION);
  app.add_option("--plugin-path", context.global.plugin_path,
                 "Colon-separated folders searched for plugins before EXPORTERS_PLUGIN_PATH, "
                 "the build tree, ~/.local/lib/exporters/plugins and the installed plugins")
      ->type_name("DIR[:DIR...]");
  app.fallthrough();  // global options may also follow the subcommand

  add_coreml_command(app, context);
  add_tflite_command(app, context);
  add_validate_command(app, context);
  add_inspect_command(app, context);
  add_plugins_command(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    fmt::print(stderr, "exporters: error: {}\n", e.what());
    return kExitUsage;
  }

  if (!context.action) {
    fmt::print(stderr, "{}", app.help());
    return kExitUsage;
  }
  int rc = kExitFailure;
  try {
    rc = context.action();
  } catch (const CommandError& e) {
    fmt::print(stderr, "exporters: error: {}\n", e.what());
    rc = e.exit_code();
  } catch (const std::exception& e) {
    fmt::print(stderr, "exporters: error: {}\n", e.what());
    rc = kExitFailure;
  }
  // Every output is written, closed and renamed (or cleaned up) by now.
  // Leave without static destructors and frees: LibTorch's teardown
  // (unregistering thousands of operators) and unmapping the model took a
  // tenth of a base-sized export.
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(rc);
}
