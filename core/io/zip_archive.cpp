#include "core/io/zip_archive.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <zlib.h>

namespace exporters::io {

namespace {

// Record signatures and fixed sizes from the zip application note (APPNOTE).
constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;    // 22 bytes + comment
constexpr uint32_t kZip64EndLocator = 0x07064b50;          // 20 bytes
constexpr uint32_t kZip64EndOfCentralDirectory = 0x06064b50;  // 56 bytes + extensible data
constexpr uint32_t kCentralFileHeader = 0x02014b50;        // 46 bytes + name/extra/comment
constexpr uint32_t kLocalFileHeader = 0x04034b50;          // 30 bytes + name/extra
constexpr uint16_t kZip64ExtraField = 0x0001;
constexpr uint32_t kSaturated32 = 0xffffffffu;
// Deflate's best case: 258 bytes per 2-bit code, about 1032 to 1 (zlib's
// technical notes); 1040 leaves room for the block headers.
constexpr uint64_t kMaxDeflateRatio = 1040;

// Live mappings, for release_mapped_pages.
std::mutex live_mutex;
std::vector<std::pair<uintptr_t, uintptr_t>> live_ranges;

template <typename T>
T read_le(const uint8_t* p) {
  T v = 0;
  for (size_t i = 0; i < sizeof(T); ++i) v |= static_cast<T>(p[i]) << (8 * i);
  return v;
}

}  // namespace

MappedZip::MappedZip(const std::filesystem::path& path) : path_(path) {
  const std::string file = path.string();
  auto fail = [&](const std::string& what) { return std::runtime_error(fmt::format("{}: {}", file, what)); };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw fail("cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw fail("not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ < 22) {
    ::close(fd);
    throw fail("not a zip archive (too short)");
  }
  // Private and writable: LibTorch may write into a tensor it was handed;
  // copy-on-write keeps the file untouched.
  void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) throw fail("cannot map");
  const uint64_t len = size_;
  {
    std::lock_guard lock(live_mutex);
    live_ranges.emplace_back(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(p) + len);
  }
  map_ = std::shared_ptr<void>(p, [len](void* q) {
    {
      std::lock_guard lock(live_mutex);
      std::erase(live_ranges, std::pair{reinterpret_cast<uintptr_t>(q), reinterpret_cast<uintptr_t>(q) + len});
    }
    ::munmap(q, len);
  });
  const uint8_t* d = data();

  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  uint64_t eocd = size_;
  const uint64_t lowest = size_ > 22 + 65535 ? size_ - 22 - 65535 : 0;
  for (uint64_t pos = size_ - 22 + 1; pos-- > lowest;) {
    if (read_le<uint32_t>(d + pos) == kEndOfCentralDirectory &&
        pos + 22 + read_le<uint16_t>(d + pos + 20) == size_) {
      eocd = pos;
      break;
    }
  }
  if (eocd == size_) throw fail("not a zip archive (no end of central directory)");
  uint64_t count = read_le<uint16_t>(d + eocd + 10);
  uint64_t cd_size = read_le<uint32_t>(d + eocd + 12);
  uint64_t cd_offset = read_le<uint32_t>(d + eocd + 16);
  if (eocd >= 20 && read_le<uint32_t>(d + eocd - 20) == kZip64EndLocator) {
    const uint64_t z64 = read_le<uint64_t>(d + eocd - 20 + 8);
    if (z64 > size_ || size_ - z64 < 56 || read_le<uint32_t>(d + z64) != kZip64EndOfCentralDirectory)
      throw fail("bad ZIP64 end of central directory");
    count = read_le<uint64_t>(d + z64 + 32);
    cd_size = read_le<uint64_t>(d + z64 + 40);
    cd_offset = read_le<uint64_t>(d + z64 + 48);
  }
  if (cd_offset > size_ || size_ - cd_offset < cd_size) throw fail("central directory outside the file");

  // Every entry takes at least 46 bytes of the directory: a larger count is
  // a lie, not something to reserve memory for.
  if (count > cd_size / 46) throw fail(fmt::format("central directory of {} bytes cannot hold {} entries", cd_size, count));
  entries_.reserve(count);
  uint64_t pos = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (cd_end - pos < 46 || read_le<uint32_t>(d + pos) != kCentralFileHeader)
      throw fail(fmt::format("central directory entry {} is damaged", i));
    ZipEntry e;
    e.method = read_le<uint16_t>(d + pos + 10);
    e.compressed_size = read_le<uint32_t>(d + pos + 20);
    e.size = read_le<uint32_t>(d + pos + 24);
    const uint16_t name_len = read_le<uint16_t>(d + pos + 28);
    const uint16_t extra_len = read_le<uint16_t>(d + pos + 30);
    const uint16_t comment_len = read_le<uint16_t>(d + pos + 32);
    uint64_t local = read_le<uint32_t>(d + pos + 42);
    if (cd_end - pos - 46 < uint64_t{name_len} + extra_len + comment_len)
      throw fail(fmt::format("central directory entry {} runs past the directory", i));
    e.name.assign(reinterpret_cast<const char*>(d + pos + 46), name_len);
    // ZIP64 extra field: 8-byte values for exactly the saturated fields, in
    // the order uncompressed size, compressed size, local header offset.
    const uint8_t* extra = d + pos + 46 + name_len;
    for (uint16_t x = 0; x + 4 <= extra_len;) {
      const uint16_t id = read_le<uint16_t>(extra + x), n = read_le<uint16_t>(extra + x + 2);
      if (x + 4 + n > extra_len) break;
      if (id == kZip64ExtraField) {
        const uint8_t* f = extra + x + 4;
        uint16_t used = 0;
        auto next = [&](uint64_t& field) {
          if (field != kSaturated32) return;
          if (used + 8 > n) throw fail(fmt::format("entry '{}': short ZIP64 extra field", e.name));
          field = read_le<uint64_t>(f + used);
          used += 8;
        };
        next(e.size);
        next(e.compressed_size);
        next(local);
      }
      x = static_cast<uint16_t>(x + 4 + n);
    }
    if (local > size_ || size_ - local < 30 || read_le<uint32_t>(d + local) != kLocalFileHeader)
      throw fail(fmt::format("entry '{}': bad local header", e.name));
    e.data_offset = local + 30 + read_le<uint16_t>(d + local + 26) + read_le<uint16_t>(d + local + 28);
    if (e.data_offset > size_ || size_ - e.data_offset < e.compressed_size)
      throw fail(fmt::format("entry '{}' runs past the end of the file", e.name));
    // A stored entry's bytes are its data: both sizes must agree, or a
    // reader trusting `size` runs past the entry (and the file).
    if (e.method == 0 && e.size != e.compressed_size)
      throw fail(fmt::format("stored entry '{}' declares {} bytes but holds {}", e.name, e.size, e.compressed_size));
    // Deflate expands at most ~1032:1; a larger claim is a lie that would
    // otherwise be allocated before inflating.
    if (e.method == 8 && e.size / kMaxDeflateRatio > e.compressed_size)
      throw fail(fmt::format("deflated entry '{}' declares {} bytes from {} compressed bytes, more than deflate can give",
                             e.name, e.size, e.compressed_size));
    entries_.push_back(std::move(e));
    pos += 46 + uint64_t{name_len} + extra_len + comment_len;
  }
  for (const ZipEntry& e : entries_)
    if (e.method == 0) stored_by_offset_.push_back(&e);
  std::sort(stored_by_offset_.begin(), stored_by_offset_.end(),
            [](const ZipEntry* a, const ZipEntry* b) { return a->data_offset < b->data_offset; });
}

std::string MappedZip::read(const ZipEntry& e) const {
  const char* src = reinterpret_cast<const char*>(data() + e.data_offset);
  if (e.method == 0) return std::string(src, e.compressed_size);  // == e.size, checked when listed
  if (e.method != 8)
    throw std::runtime_error(fmt::format("{}: entry '{}' uses compression method {} (only stored and deflate)",
                                         path_.string(), e.name, e.method));
  auto damaged = [&] {
    return std::runtime_error(fmt::format("{}: entry '{}' is damaged (deflate data does not give {} bytes)",
                                          path_.string(), e.name, e.size));
  };
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK)  // raw deflate, as zip stores it
    throw std::runtime_error(fmt::format("{}: cannot inflate entry '{}'", path_.string(), e.name));
  // The output grows with what inflate really produces (the declared size is
  // only a bound); zlib's counters are 32-bit, so feed it in chunks.
  constexpr uint64_t kChunk = uint64_t{1} << 30;
  std::string out;
  out.resize(std::min<uint64_t>(e.size, 1 << 20));
  uint64_t in_left = e.compressed_size, produced = 0;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(src));
  int rc = Z_OK;
  while (rc == Z_OK) {
    if (produced == out.size()) {
      if (out.size() == e.size) {  // full: only the end of the stream may follow
        uint8_t probe = 0;
        z.next_out = &probe;
        z.avail_out = 1;
        if (z.avail_in == 0 && in_left > 0) {
          z.avail_in = static_cast<uInt>(std::min(in_left, kChunk));
          in_left -= z.avail_in;
        }
        rc = inflate(&z, Z_NO_FLUSH);
        if (z.avail_out == 0) rc = Z_DATA_ERROR;  // more bytes than declared
        break;
      }
      out.resize(std::min<uint64_t>(e.size, std::max<uint64_t>(out.size() * 2, 1)));
    }
    z.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z.avail_out = static_cast<uInt>(std::min<uint64_t>(out.size() - produced, kChunk));
    const uInt before = z.avail_out;
    if (z.avail_in == 0 && in_left > 0) {
      z.avail_in = static_cast<uInt>(std::min(in_left, kChunk));
      in_left -= z.avail_in;
    }
    rc = inflate(&z, Z_NO_FLUSH);
    produced += before - z.avail_out;
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && in_left == 0) break;  // input ran out
    if (rc == Z_BUF_ERROR) rc = Z_OK;  // no progress possible yet: more room follows
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END || produced != e.size) throw damaged();
  return out;
}

const ZipEntry* MappedZip::stored_entry_at(uint64_t offset) const {
  auto it = std::lower_bound(stored_by_offset_.begin(), stored_by_offset_.end(), offset,
                             [](const ZipEntry* e, uint64_t o) { return e->data_offset < o; });
  return it != stored_by_offset_.end() && (*it)->data_offset == offset ? *it : nullptr;
}

void register_mapped_range(const void* p, size_t n) {
  std::lock_guard lock(live_mutex);
  live_ranges.emplace_back(reinterpret_cast<uintptr_t>(p), reinterpret_cast<uintptr_t>(p) + n);
}

void unregister_mapped_range(const void* p) {
  std::lock_guard lock(live_mutex);
  std::erase_if(live_ranges, [&](const auto& r) { return r.first == reinterpret_cast<uintptr_t>(p); });
}

void release_mapped_pages(const void* p, size_t n) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (begin >= end) return;
  std::lock_guard lock(live_mutex);
  for (const auto& [lo, hi] : live_ranges) {
    if (begin >= lo && end <= hi) {
      // Private, never-written file pages: dropping them loses nothing.
      ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
      return;
    }
  }
}

}  // namespace exporters::io
