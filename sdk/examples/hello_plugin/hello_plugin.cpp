// A minimal exporters plugin: it serves model_type "hello" with one task and
// overrides one op converter. Build it out of tree against an installed SDK:
//   meson setup build && ninja -C build && meson install -C build
#include <exporters/plugin.hpp>

namespace {

void register_hello(exporters::PluginRegistrar* registrar) {
  exporters::TaskSpec classify;
  classify.hf_class = "HelloForSequenceClassification";
  classify.task = "text-classification";
  classify.inputs.push_back({"input_ids", exporters::ir::DType::I64, {1, -1}, false,
                             "Token ids from the tokenizer"});
  classify.inputs.push_back({"attention_mask", exporters::ir::DType::I64, {1, -1}, true,
                             "1 for real tokens, 0 for padding"});
  classify.output_names = {"logits"};
  classify.default_sequence_length = 16;
  registrar->add_task(classify);

  // A quirk: this family's traces call aten::hello_identity, which the host
  // does not know; it simply forwards its tensor input.
  registrar->add_op_converter(
      "aten::hello_identity",
      [](exporters::frontend::ConversionContext& ctx, const exporters::frontend::NodeView& node)
          -> std::vector<exporters::frontend::Operand> { return {ctx.tensor(node, 0)}; });
}

}  // namespace

EXPORTERS_PLUGIN("hello", "0.1.0", ({"hello", nullptr}), register_hello)
