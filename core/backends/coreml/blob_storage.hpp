// MIL blob storage (weights/weight.bin, format version 2): a 64-byte file
// header, then per blob a 64-byte metadata record (sentinel 0xDEADBEEF)
// followed by the raw data, every record starting on a 64-byte boundary.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>

#include "exporters/ir/tensor.hpp"

namespace exporters::coreml {

inline constexpr uint32_t kBlobSentinel = 0xDEADBEEF;
inline constexpr uint32_t kBlobFormatVersion = 2;
inline constexpr uint64_t kBlobAlignment = 64;

// Blob dtype codes (not the MIL DataType numbers).
enum class BlobDType : uint32_t { F16 = 1, F32 = 2, U8 = 3, I8 = 4, I32 = 14 };

class BlobStorageWriter {
 public:
  explicit BlobStorageWriter(std::filesystem::path file);
  ~BlobStorageWriter();

  // Appends `tensor` (F32/F16/U8/I8), converted to fp16 when `as_f16` is set
  // (chunked, without a full copy). Returns the offset of its metadata record.
  uint64_t append(const ir::Tensor& tensor, bool as_f16);
  // Writes the blob count into the header and closes the file.
  void finish();

 private:
  void write(const void* bytes, size_t n);
  std::filesystem::path path_;
  std::ofstream out_;
  uint64_t pos_ = 0;
  uint32_t count_ = 0;
};

// Memory-maps a weight.bin and hands out tensors borrowing its bytes.
class BlobStorageReader {
 public:
  explicit BlobStorageReader(const std::filesystem::path& file);

  // The blob whose metadata record is at `offset`; checks range, sentinel,
  // dtype and size against the declared tensor type.
  ir::Tensor read(uint64_t offset, ir::DType dtype, const ir::Shape& shape) const;

  uint32_t count() const { return count_; }
  uint64_t size() const { return size_; }
  // Sum of data sizes over all blobs (walks the records from the start).
  uint64_t data_bytes() const;

 private:
  std::filesystem::path path_;
  std::shared_ptr<const void> map_;
  uint64_t size_ = 0;
  uint32_t count_ = 0;
};

BlobDType blob_dtype_for(ir::DType dtype);  // throws for unsupported dtypes

}  // namespace exporters::coreml
