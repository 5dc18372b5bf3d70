// The tflite-support model metadata ("TFLITE_METADATA": a ModelMetadata
// flatbuffer, identifier "M001", schema/metadata_subset.fbs): name,
// description, version, and per input / output a description, its content
// (feature or image) and the normalisation the caller applies.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "metadata_subset_generated.h"
#include "model.hpp"

namespace exporters::tflite {

namespace {

namespace mt = exporters::tflite::meta;

// Every field this writer uses exists since metadata schema 1.0.0.
constexpr const char* kMinParserVersion = "1.0.0";

std::string fallback_description(const TflTensor& t, const std::string& name, bool input) {
  return fmt::format("{} '{}', {} [{}]", input ? "Input" : "Output", name, tfl_type_name(static_cast<int8_t>(t.type)),
                     fmt::join(t.shape, ", "));
}

// The name a tensor is known by: its signature alias, else its tensor name.
std::string public_name(const TflModel& m, int32_t tensor, bool input) {
  if (!m.signatures.empty())
    for (const auto& [alias, idx] : input ? m.signatures[0].inputs : m.signatures[0].outputs)
      if (idx == tensor) return alias;
  return m.tensors[tensor].name;
}

flatbuffers::Offset<mt::TensorMetadata> build_tensor(flatbuffers::FlatBufferBuilder& b, const std::string& name,
                                                      const TensorDescription& d) {
  flatbuffers::Offset<mt::Content> content;
  if (d.image) {
    mt::ColorSpaceType cs = d.color_space == "RGB"         ? mt::ColorSpaceType_RGB
                            : d.color_space == "GRAYSCALE" ? mt::ColorSpaceType_GRAYSCALE
                                                           : mt::ColorSpaceType_UNKNOWN;
    auto props = mt::CreateImageProperties(b, cs);
    content = mt::CreateContent(b, mt::ContentProperties_ImageProperties, props.Union());
  } else {
    auto props = mt::CreateFeatureProperties(b);
    content = mt::CreateContent(b, mt::ContentProperties_FeatureProperties, props.Union());
  }
  std::vector<flatbuffers::Offset<mt::ProcessUnit>> units;
  if (!d.mean.empty() || !d.std.empty()) {
    auto norm = mt::CreateNormalizationOptionsDirect(b, &d.mean, &d.std);
    units.push_back(mt::CreateProcessUnit(b, mt::ProcessUnitOptions_NormalizationOptions, norm.Union()));
  }
  return mt::CreateTensorMetadataDirect(b, name.c_str(), d.description.c_str(), content,
                                        units.empty() ? nullptr : &units);
}

const char* opt(const std::string& s) { return s.empty() ? nullptr : s.c_str(); }

}  // namespace

std::string encode_model_metadata(const TflModel& m, const TfliteOptions& options) {
  flatbuffers::FlatBufferBuilder b;
  auto tensors = [&](const std::vector<int32_t>& indices, const std::map<std::string, TensorDescription>& given,
                     bool input) {
    std::vector<flatbuffers::Offset<mt::TensorMetadata>> out;
    for (int32_t t : indices) {
      std::string name = public_name(m, t, input);
      auto it = given.find(name);
      TensorDescription d = it != given.end() ? it->second : TensorDescription{};
      if (d.description.empty()) d.description = fallback_description(m.tensors[t], name, input);
      out.push_back(build_tensor(b, name, d));
    }
    return out;
  };
  // Order matters: tensor metadata i describes SubGraph.inputs[i] / outputs[i].
  auto inputs = tensors(m.inputs, options.inputs, true);
  auto outputs = tensors(m.outputs, options.outputs, false);
  std::vector<flatbuffers::Offset<mt::SubGraphMetadata>> subgraphs = {
      mt::CreateSubGraphMetadataDirect(b, opt(options.name), opt(m.description), &inputs, &outputs)};
  auto root = mt::CreateModelMetadataDirect(b, opt(options.name), opt(m.description), opt(options.version),
                                            &subgraphs, opt(options.author), opt(options.license),
                                            kMinParserVersion);
  mt::FinishModelMetadataBuffer(b, root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

ModelDescription decode_model_metadata(const std::string& bytes, const std::string& what) {
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size());
  // The identifier sits at bytes 4..7: a shorter buffer has none to read.
  if (bytes.size() < 8 || !mt::ModelMetadataBufferHasIdentifier(data))
    throw TfliteError(fmt::format("{}: metadata '{}' lacks the ModelMetadata file identifier \"M001\"", what,
                                  kTfliteMetadataName));
  if (!mt::VerifyModelMetadataBuffer(verifier))
    throw TfliteError(fmt::format("{}: metadata '{}' is not a valid ModelMetadata flatbuffer", what,
                                  kTfliteMetadataName));
  const mt::ModelMetadata* root = mt::GetModelMetadata(data);
  auto str = [](const flatbuffers::String* s) { return s ? s->str() : std::string(); };
  ModelDescription out;
  out.name = str(root->name());
  out.description = str(root->description());
  out.version = str(root->version());
  out.author = str(root->author());
  out.license = str(root->license());
  out.min_parser_version = str(root->min_parser_version());
  if (!root->subgraph_metadata() || root->subgraph_metadata()->size() == 0) return out;
  const mt::SubGraphMetadata* sg = root->subgraph_metadata()->Get(0);
  auto tensors = [&](const flatbuffers::Vector<flatbuffers::Offset<mt::TensorMetadata>>* v) {
    std::vector<std::pair<std::string, TensorDescription>> list;
    if (!v) return list;
    for (const mt::TensorMetadata* t : *v) {
      TensorDescription d;
      d.description = str(t->description());
      if (t->content() && t->content()->content_properties_type() == mt::ContentProperties_ImageProperties) {
        d.image = true;
        const auto* image = t->content()->content_properties_as_ImageProperties();
        if (image && image->color_space() == mt::ColorSpaceType_RGB) d.color_space = "RGB";
        if (image && image->color_space() == mt::ColorSpaceType_GRAYSCALE) d.color_space = "GRAYSCALE";
      }
      if (t->process_units())
        for (const mt::ProcessUnit* unit : *t->process_units()) {
          const auto* norm = unit->options_as_NormalizationOptions();
          if (!norm) continue;
          if (norm->mean()) d.mean.assign(norm->mean()->begin(), norm->mean()->end());
          if (norm->std()) d.std.assign(norm->std()->begin(), norm->std()->end());
        }
      list.emplace_back(str(t->name()), std::move(d));
    }
    return list;
  };
  out.inputs = tensors(sg->input_tensor_metadata());
  out.outputs = tensors(sg->output_tensor_metadata());
  return out;
}

}  // namespace exporters::tflite
