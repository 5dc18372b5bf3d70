#include "core/frontend/trace_archive.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string_view>
#include <system_error>

#include "core/io/zip_archive.hpp"

namespace exporters::frontend {

namespace fs = std::filesystem;

std::shared_ptr<const io::MappedZip> open_trace_zip(const fs::path& model_pt) {
  std::error_code ec;
  if (!fs::exists(model_pt, ec)) throw FrontendError(fmt::format("{}: no such file", model_pt.string()));
  if (fs::is_directory(model_pt, ec))
    throw FrontendError(fmt::format("{}: is a directory, expected a TorchScript model.pt", model_pt.string()));
  try {
    return std::make_shared<const io::MappedZip>(model_pt);
  } catch (const std::exception& e) {
    std::string reason = e.what();  // "<path>: <defect>"
    if (reason.rfind(model_pt.string() + ": ", 0) == 0) reason.erase(0, model_pt.string().size() + 2);
    throw FrontendError(fmt::format("{}: not a loadable TorchScript archive ({})", model_pt.string(), reason));
  }
}

namespace {

// A forward-only reader over the first bytes of a pickle. Every read checks
// the bounds; a short or odd pickle just ends the parse.
class PickleReader {
 public:
  explicit PickleReader(std::string_view bytes) : bytes_(bytes) {}

  bool at_end() const { return pos_ >= bytes_.size(); }
  int peek() const { return at_end() ? -1 : static_cast<unsigned char>(bytes_[pos_]); }
  int next() { return at_end() ? -1 : static_cast<unsigned char>(bytes_[pos_++]); }
  bool skip(uint64_t n) {
    if (n > bytes_.size() - pos_) return false;
    pos_ += static_cast<size_t>(n);
    return true;
  }
  std::optional<uint64_t> little_endian(int width) {
    if (static_cast<size_t>(width) > bytes_.size() - pos_) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
    pos_ += static_cast<size_t>(width);
    return v;
  }
  std::optional<std::string> bytes(uint64_t n) {
    if (n > bytes_.size() - pos_) return std::nullopt;
    std::string s(bytes_.substr(pos_, static_cast<size_t>(n)));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  // A '\n'-terminated line (GLOBAL's operands, PUT's index).
  std::optional<std::string> line() {
    const size_t nl = bytes_.find('\n', pos_);
    if (nl == std::string_view::npos) return std::nullopt;
    std::string s(bytes_.substr(pos_, nl - pos_));
    pos_ = nl + 1;
    return s;
  }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// Opcodes (pickle protocols 2-5) that store the top of the stack in the
// memo; they may follow any push and change nothing we look at.
bool skip_memo(PickleReader& r) {
  for (;;) {
    switch (r.peek()) {
      case 'q': r.next(); if (!r.skip(1)) return false; break;          // BINPUT
      case 'r': r.next(); if (!r.skip(4)) return false; break;          // LONG_BINPUT
      case 'p': r.next(); if (!r.line()) return false; break;           // PUT
      case 0x94: r.next(); break;                                       // MEMOIZE
      default: return true;
    }
  }
}

// A string operand of STACK_GLOBAL.
std::optional<std::string> string_push(PickleReader& r) {
  std::optional<uint64_t> n;
  switch (r.next()) {
    case 0x8c: n = r.little_endian(1); break;  // SHORT_BINUNICODE
    case 'X': n = r.little_endian(4); break;   // BINUNICODE
    case 0x8d: n = r.little_endian(8); break;  // BINUNICODE8
    case 'U': n = r.little_endian(1); break;   // SHORT_BINSTRING
    case 'T': n = r.little_endian(4); break;   // BINSTRING
    default: return std::nullopt;
  }
  if (!n) return std::nullopt;
  return r.bytes(*n);
}

bool is_dotted_name(const std::string& s) {
  if (s.empty() || s.size() > 1024) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') return false;
  return s.front() != '.' && s.back() != '.';
}

std::optional<TracedClass> root_class_of_pickle(std::string_view pickle) {
  PickleReader r(pickle);
  if (r.peek() == 0x80) {  // PROTO n
    r.next();
    if (!r.skip(1)) return std::nullopt;
  }
  if (r.peek() == 0x95) {  // FRAME (protocol 4+): an 8-byte length
    r.next();
    if (!r.skip(8)) return std::nullopt;
  }
  TracedClass cls;
  if (r.peek() == 'c') {  // GLOBAL "module\nname\n" (TorchScript's pickler)
    r.next();
    auto module = r.line();
    auto name = module ? r.line() : std::nullopt;
    if (!name) return std::nullopt;
    cls = {*module, *name};
  } else {  // STACK_GLOBAL: module and name pushed as strings
    auto module = string_push(r);
    if (!module || !skip_memo(r)) return std::nullopt;
    auto name = string_push(r);
    if (!name || !skip_memo(r) || r.next() != 0x93) return std::nullopt;
    cls = {*module, *name};
  }
  if (!is_dotted_name(cls.module) || !is_dotted_name(cls.name)) return std::nullopt;
  // The class must be what the root object is built from: no arguments,
  // then NEWOBJ (or REDUCE). Anything else is not an object's pickle.
  if (!skip_memo(r)) return std::nullopt;
  int op = r.next();
  if (op == '(') {  // MARK ... TUPLE with nothing between: an empty tuple too
    if (r.next() != 't') return std::nullopt;
  } else if (op != ')') {
    return std::nullopt;
  }
  if (!skip_memo(r)) return std::nullopt;
  op = r.next();
  if (op != 0x81 && op != 'R') return std::nullopt;
  return cls;
}

}  // namespace

std::optional<TracedClass> traced_root_class(const io::MappedZip& zip) {
  const auto& entries = zip.entries();
  if (entries.empty()) return std::nullopt;
  // Like LibTorch's reader: the archive's records live under the folder of
  // its first record ("archive/", or the name the module was saved under).
  const std::string& first = entries.front().name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos) return std::nullopt;
  const std::string wanted = first.substr(0, slash) + "/data.pkl";
  for (const io::ZipEntry& e : entries) {
    if (e.name != wanted) continue;
    if (e.method == 0) {
      // Stored (torch.jit.save's way): the class is in the first bytes;
      // look at no more of the mapping than that.
      const uint64_t n = std::min<uint64_t>(e.size, 4096);
      return root_class_of_pickle(std::string_view(reinterpret_cast<const char*>(zip.data() + e.data_offset),
                                                   static_cast<size_t>(n)));
    }
    return root_class_of_pickle(zip.read(e));  // deflated: data.pkl holds no weights, it is small
  }
  return std::nullopt;
}

std::optional<TracedClass> traced_root_class(const fs::path& model_pt) {
  return traced_root_class(*open_trace_zip(model_pt));
}

}  // namespace exporters::frontend
