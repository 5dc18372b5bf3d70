#include "registry/isolated_load.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace exporters::registry {

namespace {

// "SIGSEGV (Segmentation fault)"
std::string describe_signal(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  const char* text = ::strsignal(sig);
  return fmt::format("SIG{} ({})", abbrev ? abbrev : std::to_string(sig).c_str(), text ? text : "unknown signal");
}

void write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

ChildResult run_in_child(const std::function<std::string()>& work, std::chrono::seconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {std::nullopt, fmt::format("cannot create a pipe: {}", std::strerror(errno))};
  std::fflush(nullptr);  // nothing buffered is written twice
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {std::nullopt, fmt::format("cannot fork: {}", std::strerror(errno))};
  }
  if (pid == 0) {
    ::close(fds[0]);
    // First byte: 'v' value or 'e' error message; then the text.
    std::string message;
    try {
      message = "v" + work();
    } catch (const std::exception& e) {
      message = std::string("e") + e.what();
    } catch (...) {
      message = "ethrew a non-standard exception";
    }
    write_all(fds[1], message);
    ::_exit(0);  // no atexit handlers or static destructors of the parent's state
  }
  ::close(fds[1]);
  std::string received;
  bool timed_out = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    char buf[4096];
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EOF: the child is done or dead
    received.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) return {std::nullopt, fmt::format("did not finish within {} s (killed)", timeout.count())};
  if (WIFSIGNALED(status)) return {std::nullopt, "crashed with " + describe_signal(WTERMSIG(status))};
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || received.empty())
    return {std::nullopt, fmt::format("exited with status {} without finishing", WIFEXITED(status) ? WEXITSTATUS(status) : -1)};
  if (received[0] == 'e') return {std::nullopt, received.substr(1)};
  return {received.substr(1), {}};
}

void PluginRegistry::report_broken(size_t index, const std::string& reason) {
  PluginRecord& record = plugins_.at(index);
  mark_broken(record, reason);
  warn(fmt::format("skipping plugin {}: {}", record.manifest.library_path.string(), reason));
}

void load_all_isolated(PluginRegistry& registry) {
  for (size_t i = 0; i < registry.plugins().size(); ++i) {
    if (registry.plugins()[i].state != PluginState::Discovered) continue;
    // The child only has to survive; the parent then loads for real (a
    // plugin that is merely broken fails here again with its own reason).
    ChildResult probe = run_in_child([&registry, i] {
      registry.load(i);
      return std::string("done");
    });
    if (!probe.value) {
      registry.report_broken(i, probe.failure + " while loading or registering");
      continue;
    }
    registry.load(i);
  }
}

PluginManifest describe_plugin_library_isolated(const fs::path& library_path) {
  ChildResult result = run_in_child([&] { return manifest_to_json(describe_plugin_library(library_path)); });
  if (!result.value) {
    // describe_plugin_library's own errors already name the file.
    if (result.failure.find(library_path.string()) != std::string::npos) throw RegistryError(result.failure);
    throw RegistryError(fmt::format("{}: {} while loading or registering", library_path.string(), result.failure));
  }
  // The manifest belongs beside the library; parse it as if it were there.
  return parse_manifest(*result.value, library_path.parent_path() / "manifest.json");
}

}  // namespace exporters::registry
