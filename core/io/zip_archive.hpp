// A read-only, memory-mapped view of a zip archive's entries (ZIP64
// included). The TorchScript frontend uses it to hand LibTorch the bytes of
// model.pt without copying the stored (uncompressed) tensor records.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace exporters::io {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;         // 0 = stored, 8 = deflate
  uint64_t data_offset = 0;    // of the entry's (compressed) bytes in the file
  uint64_t compressed_size = 0;
  uint64_t size = 0;           // uncompressed
};

class MappedZip {
 public:
  // Maps the file and reads its central directory. Throws
  // std::runtime_error naming the file and the defect (not a zip,
  // truncated, an entry outside the file).
  explicit MappedZip(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  const uint8_t* data() const { return static_cast<const uint8_t*>(map_.get()); }
  uint64_t size() const { return size_; }
  // Owner of the mapping (private, copy-on-write: writes never reach the file).
  const std::shared_ptr<void>& mapping() const { return map_; }

  const std::vector<ZipEntry>& entries() const { return entries_; }
  // An entry's uncompressed bytes (stored or deflated); throws naming the
  // file and entry for other methods or damaged data.
  std::string read(const ZipEntry& entry) const;
  // The stored entry whose bytes start at `offset`, if any.
  const ZipEntry* stored_entry_at(uint64_t offset) const;

 private:
  std::filesystem::path path_;
  std::shared_ptr<void> map_;
  uint64_t size_ = 0;
  std::vector<ZipEntry> entries_;
  std::vector<const ZipEntry*> stored_by_offset_;  // sorted by data_offset
};

// Gives back the resident pages of a mapped archive's bytes once a writer
// has consumed them (weights converted into an output file): a base-sized
// export then does not hold every input weight and every output weight in
// memory at once. Only whole pages inside [p, p + n) of a live MappedZip
// are dropped; their bytes stay readable (the kernel maps them again from
// the file on the next access). Other memory is left alone.
void release_mapped_pages(const void* p, size_t n);
// Makes another read-only private file mapping (a safetensors checkpoint)
// eligible for release_mapped_pages while it lives.
void register_mapped_range(const void* p, size_t n);
void unregister_mapped_range(const void* p);

}  // namespace exporters::io
