#include "blob_storage.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <vector>

#include "coreml.hpp"
#include "core/io/staged_output.hpp"
#include "core/io/zip_archive.hpp"

namespace exporters::coreml {

namespace {

struct BlobMetadata {  // 64 bytes, little-endian on disk
  uint32_t sentinel;
  uint32_t dtype;
  uint64_t size_in_bytes;
  uint64_t offset;
  uint64_t padding_size_in_bits;
  uint64_t reserved[4];
};
static_assert(sizeof(BlobMetadata) == 64);

struct FileHeader {  // 64 bytes
  uint32_t count;
  uint32_t version;
  uint8_t reserved[56];
};
static_assert(sizeof(FileHeader) == 64);

uint64_t align_up(uint64_t v) { return (v + kBlobAlignment - 1) / kBlobAlignment * kBlobAlignment; }

}  // namespace

BlobDType blob_dtype_for(ir::DType dtype) {
  switch (dtype) {
    case ir::DType::F16: return BlobDType::F16;
    case ir::DType::F32: return BlobDType::F32;
    case ir::DType::U8: return BlobDType::U8;
    case ir::DType::I8: return BlobDType::I8;
    case ir::DType::I32: return BlobDType::I32;
    default: break;
  }
  throw CoreMLError("weight blob: dtype " + std::string(ir::dtype_name(dtype)) +
                    " cannot be stored in weight.bin");
}

BlobStorageWriter::BlobStorageWriter(std::filesystem::path file) : path_(std::move(file)) {
  out_.open(path_, std::ios::binary | std::ios::trunc);
  if (!out_) throw CoreMLError(io::describe_errno(path_, "cannot create the weight file"));
  FileHeader header{};
  header.version = kBlobFormatVersion;
  write(&header, sizeof header);
}

BlobStorageWriter::~BlobStorageWriter() = default;

void BlobStorageWriter::write(const void* bytes, size_t n) {
  out_.write(static_cast<const char*>(bytes), static_cast<std::streamsize>(n));
  if (!out_) throw CoreMLError(io::describe_errno(path_, "write failed"));
  pos_ += n;
}

uint64_t BlobStorageWriter::append(const ir::Tensor& tensor, bool as_f16) {
  const bool convert = as_f16 && tensor.dtype() == ir::DType::F32;
  const ir::DType stored = convert ? ir::DType::F16 : tensor.dtype();
  const uint64_t meta_offset = align_up(pos_);
  static const std::array<char, kBlobAlignment> zeros{};
  if (meta_offset > pos_) write(zeros.data(), meta_offset - pos_);

  const uint64_t count = static_cast<uint64_t>(tensor.numel());
  BlobMetadata meta{};
  meta.sentinel = kBlobSentinel;
  meta.dtype = static_cast<uint32_t>(blob_dtype_for(stored));
  meta.size_in_bytes = count * ir::dtype_size(stored);
  meta.offset = meta_offset + sizeof(BlobMetadata);
  write(&meta, sizeof meta);

  if (!convert) {
    write(tensor.data(), tensor.nbytes());
  } else {
    // fp16 conversion in fixed-size chunks (no full-size copy); finite
    // values beyond the fp16 range saturate to +-65504 so "finfo.min"
    // masks stay finite.
    constexpr size_t kChunk = 1 << 16;
    std::vector<uint16_t> buf(std::min<uint64_t>(kChunk, count));
    const float* src = tensor.data_as<float>();
    for (uint64_t i = 0; i < count; i += kChunk) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, count - i));
      ir::floats_to_halves(src + i, buf.data(), n, /*saturate=*/true);
      write(buf.data(), n * sizeof(uint16_t));
    }
  }
  io::release_mapped_pages(tensor.data(), tensor.nbytes());
  ++count_;
  return meta_offset;
}

void BlobStorageWriter::finish() {
  out_.seekp(0);
  out_.write(reinterpret_cast<const char*>(&count_), sizeof count_);
  out_.flush();
  if (!out_) throw CoreMLError(io::describe_errno(path_, "write failed"));
  out_.close();
  if (out_.fail()) throw CoreMLError(io::describe_errno(path_, "close failed"));
}

BlobStorageReader::BlobStorageReader(const std::filesystem::path& file) : path_(file) {
  int fd = ::open(file.c_str(), O_RDONLY);
  if (fd < 0) throw CoreMLError(file.string() + ": cannot open weight file");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    throw CoreMLError(file.string() + ": cannot stat weight file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ < sizeof(FileHeader)) {
    ::close(fd);
    throw CoreMLError(file.string() + ": truncated weight file (" + std::to_string(size_) +
                      " bytes, header needs 64)");
  }
  void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw CoreMLError(file.string() + ": cannot map weight file");
  const uint64_t len = size_;
  map_ = std::shared_ptr<const void>(p, [len](const void* q) { ::munmap(const_cast<void*>(q), len); });
  FileHeader header;
  std::memcpy(&header, p, sizeof header);
  if (header.version != kBlobFormatVersion)
    throw CoreMLError(file.string() + ": unsupported blob storage version " +
                      std::to_string(header.version) + " (expected 2)");
  count_ = header.count;
}

ir::Tensor BlobStorageReader::read(uint64_t offset, ir::DType dtype, const ir::Shape& shape) const {
  const std::string where = path_.string() + ": blob at offset " + std::to_string(offset);
  if (offset < sizeof(FileHeader) || offset > size_ || size_ - offset < sizeof(BlobMetadata))
    throw CoreMLError(where + " is outside the file (" + std::to_string(size_) + " bytes)");
  BlobMetadata meta;
  std::memcpy(&meta, static_cast<const char*>(map_.get()) + offset, sizeof meta);
  if (meta.sentinel != kBlobSentinel) throw CoreMLError(where + " has a bad sentinel");
  if (meta.dtype != static_cast<uint32_t>(blob_dtype_for(dtype)))
    throw CoreMLError(where + " has blob dtype " + std::to_string(meta.dtype) +
                      " but the program declares " + std::string(ir::dtype_name(dtype)));
  const uint64_t expected = static_cast<uint64_t>(ir::shape_numel(shape)) * ir::dtype_size(dtype);
  if (meta.size_in_bytes != expected)
    throw CoreMLError(where + " holds " + std::to_string(meta.size_in_bytes) +
                      " bytes, the declared tensor needs " + std::to_string(expected));
  if (meta.offset > size_ || size_ - meta.offset < meta.size_in_bytes)
    throw CoreMLError(where + ": data runs past the end of the file");
  return ir::Tensor::borrow(dtype, shape, static_cast<const char*>(map_.get()) + meta.offset, map_);
}

uint64_t BlobStorageReader::data_bytes() const {
  uint64_t total = 0, pos = sizeof(FileHeader);
  for (uint32_t i = 0; i < count_; ++i) {
    pos = align_up(pos);
    if (pos > size_ || size_ - pos < sizeof(BlobMetadata)) break;
    BlobMetadata meta;
    std::memcpy(&meta, static_cast<const char*>(map_.get()) + pos, sizeof meta);
    // Each blob's data follows its metadata inside the file; anything else
    // (a loop back, a size past the end) ends the walk, whatever `count` says.
    if (meta.sentinel != kBlobSentinel || meta.offset < pos + sizeof meta || meta.offset > size_ ||
        size_ - meta.offset < meta.size_in_bytes)
      break;
    total += meta.size_in_bytes;
    pos = meta.offset + meta.size_in_bytes;
  }
  return total;
}

}  // namespace exporters::coreml
