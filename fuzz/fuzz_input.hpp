// Shared by the harnesses: a private scratch folder (readers that take a
// path get the fuzz input written there) and splitting one input into the
// several files a format needs.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace exporters::fuzz {

// One folder per process (libFuzzer's -jobs/-fork run several at once),
// removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path d = std::filesystem::path(tmp && *tmp ? tmp : "/tmp") /
                              ("exporters-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static struct Cleanup {
      std::filesystem::path d;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(d, ec);
      }
    } cleanup{d};
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Splits an input into `n` parts at the separator line "\n--8<--\n" (the
// last part takes the rest; missing parts are empty). A text separator
// keeps seeds readable and lets the fuzzer grow or shrink one part without
// breaking the others' framing.
inline std::vector<std::string_view> split_parts(const uint8_t* data, size_t size, size_t n) {
  static constexpr std::string_view kSeparator = "\n--8<--\n";
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < n) {
    const size_t at = rest.find(kSeparator);
    if (at == std::string_view::npos) break;
    parts.push_back(rest.substr(0, at));
    rest.remove_prefix(at + kSeparator.size());
  }
  parts.push_back(rest);
  parts.resize(n);
  return parts;
}

// Reads every byte of a buffer so that a view past the real data is caught
// by AddressSanitizer here, not later.
inline unsigned touch(const void* p, size_t n) {
  const volatile uint8_t* b = static_cast<const uint8_t*>(p);
  unsigned sum = 0;
  for (size_t i = 0; i < n; ++i) sum += b[i];
  return sum;
}

}  // namespace exporters::fuzz
