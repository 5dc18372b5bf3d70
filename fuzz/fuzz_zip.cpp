// model.pt as far as the project reads it without LibTorch: the zip
// directory (ZIP64 included), every entry's bytes (stored and deflated),
// the stored-record lookup by offset, and the __setstate__ scan of the
// archive's code that decides how LibTorch gets the records.
#include <exception>
#include <string_view>

#include "core/io/zip_archive.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace exporters;
  const auto file = fuzz::scratch_dir() / "model.pt";
  fuzz::write_file(file, {reinterpret_cast<const char*>(data), size});
  try {
    io::MappedZip zip(file);
    for (const io::ZipEntry& e : zip.entries()) {
      // What the TorchScript loader's read adapter hands LibTorch for a stored record.
      if (const io::ZipEntry* s = zip.stored_entry_at(e.data_offset)) fuzz::touch(zip.data() + s->data_offset, s->size);
      try {
        const std::string bytes = zip.read(e);
        if (bytes.size() != e.size) __builtin_trap();
        if (std::string_view(e.name).find("/code/") != std::string_view::npos) (void)bytes.find("__setstate__");
      } catch (const std::runtime_error&) {
      }
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
