// The class a trace was made from, read from the root object's pickle in
// data.pkl without LibTorch. Archives traced at build time by python3-torch
// (make_traces.py); the expectation is LibTorch's own name for the scripted
// type, which make_traces.py writes to expected.json.
#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "core/frontend/trace_archive.hpp"
#include "core/io/zip_archive.hpp"
#include "temp_dir.hpp"

namespace fe = exporters::frontend;
namespace fs = std::filesystem;

namespace {

const fs::path kTraces = EXPORTERS_TEST_TRACES;

nlohmann::json expected() {
  std::ifstream in(kTraces / "expected.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

std::string qualified(const std::string& archive) {
  auto cls = fe::traced_root_class(kTraces / (archive + ".pt"));
  REQUIRE_MESSAGE(cls.has_value(), archive);
  return cls->qualified();
}

}  // namespace

TEST_CASE("an HF-like trace: the root object's class, module and name") {
  auto cls = fe::traced_root_class(kTraces / "plain.pt");
  REQUIRE(cls.has_value());
  CHECK(cls->qualified() == expected().at("plain").get<std::string>());
  CHECK(cls->module == "__torch__.transformers.models.bert.modeling_bert");
  CHECK(cls->name == "BertForMaskedLM");
}

TEST_CASE("a wrapper module: its own class, not the transformers submodule it holds") {
  auto cls = fe::traced_root_class(kTraces / "wrapper.pt");
  REQUIRE(cls.has_value());
  CHECK(cls->qualified() == expected().at("wrapper").get<std::string>());
  CHECK(cls->name == "Wrapper");
  CHECK(cls->module.find("transformers") == std::string::npos);
}

TEST_CASE("a mangled class path (the class traced twice in one process) keeps the class name") {
  CHECK(qualified("plain_again") == expected().at("plain_again").get<std::string>());
  CHECK(fe::traced_root_class(kTraces / "plain_again.pt")->name == "BertForMaskedLM");
}

TEST_CASE("a deflated data.pkl reads the same") {
  CHECK(qualified("deflated") == expected().at("deflated").get<std::string>());
}

TEST_CASE("a protocol-4 pickle (FRAME, STACK_GLOBAL, MEMOIZE) building an object") {
  auto cls = fe::traced_root_class(kTraces / "stack_global.pt");
  REQUIRE(cls.has_value());
  CHECK(cls->qualified() == expected().at("stack_global").get<std::string>());
  CHECK(cls->name == "Thing");
}

TEST_CASE("no class: an archive without data.pkl, a data.pkl whose root is not an object") {
  CHECK_FALSE(fe::traced_root_class(kTraces / "no_pickle.pt").has_value());
  CHECK_FALSE(fe::traced_root_class(kTraces / "not_object.pt").has_value());
}

TEST_CASE("a truncated data.pkl: every prefix of the root's pickle is refused, never misread") {
  // The stored data.pkl of plain.pt cut at each length up to its NEWOBJ.
  exporters::io::MappedZip zip(kTraces / "plain.pt");
  const exporters::io::ZipEntry* pkl = nullptr;
  for (const auto& e : zip.entries())
    if (e.name.ends_with("/data.pkl")) pkl = &e;
  REQUIRE(pkl != nullptr);
  const std::string bytes = zip.read(*pkl);
  const size_t newobj = bytes.find('\x81');
  REQUIRE(newobj != std::string::npos);
  exporters::testing::TempDir dir("trace-class");
  for (size_t n = 0; n <= newobj + 1; ++n) {
    // A one-record zip written by hand: stored, no data descriptor.
    const std::string name = "archive/data.pkl";
    const std::string data = bytes.substr(0, n);
    std::string local, central;
    auto u16 = [](std::string& s, uint32_t v) { s += char(v & 0xff); s += char((v >> 8) & 0xff); };
    auto u32 = [&](std::string& s, uint32_t v) { u16(s, v & 0xffff); u16(s, v >> 16); };
    uint32_t crc = 0xffffffffu;  // CRC-32, as the zip reader may check it
    for (unsigned char c : data) {
      crc ^= c;
      for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    crc = ~crc;
    u32(local, 0x04034b50); u16(local, 20); u16(local, 0); u16(local, 0); u16(local, 0); u16(local, 0);
    u32(local, crc); u32(local, data.size()); u32(local, data.size()); u16(local, name.size()); u16(local, 0);
    local += name + data;
    u32(central, 0x02014b50); u16(central, 20); u16(central, 20); u16(central, 0); u16(central, 0);
    u16(central, 0); u16(central, 0); u32(central, crc); u32(central, data.size()); u32(central, data.size());
    u16(central, name.size()); u16(central, 0); u16(central, 0); u16(central, 0); u16(central, 0);
    u32(central, 0); u32(central, 0);
    central += name;
    std::string end;
    u32(end, 0x06054b50); u16(end, 0); u16(end, 0); u16(end, 1); u16(end, 1); u32(end, central.size());
    u32(end, local.size()); u16(end, 0);
    const fs::path file = dir / "cut.pt";
    std::ofstream(file, std::ios::binary) << local << central << end;
    CAPTURE(n);
    auto cls = fe::traced_root_class(file);
    if (n == newobj + 1) {
      REQUIRE(cls.has_value());
      CHECK(cls->name == "BertForMaskedLM");
    } else {
      CHECK_FALSE(cls.has_value());
    }
  }
}

TEST_CASE("a file that is no archive: one FrontendError naming it") {
  exporters::testing::TempDir dir("trace-class");
  const fs::path text = dir / "model.pt";
  std::ofstream(text) << "not a zip";
  for (const fs::path& p : {text, dir / "missing.pt", dir.path}) {
    CAPTURE(p);
    try {
      fe::traced_root_class(p);
      FAIL("no error");
    } catch (const fe::FrontendError& e) {
      CHECK(std::string(e.what()).find(p.string()) != std::string::npos);
    }
  }
}
