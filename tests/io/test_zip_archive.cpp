// MappedZip: archives written by Python's zipfile (stored, deflated, ZIP64,
// with a comment), a real fixture model.pt, and damaged files.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/io/zip_archive.hpp"
#include "hf_fixtures.hpp"

namespace fs = std::filesystem;
namespace io = exporters::io;

namespace {

const fs::path kZips = EXPORTERS_TEST_IO_GENERATED;

std::vector<uint8_t> content(int i) {  // as make_reference_zips.py writes entry i
  std::vector<uint8_t> v(static_cast<size_t>(1000 * i + 5));
  for (size_t k = 0; k < v.size(); ++k) v[k] = static_cast<uint8_t>((i * 37 + static_cast<int>(k)) % 251);
  return v;
}

std::vector<char> bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

fs::path write_temp(const std::string& name, const std::vector<char>& bytes) {
  fs::path p = fs::temp_directory_path() / ("exporters_zip_" + std::to_string(::getpid()) + "_" + name);
  std::ofstream(p, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return p;
}

}  // namespace

TEST_CASE("MappedZip reads stored and ZIP64 archives written by Python") {
  for (const char* name : {"stored.zip", "zip64.zip"}) {
    CAPTURE(name);
    io::MappedZip zip(kZips / name);
    REQUIRE(zip.entries().size() == 4);
    for (int i = 0; i < 4; ++i) {
      const io::ZipEntry& e = zip.entries()[static_cast<size_t>(i)];
      CHECK(e.name == "archive/data/" + std::to_string(i));
      CHECK(e.method == 0);
      const auto want = content(i);
      REQUIRE(e.size == want.size());
      CHECK(std::memcmp(zip.data() + e.data_offset, want.data(), want.size()) == 0);
      CHECK(zip.stored_entry_at(e.data_offset) == &e);
      CHECK(zip.stored_entry_at(e.data_offset + 1) == nullptr);
    }
  }
}

TEST_CASE("MappedZip reads the ZIP64 end of central directory (more than 65535 entries)") {
  io::MappedZip zip(kZips / "many.zip");
  REQUIRE(zip.entries().size() == 65537);
  const io::ZipEntry& last = zip.entries().back();
  CHECK(last.name == "e/65536");
  const io::ZipEntry& k = zip.entries()[65000];
  CHECK(k.name == "e/65000");
  REQUIRE(k.size == 3);
  CHECK(zip.data()[k.data_offset] == static_cast<uint8_t>(65000 % 256));
}

TEST_CASE("MappedZip lists deflated entries without treating them as stored") {
  io::MappedZip zip(kZips / "deflated.zip");
  REQUIRE(zip.entries().size() == 4);
  for (const auto& e : zip.entries()) {
    CHECK(e.method == 8);
    CHECK(zip.stored_entry_at(e.data_offset) == nullptr);
  }
  CHECK(zip.entries()[3].size == 3005);
  CHECK(zip.entries()[3].compressed_size < 3005);
  for (int i = 0; i < 4; ++i) {  // inflated as Python deflated them
    const std::string bytes = zip.read(zip.entries()[static_cast<size_t>(i)]);
    const auto want = content(i);
    CHECK(std::equal(bytes.begin(), bytes.end(), want.begin(), want.end(),
                     [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; }));
  }
  io::MappedZip stored(kZips / "stored.zip");
  CHECK(stored.read(stored.entries()[2]).size() == 2005);
}

// Suite "shared": run as the meson test io_shared, which skips without ../shared.
TEST_CASE("MappedZip over a real TorchScript archive: every tensor record is stored" * doctest::test_suite("shared")) {
  exporters::testing::require_hf_fixtures();
  const auto fixtures = exporters::testing::load_fixture_index();
  REQUIRE(!fixtures.empty());
  io::MappedZip zip(fixtures.front().dir / "model.pt");
  int data_records = 0;
  for (const auto& e : zip.entries()) {
    if (e.name.find("/data/") == std::string::npos) continue;
    ++data_records;
    CHECK(e.method == 0);
    CHECK(zip.stored_entry_at(e.data_offset) == &e);
  }
  CHECK(data_records > 0);
}

TEST_CASE("MappedZip rejects damaged archives with the file's name") {
  const auto good = bytes_of(kZips / "stored.zip");
  SUBCASE("not a zip") {
    fs::path p = write_temp("text.zip", std::vector<char>(100, 'x'));
    CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains("no end of central directory"));
    CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains(p.string().c_str()));
    fs::remove(p);
  }
  SUBCASE("too short") {
    fs::path p = write_temp("short.zip", std::vector<char>(good.begin(), good.begin() + 10));
    CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains("too short"));
    fs::remove(p);
  }
  SUBCASE("truncated: the central directory is cut off") {
    std::vector<char> cut(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
    fs::path p = write_temp("cut.zip", cut);
    CHECK_THROWS(io::MappedZip{p});
    fs::remove(p);
  }
  SUBCASE("central directory offset beyond the file") {
    auto bad = good;
    // The end record is the last 22 + comment bytes; its directory offset is at +16.
    const size_t comment = std::strlen("an archive comment");
    const size_t eocd = bad.size() - 22 - comment;
    bad[eocd + 16] = bad[eocd + 17] = bad[eocd + 18] = bad[eocd + 19] = '\x7f';
    fs::path p = write_temp("offset.zip", bad);
    CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains("outside the file"));
    fs::remove(p);
  }
  SUBCASE("missing file") {
    CHECK_THROWS_WITH(io::MappedZip{kZips / "nope.zip"}, doctest::Contains("cannot open"));
  }
}

TEST_CASE("release_mapped_pages: mapped bytes stay readable, other memory is never touched") {
  io::MappedZip zip(kZips / "many.zip");  // several MiB: whole pages inside
  const std::vector<uint8_t> before(zip.data(), zip.data() + zip.size());
  io::release_mapped_pages(zip.data() + 100, static_cast<size_t>(zip.size()) - 200);
  CHECK(std::memcmp(zip.data(), before.data(), before.size()) == 0);  // mapped again from the file

  // Heap memory (anonymous pages) would be zeroed by MADV_DONTNEED: it must be left alone.
  std::vector<uint8_t> heap(1 << 20, 0x5a);
  io::release_mapped_pages(heap.data(), heap.size());
  CHECK(std::all_of(heap.begin(), heap.end(), [](uint8_t b) { return b == 0x5a; }));
}

namespace {

// Offset of entry `i`'s central directory header (signature PK\1\2).
size_t central_header(const std::vector<char>& zip, int i) {
  const char sig[] = {'P', 'K', 1, 2};
  auto it = zip.begin();
  for (int k = 0; k <= i; ++k) {
    it = std::search(k ? it + 4 : it, zip.end(), sig, sig + 4);
    REQUIRE(it != zip.end());
  }
  return static_cast<size_t>(it - zip.begin());
}

void put_u32(std::vector<char>& v, size_t at, uint32_t x) {
  for (int b = 0; b < 4; ++b) v[at + static_cast<size_t>(b)] = static_cast<char>((x >> (8 * b)) & 0xff);
}

}  // namespace

// Found by fuzzing: a stored entry whose uncompressed size disagrees with
// its compressed size made read() (and LibTorch through the read adapter)
// copy past the end of the mapping.
TEST_CASE("MappedZip rejects a stored entry whose two sizes disagree") {
  auto bad = bytes_of(kZips / "stored.zip");
  put_u32(bad, central_header(bad, 3) + 24, 0x7fffffff);  // uncompressed size of the last entry
  fs::path p = write_temp("stored_size.zip", bad);
  CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains("stored entry 'archive/data/3' declares 2147483647 bytes but holds 3005"));
  CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains(p.string().c_str()));
  fs::remove(p);
}

// Found by fuzzing: a deflated entry declaring ~4 GB was allocated in full
// before inflating a few bytes.
TEST_CASE("MappedZip rejects a deflated entry declaring more than deflate can give") {
  auto bad = bytes_of(kZips / "deflated.zip");
  put_u32(bad, central_header(bad, 1) + 24, 0xfffffff0);
  fs::path p = write_temp("deflate_size.zip", bad);
  CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains("deflated entry 'archive/data/1' declares 4294967280 bytes"));
  fs::remove(p);
}

TEST_CASE("MappedZip::read: a deflated entry that gives fewer or more bytes than declared is damaged") {
  for (const int delta : {-1, +1, +500}) {
    CAPTURE(delta);
    auto bad = bytes_of(kZips / "deflated.zip");
    put_u32(bad, central_header(bad, 3) + 24, static_cast<uint32_t>(3005 + delta));
    fs::path p = write_temp("deflate_off.zip", bad);
    io::MappedZip zip(p);
    CHECK_THROWS_WITH(zip.read(zip.entries()[3]), doctest::Contains("entry 'archive/data/3' is damaged"));
    CHECK(zip.read(zip.entries()[2]).size() == 2005);  // the others are intact
    fs::remove(p);
  }
}

TEST_CASE("MappedZip rejects an entry count the central directory cannot hold") {
  auto bad = bytes_of(kZips / "stored.zip");
  const size_t eocd = bad.size() - 22 - std::strlen("an archive comment");
  bad[eocd + 10] = bad[eocd + 11] = '\xff';  // 65535 entries in a directory of four
  fs::path p = write_temp("count.zip", bad);
  CHECK_THROWS_WITH(io::MappedZip{p}, doctest::Contains("cannot hold 65535 entries"));
  fs::remove(p);
}
