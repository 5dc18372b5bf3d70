// Every exported file or package is written through a temporary sibling and
// renamed into place only when complete, by this one mechanism:
//
// * the temporary is `.<stem>.tmp-<pid>-<hex><ext>` beside the output, so the
//   process that owns it is provable from its name (the extension is kept so
//   readers and runtimes recognise the format while it is validated);
// * SIGINT, SIGTERM and SIGHUP remove every registered temporary (with
//   async-signal-safe system calls only) before the signal's default action
//   ends the process;
// * after a SIGKILL, the next StagedOutput for the same output removes the
//   temporaries whose process no longer exists;
// * SIGXFSZ is ignored, so a file-size limit is a write error, not a kill.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>

namespace exporters::io {

// A failure to stage, write or place an output; the message names the path.
class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class OutputKind { File, Directory };

class StagedOutput {
 public:
  // Fails (OutputError) when `out` exists and `overwrite` is false, when it
  // exists with the other kind, or when its folder cannot be written. A
  // Directory temporary is created; a File temporary is only named.
  StagedOutput(std::filesystem::path out, OutputKind kind, bool overwrite);
  ~StagedOutput();  // removes the temporary unless it was committed
  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;

  // Where the writer writes.
  const std::filesystem::path& path() const { return tmp_; }
  const std::filesystem::path& output() const { return out_; }

  // Renames the temporary to the output, replacing an existing one (with
  // --overwrite; directories are swapped atomically where the kernel can).
  void commit() { commit_to(out_); }
  // Renames the temporary to `other`, replacing whatever is there.
  void commit_to(const std::filesystem::path& other);
  // Removes the temporary now.
  void discard();

 private:
  std::filesystem::path out_, tmp_;
  OutputKind kind_;
  int slot_ = -1;  // registration with the signal handlers
  bool done_ = false;
};

// `X.invalid.mlpackage` for `X.mlpackage`: where an export that failed
// validation is kept.
std::filesystem::path invalid_output_path(const std::filesystem::path& out);

// Removes the temporaries beside `out` left by processes that no longer
// exist (named as above). Returns how many were removed.
size_t remove_stale_temporaries(const std::filesystem::path& out);

// A message for the last failed system call on `path`: "<path>: <what>: <strerror(errno)>".
std::string describe_errno(const std::filesystem::path& path, const std::string& what);

}  // namespace exporters::io
