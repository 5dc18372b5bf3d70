// Finds and loads libexporters-torch.so, the first time a trace is read or
// run. Host side only: no LibTorch include, no LibTorch link.
#include "core/frontend/trace_frontend.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <system_error>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace exporters::frontend {

namespace fs = std::filesystem;

namespace {

bool is_inside(const fs::path& file, const fs::path& dir) {
  std::error_code ec;
  const fs::path f = fs::weakly_canonical(file, ec);
  if (ec) return false;
  const fs::path d = fs::weakly_canonical(dir, ec);
  if (ec) return false;
  return std::mismatch(d.begin(), d.end(), f.begin(), f.end()).first == d.end();
}

// The module, loaded once; the library is never closed: graphs and the
// weights they borrow hold code from the module and from LibTorch.
TraceFrontend* load_trace_module() {
  const fs::path file = trace_module_path();
  auto* library = new boost::dll::shared_library;
  boost::dll::fs::error_code ec;
  ::dlerror();
  // RTLD_NOW: a missing symbol is one error now, not a crash mid-export.
  library->load(boost::dll::fs::path(file.string()),
                boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec || !library->is_loaded()) {
    const char* detail = ::dlerror();
    delete library;
    throw FrontendError(fmt::format("cannot load the LibTorch module {}: {}", file.string(),
                                    detail ? detail : ec.message()));
  }
  if (!library->has(kTraceModuleEntrySymbol)) {
    delete library;
    throw FrontendError(fmt::format("cannot load the LibTorch module {}: it does not export \"{}\"",
                                    file.string(), kTraceModuleEntrySymbol));
  }
  auto& entry = library->get<const TraceModuleEntry*()>(kTraceModuleEntrySymbol);
  const TraceModuleEntry* e = entry();
  if (e == nullptr || e->interface_version != kTraceFrontendInterface) {
    const int version = e ? e->interface_version : -1;
    delete library;
    throw FrontendError(fmt::format(
        "cannot load the LibTorch module {}: it implements frontend interface {}, this exporters needs {} "
        "(a module from another build)",
        file.string(), version, kTraceFrontendInterface));
  }
  if (e->frontend == nullptr) {
    delete library;
    throw FrontendError(fmt::format("cannot load the LibTorch module {}: its entry returned no frontend", file.string()));
  }
  return e->frontend;
}

}  // namespace

fs::path trace_module_path() {
  if (const char* env = std::getenv("EXPORTERS_TORCH_MODULE"); env && *env) {
    // Named explicitly: no fallback to another copy.
    return fs::path(env);
  }
  std::vector<fs::path> candidates;
  boost::dll::fs::error_code ec;
  const fs::path program = boost::dll::program_location(ec).string();
  const fs::path build_module = EXPORTERS_BUILD_TORCH_MODULE;
  const fs::path build_root = EXPORTERS_BUILD_ROOT;
  // An installed copy must not load a module from a build tree that
  // happens to still exist; the build tree counts only for its own programs.
  if (!ec && is_inside(program, build_root)) candidates.push_back(build_module);
  // Relative to the executable, so a moved or DESTDIR-staged install finds
  // its own module; then the configured prefix.
  if (!ec) candidates.push_back((program.parent_path() / EXPORTERS_TORCH_MODULE_FROM_BINDIR).lexically_normal());
  candidates.push_back(fs::path(EXPORTERS_INSTALLED_TORCH_MODULE));
  for (const auto& c : candidates) {
    std::error_code fec;
    if (fs::is_regular_file(c, fec)) return c;
  }
  std::vector<std::string> shown;
  for (const auto& c : candidates) shown.push_back(c.string());
  throw FrontendError(fmt::format("the LibTorch module {} (TorchScript frontend and validation) was not found; "
                                  "looked for {} (set EXPORTERS_TORCH_MODULE to its path)",
                                  kTraceModuleFile, fmt::join(shown, ", ")));
}

TraceFrontend& trace_frontend() {
  // Not call_once: a failed load throws, and the next call tries again.
  static std::mutex mutex;
  static TraceFrontend* frontend = nullptr;
  std::lock_guard lock(mutex);
  if (!frontend) frontend = load_trace_module();
  return *frontend;
}

std::unique_ptr<TraceArchive> open_trace(const fs::path& model_pt) {
  // The archive is checked and mapped here, before LibTorch is loaded: a
  // missing or broken model.pt costs no LibTorch start-up.
  auto zip = open_trace_zip(model_pt);
  return trace_frontend().load(model_pt, std::move(zip));
}

}  // namespace exporters::frontend
