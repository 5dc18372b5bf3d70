// exporters plugins [list|verify|manifest]
//   list:     what the manifests on the search path say; no plugin code runs.
//   verify:   loads every plugin (first in a child process) and registers it;
//             exit 1 if any is broken.
//   manifest: writes the manifest of a plugin library (for plugin builds).
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/command.hpp"
#include "registry/isolated_load.hpp"

namespace exporters::cli {

namespace {

using registry::PluginRecord;
using registry::PluginRegistry;
using registry::PluginState;

std::string model_types_cell(const PluginRecord& record) {
  std::string cell;
  for (const auto& type : record.manifest.model_types) {
    bool overridden = std::find(record.overridden_model_types.begin(),
                                record.overridden_model_types.end(),
                                type) != record.overridden_model_types.end();
    cell += (cell.empty() ? "" : ", ") + type + (overridden ? " (overridden)" : "");
  }
  return cell.empty() ? "-" : cell;
}

std::string status_cell(const PluginRecord& record, bool verified) {
  if (record.state == PluginState::Broken) return "broken";
  if (record.fully_overridden()) return verified ? "ok, overridden" : "overridden";
  return verified ? "ok" : "available";
}

// Who serves each model type this plugin gave up.
std::vector<std::string> override_notes(const PluginRegistry& registry, const PluginRecord& record) {
  std::vector<std::string> notes;
  for (const auto& type : record.overridden_model_types) {
    for (const auto& other : registry.plugins()) {
      if (&other == &record || other.state == PluginState::Broken) continue;
      const auto& types = other.manifest.model_types;
      if (std::find(types.begin(), types.end(), type) != types.end()) {
        notes.push_back(fmt::format("model type \"{}\" is served by {} (earlier on the search path)",
                                    type, other.file.string()));
        break;
      }
    }
  }
  return notes;
}

// The tasks a plugin serves: what it registered once loaded, else what its manifest lists.
std::string tasks_note(const PluginRecord& record) {
  std::vector<registry::ManifestTask> tasks;
  if (record.state == PluginState::Loaded) {
    for (const auto& t : record.tasks) tasks.push_back({t.task, t.hf_class});
  } else if (record.manifest.tasks) {
    tasks = *record.manifest.tasks;
  } else {
    return "tasks: not listed in its manifest (`exporters plugins verify` loads it and counts them)";
  }
  std::string note;
  for (const auto& t : tasks) note += (note.empty() ? "" : ", ") + t.task + " (" + t.hf_class + ")";
  return "tasks: " + (note.empty() ? std::string("none") : note);
}

void print_report(const PluginRegistry& registry, bool verified) {
  struct Row {
    std::vector<std::string> cells;
    std::vector<std::string> notes;
  };
  std::vector<std::string> header = {"NAME", "VERSION", "MODEL TYPES", "STATUS", "PATH"};
  if (verified) header.insert(header.begin() + 4, "TASKS");
  std::vector<Row> rows;
  for (const auto& record : registry.plugins()) {
    Row row;
    row.cells = {record.display_name(), record.manifest.version.empty() ? "-" : record.manifest.version,
                 model_types_cell(record), status_cell(record, verified), record.file.string()};
    if (verified) {
      row.cells.insert(row.cells.begin() + 4, record.state == PluginState::Loaded
                                                  ? std::to_string(record.tasks.size())
                                                  : "-");
    }
    if (record.state == PluginState::Broken) row.notes.push_back("reason: " + record.error);
    else row.notes.push_back(tasks_note(record));
    for (auto& note : override_notes(registry, record)) row.notes.push_back(std::move(note));
    rows.push_back(std::move(row));
  }

  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    widths[c] = header[c].size();
    for (const auto& row : rows) widths[c] = std::max(widths[c], row.cells[c].size());
  }
  auto print_cells = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < cells.size(); ++c) {
      line += c + 1 == cells.size() ? cells[c] : fmt::format("{:<{}}  ", cells[c], widths[c]);
    }
    fmt::print("{}\n", line);
  };
  print_cells(header);
  for (const auto& row : rows) {
    print_cells(row.cells);
    for (const auto& note : row.notes) fmt::print("    {}\n", note);
  }
}

void print_search_path(const PluginRegistry& registry) {
  fmt::print("search path:\n{}", registry::describe_search_path(registry.search_path()));
}

int run_list(const GlobalOptions& global) {
  auto registry = open_registry(global, /*print_warnings=*/false);
  if (registry->plugins().empty()) {
    fmt::print("no plugins found\n");
  } else {
    print_report(*registry, /*verified=*/false);
  }
  print_search_path(*registry);
  return 0;
}

int run_verify(const GlobalOptions& global) {
  auto registry = open_registry(global, /*print_warnings=*/false);
  // Each plugin is tried in a child first: one that crashes is reported, the others still verified.
  registry::load_all_isolated(*registry);
  size_t broken = 0;
  for (const auto& record : registry->plugins()) broken += record.state == PluginState::Broken;
  if (registry->plugins().empty()) {
    fmt::print("no plugins found\n");
  } else {
    print_report(*registry, /*verified=*/true);
  }
  print_search_path(*registry);
  fmt::print("{} plugin{}: {} ok, {} broken\n", registry->plugins().size(),
             registry->plugins().size() == 1 ? "" : "s", registry->plugins().size() - broken, broken);
  return broken == 0 ? 0 : kExitFailure;
}

int run_manifest(const std::string& library, const std::string& output) {
  try {
    registry::write_manifest(registry::describe_plugin_library_isolated(library), output);
  } catch (const registry::RegistryError& e) {
    throw CommandError(e.what());
  } catch (const registry::ManifestError& e) {
    throw CommandError(e.what());
  }
  fmt::print("wrote {}\n", output);
  return 0;
}

}  // namespace

void add_plugins_command(CLI::App& app, CommandContext& context) {
  CLI::App* cmd = app.add_subcommand(
      "plugins", "Show the installed plugins, where they come from and whether they work");
  cmd->fallthrough();
  CLI::App* list = cmd->add_subcommand(
      "list", "List plugins from their manifests, without loading them (the default)");
  list->fallthrough();
  CLI::App* verify = cmd->add_subcommand(
      "verify", "Load and register every plugin; exit code 1 if any is broken");
  verify->fallthrough();
  CLI::App* manifest = cmd->add_subcommand(
      "manifest", "Load a plugin library and write its JSON manifest (name, version, model types, tasks)");
  manifest->fallthrough();
  auto library = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  manifest->add_option("LIBRARY", *library, "The plugin's shared library (lib<name>.so)")->required();
  manifest->add_option("-o,--output", *output, "The manifest to write, beside the library (<name>.json)")
      ->required();
  cmd->require_subcommand(0, 1);

  cmd->callback([&context] {
    if (!context.action) context.action = [&context] { return run_list(context.global); };
  });
  list->callback([&context] { context.action = [&context] { return run_list(context.global); }; });
  verify->callback([&context] { context.action = [&context] { return run_verify(context.global); }; });
  manifest->callback([&context, library, output] {
    context.action = [library, output] { return run_manifest(*library, *output); };
  });
}

}  // namespace exporters::cli
