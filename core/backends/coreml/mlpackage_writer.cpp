// IR -> ML Program -> .mlpackage directory (Manifest.json, model.mlmodel,
// weights/weight.bin), assembled in a temporary sibling and renamed into place.
#include <cstdio>
#include <fstream>
#include <random>
#include <system_error>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <nlohmann/json.hpp>

#include "blob_storage.hpp"
#include "core/io/staged_output.hpp"
#include "coreml.hpp"
#include "coreml_model.pb.h"
#include "exporters_config.h"
#include "mil_builder.hpp"
#include "mil_lowering.hpp"

namespace exporters::coreml {

namespace fs = std::filesystem;
namespace Spec = ::CoreML::Specification;

std::optional<Target> parse_target(std::string_view text) {
  if (text == "iOS15") return Target::iOS15;
  if (text == "iOS16") return Target::iOS16;
  if (text == "iOS17") return Target::iOS17;
  if (text == "iOS18") return Target::iOS18;
  return std::nullopt;
}

std::string_view target_name(Target target) {
  static constexpr std::string_view names[] = {"iOS15", "iOS16", "iOS17", "iOS18"};
  return names[static_cast<int>(target)];
}

int specification_version(Target target) { return 6 + static_cast<int>(target); }

std::string_view opset_name(Target target) {
  static constexpr std::string_view names[] = {"CoreML5", "CoreML6", "CoreML7", "CoreML8"};
  return names[static_cast<int>(target)];
}

std::optional<Precision> parse_precision(std::string_view text) {
  if (text == "float32") return Precision::Float32;
  if (text == "float16") return Precision::Float16;
  return std::nullopt;
}

namespace {

Spec::ArrayFeatureType::ArrayDataType array_dtype(ir::DType d, const std::string& feature) {
  switch (d) {
    case ir::DType::F32: return Spec::ArrayFeatureType::FLOAT32;
    case ir::DType::F16: return Spec::ArrayFeatureType::FLOAT16;
    case ir::DType::I32: return Spec::ArrayFeatureType::INT32;
    default: break;
  }
  throw CoreMLError("Core ML: feature '" + feature + "' has dtype " + std::string(ir::dtype_name(d)) +
                    ", which a Core ML multi-array cannot hold");
}

void describe_array(Spec::FeatureDescription* f, const std::string& name, const std::string& doc,
                    const ir::TensorType& type) {
  f->set_name(name);
  if (!doc.empty()) f->set_shortdescription(doc);
  auto* a = f->mutable_type()->mutable_multiarraytype();
  for (int64_t d : type.shape) a->add_shape(d);
  a->set_datatype(array_dtype(type.dtype, name));
}

std::string uuid4() {
  static std::mt19937_64 rng{std::random_device{}()};
  uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08X-%04X-%04X-%04X-%012llX", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48), static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

// Builds the Model proto; weights go to `blobs`.
void build_model(const ir::Graph& graph, const CoreMLOptions& options, BlobStorageWriter& blobs,
                 Spec::Model& model) {
  const bool fp16 = options.precision == Precision::Float16;
  const int os = static_cast<int>(options.target) + 15;
  if (options.float16_io && (!fp16 || os < 16))
    throw CoreMLError("Core ML: float16 inputs/outputs need --quantize float16 and --target iOS16 or newer");

  model.set_specificationversion(specification_version(options.target));
  auto* program = model.mutable_mlprogram();
  program->set_version(1);
  {
    MIL::Value& info = (*program->mutable_attributes())["buildInfo"];
    auto* dt = info.mutable_type()->mutable_dictionarytype();
    dt->mutable_keytype()->mutable_tensortype()->set_datatype(MIL::STRING);
    dt->mutable_valuetype()->mutable_tensortype()->set_datatype(MIL::STRING);
    auto* kv = info.mutable_immediatevalue()->mutable_dictionary()->add_values();
    *kv->mutable_key() = string_value("exporters-version");
    *kv->mutable_value() = string_value(EXPORTERS_VERSION);
  }
  MIL::Function& main = (*program->mutable_functions())["main"];
  const std::string opset(opset_name(options.target));
  main.set_opset(opset);
  MIL::Block& block = (*main.mutable_block_specializations())[opset];

  MilBuilder b(&block, &blobs, fp16);
  MilLowering lower(b, options);
  auto* desc = model.mutable_description();

  // Inputs: the function signature, boundary casts and image preprocessing.
  for (const ir::Value* v : graph.inputs()) {
    const std::string name = b.unique_name(v->name.empty() ? "input_" + std::to_string(v->id) : v->name);
    ir::TensorType io = v->type;
    switch (io.dtype) {
      case ir::DType::I64: io.dtype = ir::DType::I32; break;
      case ir::DType::F32: if (options.float16_io) io.dtype = ir::DType::F16; break;
      case ir::DType::F16:
        if (os < 16) throw CoreMLError("Core ML: float16 input '" + name + "' needs --target iOS16 or newer");
        break;
      case ir::DType::I32: break;
      default:
        throw CoreMLError("Core ML: input '" + name + "' has dtype " + std::string(ir::dtype_name(io.dtype)) +
                          ", which a Core ML model input cannot have");
    }
    auto* nv = main.add_inputs();
    nv->set_name(name);
    set_tensor_type(nv->mutable_type(), io);
    auto doc = options.input_descriptions.find(v->name);
    const std::string text = doc == options.input_descriptions.end() ? std::string() : doc->second;

    MVal cur{name, io};
    auto image = options.image_inputs.find(v->name);
    if (image != options.image_inputs.end()) {
      const ImageInput& img = image->second;
      const ir::Shape& s = v->type.shape;
      const int64_t channels = img.color_space == ImageInput::ColorSpace::Grayscale ? 1 : 3;
      if (v->type.dtype != ir::DType::F32 || s.size() != 4 || s[0] != 1 || s[1] != channels)
        throw CoreMLError("Core ML: image input '" + name + "' must be f32[1x" + std::to_string(channels) +
                          "xHxW], not " + v->type.to_string());
      if (options.float16_io) throw CoreMLError("Core ML: image input '" + name + "' cannot use float16 I/O");
      auto* f = desc->add_input();
      f->set_name(name);
      if (!text.empty()) f->set_shortdescription(text);
      auto* it = f->mutable_type()->mutable_imagetype();
      it->set_width(s[3]);
      it->set_height(s[2]);
      it->set_colorspace(img.color_space == ImageInput::ColorSpace::RGB   ? Spec::ImageFeatureType::RGB
                         : img.color_space == ImageInput::ColorSpace::BGR ? Spec::ImageFeatureType::BGR
                                                                          : Spec::ImageFeatureType::GRAYSCALE);
      if (img.scale != 1.0f)
        cur = b.emit("mul", {{"x", cur}, {"y", b.scalar(img.scale, ir::DType::F32)}}, cur.type, b.unique_name(name + "_scaled"));
      if (!img.bias.empty()) {
        if (static_cast<int64_t>(img.bias.size()) != channels)
          throw CoreMLError("Core ML: image input '" + name + "' needs one bias per channel");
        // Preprocessing runs in fp32, before the fp16 boundary cast.
        MVal bv = b.constant_as(ir::Tensor::from_f32({1, channels, 1, 1}, img.bias), ir::DType::F32,
                                b.unique_name(name + "_bias"));
        cur = b.emit("add", {{"x", cur}, {"y", bv}}, cur.type, b.unique_name(name + "_biased"));
      }
    } else {
      describe_array(desc->add_input(), name, text, io);
    }
    if (fp16 && cur.type.dtype == ir::DType::F32) {
      cur = b.emit("cast", {{"x", cur}, {"dtype", b.str("fp16")}}, {ir::DType::F16, cur.type.shape},
                   b.unique_name(name + "_to_fp16"));
    }
    lower.bind(v, cur);
  }

  // Outputs: name the producing op directly when no boundary op is needed.
  struct OutputPlan {
    std::string name;
    ir::TensorType io;  // description type
    bool direct = false;
  };
  std::vector<OutputPlan> plans;
  std::set<const ir::Value*> claimed;
  // Classifier: the probabilities output is consumed by `classify`.
  const ClassifierOutput* cls = options.classifier ? &*options.classifier : nullptr;
  size_t cls_index = graph.outputs().size();
  std::string cls_label, cls_probs;
  if (cls) {
    for (size_t i = 0; i < graph.output_names().size(); ++i)
      if (graph.output_names()[i] == cls->probabilities_output) cls_index = i;
    if (cls_index == graph.outputs().size())
      throw CoreMLError("Core ML classifier: the graph has no output named '" + cls->probabilities_output + "'");
    const size_t n = cls->labels.empty() ? cls->int_labels.size() : cls->labels.size();
    if (static_cast<int64_t>(n) != graph.outputs()[cls_index]->type.numel())
      throw CoreMLError("Core ML classifier: " + std::to_string(n) + " labels for output '" + cls->probabilities_output +
                        "' of type " + graph.outputs()[cls_index]->type.to_string());
    if (!ir::is_float(graph.outputs()[cls_index]->type.dtype))
      throw CoreMLError("Core ML classifier: output '" + cls->probabilities_output + "' must be a float tensor");
    cls_label = b.unique_name(cls->label_name);
    cls_probs = b.unique_name(cls->probabilities_name);
  }
  for (size_t i = 0; i < graph.outputs().size(); ++i) {
    if (i == cls_index) {
      plans.push_back({});
      continue;
    }
    const ir::Value* v = graph.outputs()[i];
    const std::string& wanted = i < graph.output_names().size() ? graph.output_names()[i] : std::string();
    OutputPlan p;
    p.name = b.unique_name(wanted.empty() ? "output_" + std::to_string(i) : wanted);
    const ir::DType mil = b.compute_dtype(v->type.dtype);
    p.io = {mil, v->type.shape};
    if (v->type.dtype == ir::DType::F32) p.io.dtype = options.float16_io ? ir::DType::F16 : ir::DType::F32;
    if (v->type.dtype == ir::DType::Bool) p.io.dtype = ir::DType::I32;
    if (v->type.dtype == ir::DType::F16 && os < 16)
      throw CoreMLError("Core ML: float16 output '" + p.name + "' needs --target iOS16 or newer");
    p.direct = v->producer && !v->producer->is_constant() && p.io.dtype == mil && !claimed.count(v);
    if (p.direct) {
      lower.reserve_name(v, p.name);
      claimed.insert(v);
    }
    plans.push_back(p);
  }

  for (const auto& node : graph.nodes()) lower.lower(*node);

  if (cls) {
    MVal probs = lower.value(graph.outputs()[cls_index]);
    if (probs.type.dtype != ir::DType::F32)  // classify takes fp32 probabilities
      probs = b.emit("cast", {{"x", probs}, {"dtype", b.str("fp32")}}, {ir::DType::F32, probs.type.shape},
                     b.unique_name(probs.name + "_cast_to_fp32"));
    const bool strings = !cls->labels.empty();
    const MIL::DataType key = strings ? MIL::STRING : MIL::INT64;
    MIL::Operation* op = block.add_operations();
    op->set_type("classify");
    (*op->mutable_inputs())["probabilities"].add_arguments()->set_name(probs.name);
    // coremltools binds the classes as an inline list literal.
    MIL::Value* classes = (*op->mutable_inputs())["classes"].add_arguments()->mutable_value();
    auto* lt = classes->mutable_type()->mutable_listtype();
    lt->mutable_type()->mutable_tensortype()->set_datatype(key);
    const size_t n = strings ? cls->labels.size() : cls->int_labels.size();
    lt->mutable_length()->mutable_constant()->set_size(n);
    auto* list = classes->mutable_immediatevalue()->mutable_list();
    for (size_t k = 0; k < n; ++k) {
      MIL::Value* item = list->add_values();
      item->mutable_type()->mutable_tensortype()->set_datatype(key);
      auto* tv = item->mutable_immediatevalue()->mutable_tensor();
      if (strings) tv->mutable_strings()->add_values(cls->labels[k]);
      else tv->mutable_longints()->add_values(cls->int_labels[k]);
    }
    auto* lo = op->add_outputs();
    lo->set_name(cls_label);
    lo->mutable_type()->mutable_tensortype()->set_datatype(key);
    auto* po = op->add_outputs();
    po->set_name(cls_probs);
    auto* dt = po->mutable_type()->mutable_dictionarytype();
    dt->mutable_keytype()->mutable_tensortype()->set_datatype(key);
    dt->mutable_valuetype()->mutable_tensortype()->set_datatype(MIL::FLOAT64);
    (*op->mutable_attributes())["name"] = string_value(b.unique_name("classify"));
    block.add_outputs(cls_label);
    block.add_outputs(cls_probs);
    auto* lf = desc->add_output();
    lf->set_name(cls_label);
    if (auto label_doc = options.output_descriptions.find(cls->label_name);
        label_doc != options.output_descriptions.end())
      lf->set_shortdescription(label_doc->second);
    if (strings) lf->mutable_type()->mutable_stringtype();
    else lf->mutable_type()->mutable_int64type();
    auto* pf = desc->add_output();
    pf->set_name(cls_probs);
    auto doc = options.output_descriptions.find(cls->probabilities_output);
    if (doc != options.output_descriptions.end()) pf->set_shortdescription(doc->second);
    if (strings) pf->mutable_type()->mutable_dictionarytype()->mutable_stringkeytype();
    else pf->mutable_type()->mutable_dictionarytype()->mutable_int64keytype();
    desc->set_predictedfeaturename(cls_label);
    desc->set_predictedprobabilitiesname(cls_probs);
  }

  for (size_t i = 0; i < plans.size(); ++i) {
    if (i == cls_index) continue;
    const OutputPlan& p = plans[i];
    const ir::Value* v = graph.outputs()[i];
    if (!p.direct) {
      MVal m = lower.value(v);
      if (m.type.dtype != p.io.dtype) {
        static const std::map<ir::DType, std::string> names = {
            {ir::DType::F32, "fp32"}, {ir::DType::F16, "fp16"}, {ir::DType::I32, "int32"}};
        b.emit("cast", {{"x", m}, {"dtype", b.str(names.at(p.io.dtype))}}, p.io, p.name);
      } else {
        b.emit("identity", {{"x", m}}, p.io, p.name);
      }
    }
    block.add_outputs(p.name);
    auto doc = options.output_descriptions.find(i < graph.output_names().size() ? graph.output_names()[i] : "");
    describe_array(desc->add_output(), p.name, doc == options.output_descriptions.end() ? "" : doc->second, p.io);
  }

  auto* md = desc->mutable_metadata();
  const ModelMetadata& meta = options.metadata;
  if (!meta.author.empty()) md->set_author(meta.author);
  if (!meta.license.empty()) md->set_license(meta.license);
  if (!meta.version.empty()) md->set_versionstring(meta.version);
  if (!meta.short_description.empty()) md->set_shortdescription(meta.short_description);
  for (const auto& [k, v] : meta.user_defined) (*md->mutable_userdefined())[k] = v;
}

void write_file(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw CoreMLError(path.string() + ": cannot create file");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw CoreMLError(io::describe_errno(path, "write failed"));
}

void write_package_contents(const ir::Graph& graph, const CoreMLOptions& options, const fs::path& root) {
  const fs::path data = root / "Data" / "com.apple.CoreML";
  std::error_code ec;
  fs::create_directories(data / "weights", ec);
  if (ec) throw CoreMLError(root.string() + ": cannot create package directory: " + ec.message());

  Spec::Model model;
  BlobStorageWriter blobs(data / "weights" / "weight.bin");
  build_model(graph, options, blobs, model);
  blobs.finish();

  // Deterministic map order: the same graph always gives the same bytes.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    if (!model.SerializeToCodedStream(&coded)) throw CoreMLError(root.string() + ": cannot serialize the model");
  }
  write_file(data / "model.mlmodel", bytes);

  const std::string model_id = uuid4(), weights_id = uuid4();
  nlohmann::ordered_json manifest;
  manifest["fileFormatVersion"] = "1.0.0";
  manifest["itemInfoEntries"][model_id] = {{"author", "com.apple.CoreML"},
                                           {"description", "CoreML Model Specification"},
                                           {"name", "model.mlmodel"},
                                           {"path", "com.apple.CoreML/model.mlmodel"}};
  manifest["itemInfoEntries"][weights_id] = {{"author", "com.apple.CoreML"},
                                             {"description", "CoreML Model Weights"},
                                             {"name", "weights"},
                                             {"path", "com.apple.CoreML/weights"}};
  manifest["rootModelIdentifier"] = model_id;
  write_file(root / "Manifest.json", manifest.dump(4) + "\n");
}

}  // namespace

void write_mlpackage(const ir::Graph& graph, const CoreMLOptions& options, io::StagedOutput& staged) {
  write_package_contents(graph, options, staged.path());
}

void write_mlpackage(const ir::Graph& graph, const CoreMLOptions& options, const fs::path& out) {
  // This backend's error type for callers of the backend alone.
  try {
    io::StagedOutput staged(out, io::OutputKind::Directory, options.overwrite);
    write_mlpackage(graph, options, staged);
    staged.commit();
  } catch (const io::OutputError& e) {
    throw CoreMLError(e.what());
  }
}

}  // namespace exporters::coreml
