#include "safetensors.hpp"
#include "json_config.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/io/zip_archive.hpp"

namespace exporters::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; tensors borrow it unconverted");

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kSupportedDtypes = "F32 F16 I32 I64 BOOL I8 U8";

[[noreturn]] void fail(const fs::path& path, const std::string& problem) {
  throw std::runtime_error(fmt::format("{}: {}", path.string(), problem));
}

// A read-only private mapping of a whole file; tensors read from it keep it
// alive through a shared_ptr.
class MappedFile {
 public:
  explicit MappedFile(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail(path, fmt::format("cannot open safetensors file: {}", std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      fail(path, fmt::format("cannot stat safetensors file: {}", std::strerror(err)));
    }
    if (!S_ISREG(st.st_mode)) {
      ::close(fd);
      fail(path, "not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        int err = errno;
        ::close(fd);
        fail(path, fmt::format("cannot memory-map safetensors file: {}", std::strerror(err)));
      }
      data_ = static_cast<const uint8_t*>(p);
      register_mapped_range(data_, size_);  // writers may give back pages of consumed weights
    }
    ::close(fd);  // the mapping stays valid without the descriptor
  }
  ~MappedFile() {
    if (data_ != nullptr) {
      unregister_mapped_range(data_);
      ::munmap(const_cast<uint8_t*>(data_), size_);
    }
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

struct Entry {
  std::string name;
  ir::DType dtype;
  ir::Shape shape;
  uint64_t begin = 0;
  uint64_t end = 0;
  bool bfloat16 = false;  // stored as BF16, read as F32
};

std::string json_kind(const json& j) { return j.type_name(); }

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

Entry parse_entry(const fs::path& path, const std::string& name, const json& j,
                  uint64_t data_size, bool bfloat16_as_f32) {
  if (!j.is_object())
    fail(path, fmt::format("header entry '{}' is a {}, expected an object with dtype, shape "
                           "and data_offsets", name, json_kind(j)));
  Entry e;
  e.name = name;

  auto dt = j.find("dtype");
  if (dt == j.end()) fail(path, fmt::format("tensor '{}' has no 'dtype'", name));
  if (!dt->is_string())
    fail(path, fmt::format("tensor '{}' has a 'dtype' that is a {}, expected a string", name,
                           json_kind(*dt)));
  const auto& dtype_str = dt->get_ref<const std::string&>();
  auto dtype = dtype_from_safetensors_name(dtype_str);
  if (!dtype && bfloat16_as_f32 && dtype_str == "BF16") {
    dtype = ir::DType::F16;  // same element size; converted when the tensor is made
    e.bfloat16 = true;
  }
  if (!dtype)
    fail(path, fmt::format("tensor '{}' has dtype '{}', which is not supported (supported: {})",
                           name, dtype_str, kSupportedDtypes));
  e.dtype = *dtype;

  auto sh = j.find("shape");
  if (sh == j.end()) fail(path, fmt::format("tensor '{}' has no 'shape'", name));
  if (!sh->is_array())
    fail(path, fmt::format("tensor '{}' has a 'shape' that is a {}, expected an array", name,
                           json_kind(*sh)));
  uint64_t numel = 1;
  bool overflow = false;
  for (const auto& d : *sh) {
    if (!d.is_number_unsigned())
      fail(path, fmt::format("tensor '{}' has shape {}: dimensions must be non-negative integers",
                             name, sh->dump()));
    uint64_t dim = d.get<uint64_t>();
    if (dim > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, dim, &numel))
      overflow = true;
    e.shape.push_back(static_cast<int64_t>(dim));
  }

  auto off = j.find("data_offsets");
  if (off == j.end()) fail(path, fmt::format("tensor '{}' has no 'data_offsets'", name));
  if (!off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned())
    fail(path, fmt::format("tensor '{}' has data_offsets {}, expected [begin, end] with "
                           "non-negative integers", name, off->dump()));
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  if (e.begin > e.end)
    fail(path, fmt::format("tensor '{}' has data_offsets [{}, {}] with begin after end", name,
                           e.begin, e.end));
  if (e.end > data_size)
    fail(path, fmt::format("tensor '{}' has data_offsets [{}, {}] out of range: the data "
                           "section holds {} bytes", name, e.begin, e.end, data_size));

  uint64_t nbytes = 0;
  if (overflow || __builtin_mul_overflow(numel, ir::dtype_size(e.dtype), &nbytes))
    fail(path, fmt::format("tensor '{}' has shape {} whose size overflows", name, sh->dump()));
  if (nbytes != e.end - e.begin)
    fail(path, fmt::format("tensor '{}' size mismatch: {} {} needs {} bytes but data_offsets "
                           "[{}, {}] span {} bytes", name, dtype_str, sh->dump(), nbytes,
                           e.begin, e.end, e.end - e.begin));
  return e;
}

std::map<std::string, std::string> parse_metadata(const fs::path& path, const json& j) {
  if (!j.is_object())
    fail(path, fmt::format("'__metadata__' is a {}, expected an object of strings", json_kind(j)));
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string())
      fail(path, fmt::format("'__metadata__' entry '{}' is a {}, expected a string", key,
                             json_kind(value)));
    out[key] = value.get<std::string>();
  }
  return out;
}

}  // namespace

std::string safetensors_dtype_name(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::F32: return "F32";
    case ir::DType::F16: return "F16";
    case ir::DType::I32: return "I32";
    case ir::DType::I64: return "I64";
    case ir::DType::Bool: return "BOOL";
    case ir::DType::I8: return "I8";
    case ir::DType::U8: return "U8";
  }
  throw std::logic_error("safetensors_dtype_name: invalid DType");
}

std::optional<ir::DType> dtype_from_safetensors_name(std::string_view name) {
  if (name == "F32") return ir::DType::F32;
  if (name == "F16") return ir::DType::F16;
  if (name == "I32") return ir::DType::I32;
  if (name == "I64") return ir::DType::I64;
  if (name == "BOOL") return ir::DType::Bool;
  if (name == "I8") return ir::DType::I8;
  if (name == "U8") return ir::DType::U8;
  return std::nullopt;
}

SafetensorsFile read_safetensors_file(const fs::path& path) { return read_safetensors_file(path, false); }

SafetensorsFile read_safetensors_file(const fs::path& path, bool bfloat16_as_f32) {
  auto file = std::make_shared<MappedFile>(path);
  const uint8_t* base = file->data();
  const uint64_t size = file->size();

  if (size < 8)
    fail(path, fmt::format("truncated: the file is {} bytes, shorter than the 8-byte header "
                           "length", size));
  const uint64_t header_len = read_u64_le(base);
  if (header_len > size - 8)
    fail(path, fmt::format("truncated or corrupt: the header length {} runs past the end of "
                           "the file ({} bytes after the length field)", header_len, size - 8));

  json header;
  try {
    header = parse_json(std::string_view(reinterpret_cast<const char*>(base + 8), header_len));
  } catch (const json::exception& e) {
    fail(path, fmt::format("the header is not valid JSON: {}", e.what()));
  }
  if (!header.is_object())
    fail(path, fmt::format("the header is a JSON {}, expected an object", json_kind(header)));

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = size - data_start;

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      out.metadata = parse_metadata(path, value);
      continue;
    }
    entries.push_back(parse_entry(path, name, value, data_size, bfloat16_as_f32));
  }

  // Non-empty tensors must not share bytes.
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries)
    if (e.end > e.begin) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const Entry& prev = *by_offset[i - 1];
    const Entry& cur = *by_offset[i];
    if (cur.begin < prev.end)
      fail(path, fmt::format("tensors '{}' [{}, {}] and '{}' [{}, {}] overlap", prev.name,
                             prev.begin, prev.end, cur.name, cur.begin, cur.end));
  }

  std::shared_ptr<const void> keepalive = file;
  for (const auto& e : entries) {
    const uint8_t* p = base + data_start + e.begin;
    if (e.bfloat16) {
      // bfloat16 is the high half of a float32.
      ir::Tensor t = ir::Tensor::zeros(ir::DType::F32, e.shape);
      uint32_t* dst = t.mutable_as<uint32_t>();
      for (int64_t i = 0; i < t.numel(); ++i) {
        uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        dst[i] = static_cast<uint32_t>(h) << 16;
      }
      out.tensors.emplace(e.name, std::move(t));
      continue;
    }
    // Borrow in place unless the writer left the data misaligned for its type.
    if (reinterpret_cast<uintptr_t>(p) % ir::dtype_size(e.dtype) == 0)
      out.tensors.emplace(e.name, ir::Tensor::borrow(e.dtype, e.shape, p, keepalive));
    else
      out.tensors.emplace(e.name, ir::Tensor::copy_of(e.dtype, e.shape, p));
  }
  return out;
}

std::map<std::string, ir::Tensor> read_safetensors(const fs::path& path) {
  return read_safetensors_file(path).tensors;
}

void write_safetensors(const fs::path& path, const std::map<std::string, ir::Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json meta = json::object();
  meta["format"] = "pt";
  for (const auto& [key, value] : metadata) meta[key] = value;

  json header = json::object();
  header["__metadata__"] = meta;
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {  // std::map: sorted name order
    if (name == "__metadata__")
      fail(path, "cannot write a tensor named '__metadata__' (reserved by safetensors)");
    if (!tensor.defined() || (tensor.nbytes() > 0 && tensor.data() == nullptr))
      fail(path, fmt::format("cannot write tensor '{}': it has no data", name));
    json shape = json::array();
    for (int64_t d : tensor.shape()) shape.push_back(d);
    header[name] = {{"dtype", safetensors_dtype_name(tensor.dtype())},
                    {"shape", shape},
                    {"data_offsets", {offset, offset + tensor.nbytes()}}};
    offset += tensor.nbytes();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');

  static std::atomic<unsigned> counter{0};
  fs::path tmp = path;
  tmp += fmt::format(".tmp-{}-{}", ::getpid(), counter++);

  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (f == nullptr)
    fail(path, fmt::format("cannot create temporary file {}: {}", tmp.string(),
                           std::strerror(errno)));
  auto abandon = [&](const std::string& what) {
    int err = errno;
    std::fclose(f);
    std::error_code ec;
    fs::remove(tmp, ec);
    fail(path, fmt::format("{}: {}", what, std::strerror(err)));
  };

  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(uint64_t{text.size()} >> (8 * i));
  if (std::fwrite(len, 1, 8, f) != 8 || std::fwrite(text.data(), 1, text.size(), f) != text.size())
    abandon("cannot write the header");
  for (const auto& [name, tensor] : tensors) {
    if (tensor.nbytes() == 0) continue;
    if (std::fwrite(tensor.data(), 1, tensor.nbytes(), f) != tensor.nbytes())
      abandon(fmt::format("cannot write tensor '{}'", name));
  }
  if (std::fflush(f) != 0 || ::fsync(::fileno(f)) != 0) abandon("cannot flush the file");
  if (std::fclose(f) != 0) {
    int err = errno;
    std::error_code ec;
    fs::remove(tmp, ec);
    fail(path, fmt::format("cannot close the file: {}", std::strerror(err)));
  }

  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail(path, fmt::format("cannot move the finished file into place: {}", ec.message()));
  }
}

}  // namespace exporters::io
