// write_tflite: lower, optimise transposes, quantise weights, serialise,
// then write atomically (temporary sibling + rename).
#include <fmt/format.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "core/io/staged_output.hpp"
#include "model.hpp"

namespace exporters::tflite {

Quantization quantization_from_name(const std::string& name) {
  if (name == "float32") return Quantization::Float32;
  if (name == "float16") return Quantization::Float16;
  if (name == "dynamic-int8") return Quantization::DynamicInt8;
  throw TfliteError(fmt::format("--quantize {}: TFLite export supports float32, float16 and dynamic-int8", name));
}

std::string quantization_name(Quantization q) {
  switch (q) {
    case Quantization::Float32: return "float32";
    case Quantization::Float16: return "float16";
    case Quantization::DynamicInt8: return "dynamic-int8";
  }
  return "?";
}

TflModel build_model(const ir::Graph& graph, const TfliteOptions& options) {
  TflModel m = lower_graph(graph);
  optimize_transposes(m);
  quantize_weights(m, options.quantize);
  compact_tensors(m);
  for (auto& s : m.signatures) s.key = options.signature_key;
  std::map<std::string, std::string> meta = graph.metadata;
  for (const auto& [k, v] : options.metadata) meta[k] = v;
  m.description = options.description;
  if (m.description.empty()) {
    auto it = meta.find("description");
    m.description = it != meta.end() ? it->second : "Exported by exporters";
  }
  for (const auto& [k, v] : meta)
    if (k != kTfliteMetadataName) m.metadata.emplace_back(k, v);
  m.metadata.emplace_back(kTfliteMetadataName, encode_model_metadata(m, options));
  // Same padded form converters use for the minimum runtime.
  std::string minrt = "1.5.0";
  minrt.resize(16, '\0');
  m.metadata.emplace_back("min_runtime_version", minrt);
  for (const auto& t : m.tensors)
    m.buffer_bytes += t.stored_bytes();
  return m;
}

std::vector<uint8_t> serialize_tflite(const ir::Graph& graph, const TfliteOptions& options) {
  return encode_model(build_model(graph, options));
}

void write_tflite(const ir::Graph& graph, const TfliteOptions& options, io::StagedOutput& staged) {
  const flatbuffers::DetachedBuffer bytes = encode_model_buffer(build_model(graph, options));
  std::ofstream f(staged.path(), std::ios::binary | std::ios::trunc);
  if (!f) throw TfliteError(io::describe_errno(staged.output(), "cannot write"));
  f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) throw TfliteError(io::describe_errno(staged.output(), "write failed"));
}

void write_tflite(const ir::Graph& graph, const TfliteOptions& options, const std::filesystem::path& out) {
  // This backend's error type for callers of the backend alone.
  try {
    io::StagedOutput staged(out, io::OutputKind::File, /*overwrite=*/true);
    write_tflite(graph, options, staged);
    staged.commit();
  } catch (const io::OutputError& e) {
    throw TfliteError(e.what());
  }
}

}  // namespace exporters::tflite
