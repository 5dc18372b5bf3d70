#include "core/io/staged_output.hpp"

#include <fcntl.h>
#include <linux/fs.h>  // RENAME_EXCHANGE
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

namespace fs = std::filesystem;

namespace exporters::io {

namespace {

// ---- What the signal handlers remove -------------------------------------
//
// Fixed slots, filled before the state flips to busy; the handler reads only
// lock-free atomics and the bytes they publish.

constexpr int kSlots = 16;
constexpr size_t kPathMax = 4096;

struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 registered
  char path[kPathMax];
  char restore_to[kPathMax];  // non-empty: rename the path back here instead (an aside copy of the old output)
};

Slot g_slots[kSlots];
static_assert(std::atomic<int>::is_always_lock_free);

struct LinuxDirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[1];
};

// rm -r with system calls only (no malloc, no opendir): safe in a handler.
void remove_tree_at(int dirfd, const char* name, int depth) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return;
  if (depth > 32) return;
  for (int pass = 0; pass < 4; ++pass) {
    int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    alignas(8) char buf[2048];
    for (;;) {
      long n = ::syscall(SYS_getdents64, fd, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        auto* d = reinterpret_cast<LinuxDirent64*>(buf + off);
        off += d->d_reclen;
        const char* e = d->d_name;
        if (e[0] == '.' && (e[1] == 0 || (e[1] == '.' && e[2] == 0))) continue;
        remove_tree_at(fd, e, depth + 1);
      }
    }
    ::close(fd);
    // Another thread may still be adding files: try again a few times.
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT) return;
  }
}

void clean_registered() {
  for (auto& slot : g_slots) {
    if (slot.state.load(std::memory_order_acquire) != 2) continue;
    if (slot.restore_to[0] && ::rename(slot.path, slot.restore_to) == 0) continue;
    remove_tree_at(AT_FDCWD, slot.path, 0);
  }
}

constexpr int kCleanedSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void on_fatal_signal(int sig) {
  const int saved = errno;
  clean_registered();
  // The default action (terminate) with the original signal, so the parent
  // sees how we died.
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  errno = saved;
  ::raise(sig);
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int sig : kCleanedSignals) {
      struct sigaction old {};
      if (::sigaction(sig, nullptr, &old) != 0) continue;
      // An ignored signal (nohup) or someone else's handler stays as it is.
      if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
      struct sigaction sa {};
      sa.sa_handler = on_fatal_signal;
      sigemptyset(&sa.sa_mask);
      for (int other : kCleanedSignals) sigaddset(&sa.sa_mask, other);
      ::sigaction(sig, &sa, nullptr);
    }
    // A file-size limit (ulimit -f) becomes EFBIG from write(), reported as an error.
    ::signal(SIGXFSZ, SIG_IGN);
  });
}

int register_path(const fs::path& path, const fs::path& restore_to = {}) {
  install_handlers_once();
  const std::string p = fs::absolute(path).string();
  const std::string r = restore_to.empty() ? std::string() : fs::absolute(restore_to).string();
  if (p.size() >= kPathMax || r.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (!g_slots[i].state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(g_slots[i].path, p.c_str(), p.size() + 1);
    std::memcpy(g_slots[i].restore_to, r.c_str(), r.size() + 1);
    g_slots[i].state.store(2, std::memory_order_release);
    return i;
  }
  return -1;  // more than kSlots outputs at once: still cleaned on errors, not on signals
}

void unregister(int slot) {
  if (slot >= 0) g_slots[slot].state.store(0, std::memory_order_release);
}

std::string random_hex() {
  static std::mutex m;
  static std::mt19937_64 rng{std::random_device{}()};
  std::lock_guard lock(m);
  return fmt::format("{:08x}", static_cast<uint32_t>(rng()));
}

// ".<stem>.<tag>-<pid>-<hex><ext>"
fs::path sibling(const fs::path& out, const char* tag) {
  fs::path parent = out.parent_path();
  if (parent.empty()) parent = ".";
  return parent / fmt::format(".{}.{}-{}-{}{}", out.stem().string(), tag, ::getpid(), random_hex(),
                              out.extension().string());
}

void remove_quietly(const fs::path& p) {
  std::error_code ec;
  fs::remove_all(p, ec);
}

// Test hook (EXPORTERS_TEST_PAUSE_BEFORE_COMMIT_MS): waits before placing the
// output so tests can interrupt an export while its temporary exists.
void test_pause() {
  const char* ms = std::getenv("EXPORTERS_TEST_PAUSE_BEFORE_COMMIT_MS");
  if (!ms || !*ms) return;
  std::fprintf(stderr, "exporters: pausing %s ms before placing the output (EXPORTERS_TEST_PAUSE_BEFORE_COMMIT_MS)\n", ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(std::atol(ms)));
}

}  // namespace

std::string describe_errno(const fs::path& path, const std::string& what) {
  return fmt::format("{}: {}: {}", path.string(), what, std::strerror(errno));
}

fs::path invalid_output_path(const fs::path& out) {
  return out.parent_path() / (out.stem().string() + ".invalid" + out.extension().string());
}

size_t remove_stale_temporaries(const fs::path& out) {
  fs::path parent = out.parent_path();
  if (parent.empty()) parent = ".";
  const std::string stem = out.stem().string(), ext = out.extension().string();
  size_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::string rest;
    for (const char* tag : {".tmp-", ".old-"}) {
      const std::string prefix = "." + stem + tag;
      if (name.size() > prefix.size() + ext.size() && name.compare(0, prefix.size(), prefix) == 0 &&
          name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
        rest = name.substr(prefix.size(), name.size() - prefix.size() - ext.size());
    }
    // rest = "<pid>-<8 hex>"
    const size_t dash = rest.find('-');
    if (dash == std::string::npos || dash == 0 || rest.size() != dash + 9) continue;
    if (rest.find_first_not_of("0123456789") != dash) continue;
    if (rest.find_first_not_of("0123456789abcdef", dash + 1) != std::string::npos) continue;
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    if (pid <= 0 || pid == ::getpid()) continue;
    // Only a process that is gone: a live (or unknown) owner keeps its file.
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
    if (!rm) ++removed;
  }
  return removed;
}

StagedOutput::StagedOutput(fs::path out, OutputKind kind, bool overwrite) : out_(std::move(out)), kind_(kind) {
  if (!out_.has_filename()) out_ = out_.parent_path();  // "X.mlpackage/"
  std::error_code ec;
  const auto status = fs::symlink_status(out_, ec);
  if (fs::exists(status)) {
    if (kind == OutputKind::Directory && !fs::is_directory(status))
      throw OutputError(out_.string() + ": exists and is not a directory (an .mlpackage is a directory)");
    if (kind == OutputKind::File && fs::is_directory(status))
      throw OutputError(out_.string() + ": is a directory");
    if (!overwrite) throw OutputError(out_.string() + ": already exists (pass --overwrite to replace it)");
  }
  fs::path parent = out_.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) throw OutputError(fmt::format("{}: cannot create the folder {}: {}", out_.string(), parent.string(), ec.message()));
  }
  remove_stale_temporaries(out_);
  tmp_ = sibling(out_, "tmp");
  slot_ = register_path(tmp_);
  if (kind == OutputKind::Directory) {
    if (::mkdir(tmp_.c_str(), 0777) != 0) {
      const std::string message = describe_errno(out_, "cannot write in its folder");
      unregister(slot_);
      throw OutputError(message);
    }
  } else {
    // Fail now, before the export's work, when the folder is not writable.
    int fd = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      const std::string message = describe_errno(out_, "cannot write in its folder");
      unregister(slot_);
      throw OutputError(message);
    }
    ::close(fd);
  }
}

StagedOutput::~StagedOutput() {
  if (!done_) discard();
}

void StagedOutput::discard() {
  if (done_) return;
  remove_quietly(tmp_);
  unregister(slot_);
  done_ = true;
}

void StagedOutput::commit_to(const fs::path& target_arg) {
  if (done_) throw OutputError(out_.string() + ": already placed");
  test_pause();
  const fs::path target = target_arg.has_filename() ? target_arg : target_arg.parent_path();
  std::error_code ec;
  const bool replacing = fs::exists(fs::symlink_status(target, ec));
  if (kind_ == OutputKind::File || !replacing) {
    // A file rename replaces the target atomically.
    if (replacing && kind_ == OutputKind::File && fs::is_directory(target, ec)) {
      discard();
      throw OutputError(target.string() + ": is a directory");
    }
    if (::rename(tmp_.c_str(), target.c_str()) != 0) {
      const std::string message = describe_errno(target, "cannot move the finished output into place");
      discard();
      throw OutputError(message);
    }
    unregister(slot_);
    done_ = true;
    return;
  }
  if (!fs::is_directory(target, ec)) {
    discard();
    throw OutputError(target.string() + ": exists and is not a directory");
  }
  // Swap the new package with the old one in one step, then drop the old.
  if (::syscall(SYS_renameat2, AT_FDCWD, tmp_.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    done_ = true;  // tmp_ now holds the old package, still registered
    remove_quietly(tmp_);
    unregister(slot_);
    return;
  }
  // No exchange on this file system: move the old aside (put back if we are
  // interrupted before the new one is in), move the new in, drop the old.
  const fs::path old = sibling(out_, "old");
  const int old_slot = register_path(old, target);
  if (::rename(target.c_str(), old.c_str()) != 0) {
    const std::string message = describe_errno(target, "cannot replace the existing output");
    unregister(old_slot);
    discard();
    throw OutputError(message);
  }
  if (::rename(tmp_.c_str(), target.c_str()) != 0) {
    const std::string message = describe_errno(target, "cannot move the finished output into place");
    ::rename(old.c_str(), target.c_str());
    unregister(old_slot);
    discard();
    throw OutputError(message);
  }
  unregister(slot_);
  done_ = true;
  remove_quietly(old);
  unregister(old_slot);
}

}  // namespace exporters::io
