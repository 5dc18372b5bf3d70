// read_tflite / summarize_tflite: load the file once, verify, then raise to
// IR or summarise for `exporters inspect`.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <fstream>
#include <sstream>

#include "model.hpp"

namespace exporters::tflite {

namespace {

struct LoadedFile {
  std::shared_ptr<std::vector<uint8_t>> bytes;
  std::string what;
};

LoadedFile load(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw TfliteError(fmt::format("{}: cannot open the file", path.string()));
  auto bytes = std::make_shared<std::vector<uint8_t>>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  return {bytes, path.string()};
}

TflModel decode(const LoadedFile& f) { return decode_model(f.bytes->data(), f.bytes->size(), f.what, f.bytes); }

std::string printable(const std::string& v) {
  std::string s = v;
  while (!s.empty() && s.back() == '\0') s.pop_back();
  bool text = std::all_of(s.begin(), s.end(), [](char c) { return c == '\n' || c == '\t' || (c >= 32 && c < 127) || (c & 0x80); });
  if (!text) return fmt::format("<{} bytes>", v.size());
  return s.size() > 200 ? s.substr(0, 200) + "…" : s;
}

}  // namespace

ir::Graph read_tflite(const std::filesystem::path& path) {
  LoadedFile f = load(path);
  return raise_model(decode(f), f.what);
}

ir::Graph read_tflite_bytes(const uint8_t* data, size_t size, const std::string& what) {
  auto copy = std::make_shared<std::vector<uint8_t>>(data, data + size);
  return raise_model(decode_model(copy->data(), copy->size(), what, copy), what);
}

TfliteSummary summarize_tflite(const std::filesystem::path& path) {
  LoadedFile f = load(path);
  TflModel m = decode(f);
  TfliteSummary s;
  s.schema_version = m.version;
  s.description = m.description;
  s.file_bytes = f.bytes->size();
  s.buffer_bytes = m.buffer_bytes;
  s.buffers = m.buffers;
  s.tensors = m.tensors.size();
  s.operators = m.ops.size();
  s.subgraphs = 1;
  for (const auto& op : m.ops) ++s.op_histogram[builtin_name(op.code)];
  for (const auto& [k, v] : m.metadata) {
    if (k == kTfliteMetadataName) {
      s.model_metadata = decode_model_metadata(v, f.what);
      s.metadata[k] = fmt::format("<ModelMetadata flatbuffer, {} bytes; shown above>", v.size());
    } else {
      s.metadata[k] = printable(v);
    }
  }
  for (const auto& sig : m.signatures) s.signature_keys.push_back(sig.key);
  auto info = [&](int32_t t, bool input) {
    TfliteTensorInfo i;
    const TflTensor& tt = m.tensors[t];
    i.tensor_name = tt.name;
    i.name = tt.name;
    if (!m.signatures.empty())
      for (const auto& [alias, idx] : input ? m.signatures[0].inputs : m.signatures[0].outputs)
        if (idx == t) i.name = alias;
    i.type = tfl_type_name(static_cast<int8_t>(tt.type));
    i.shape = tt.shape;
    i.scales = tt.quant.scale;
    i.zero_points = tt.quant.zero_point;
    return i;
  };
  for (int32_t t : m.inputs) s.inputs.push_back(info(t, true));
  for (int32_t t : m.outputs) s.outputs.push_back(info(t, false));
  // Tensor metadata i describes subgraph input / output i.
  if (s.model_metadata) {
    auto attach = [&](std::vector<TfliteTensorInfo>& infos,
                      const std::vector<std::pair<std::string, TensorDescription>>& described, const char* kind) {
      if (described.size() != infos.size())
        throw TfliteError(fmt::format("{}: metadata '{}' describes {} {}s, the subgraph has {}", f.what,
                                      kTfliteMetadataName, described.size(), kind, infos.size()));
      for (size_t i = 0; i < infos.size(); ++i) infos[i].metadata = described[i].second;
    };
    attach(s.inputs, s.model_metadata->inputs, "input");
    attach(s.outputs, s.model_metadata->outputs, "output");
  }
  return s;
}

std::string format_summary(const TfliteSummary& s) {
  std::ostringstream o;
  o << fmt::format("TFLite model, schema version {}, {} bytes\n", s.schema_version, s.file_bytes);
  if (!s.description.empty()) o << fmt::format("description: {}\n", s.description);
  if (const auto& md = s.model_metadata) {
    o << fmt::format("model metadata ({}, min parser {}):", kTfliteMetadataName, md->min_parser_version);
    if (!md->name.empty()) o << fmt::format(" name '{}'", md->name);
    if (!md->version.empty()) o << fmt::format(", version {}", md->version);
    if (!md->author.empty()) o << fmt::format(", author {}", md->author);
    if (!md->license.empty()) o << fmt::format(", license {}", md->license);
    o << "\n";
  }
  auto io = [&](const char* title, const std::vector<TfliteTensorInfo>& v) {
    o << title << ":\n";
    for (const auto& t : v) {
      o << fmt::format("  {} {}[{}]", t.name, t.type, ir::shape_to_string(t.shape));
      if (t.tensor_name != t.name) o << fmt::format(" (tensor '{}')", t.tensor_name);
      if (!t.scales.empty())
        o << fmt::format(" quantized scale={} zero_point={}", t.scales[0], t.zero_points.empty() ? 0 : t.zero_points[0]);
      o << "\n";
      if (t.metadata) {
        o << fmt::format("      {}\n", t.metadata->description);
        if (t.metadata->image)
          o << fmt::format("      image ({})\n", t.metadata->color_space.empty() ? "colour space not stated" : t.metadata->color_space);
        if (!t.metadata->mean.empty() || !t.metadata->std.empty())
          o << fmt::format("      normalization: (x - mean) / std, mean [{}], std [{}]\n", fmt::join(t.metadata->mean, ", "),
                           fmt::join(t.metadata->std, ", "));
      }
    }
  };
  io("inputs", s.inputs);
  io("outputs", s.outputs);
  o << fmt::format("operators: {} in subgraph 0 ({} tensors)\n", s.operators, s.tensors);
  for (const auto& [name, n] : s.op_histogram) o << fmt::format("  {:<28} {}\n", name, n);
  if (!s.signature_keys.empty()) {
    o << "signatures:";
    for (const auto& k : s.signature_keys) o << " " << k;
    o << "\n";
  }
  if (!s.metadata.empty()) {
    o << "metadata:\n";
    for (const auto& [k, v] : s.metadata) o << fmt::format("  {}: {}\n", k, v);
  }
  o << fmt::format("buffers: {} holding {} bytes of constant data\n", s.buffers, s.buffer_bytes);
  return o.str();
}

}  // namespace exporters::tflite
