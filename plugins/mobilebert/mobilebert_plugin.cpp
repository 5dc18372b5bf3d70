#include <exporters/plugin.hpp>

#include "family.hpp"

// MobileBERT (model_type "mobilebert"). Its "NoNorm" layers are only an
// elementwise affine map, so nothing re-centres activations between the
// bottleneck blocks and fp16 rounding compounds over the (many, in the real
// model 24) layers: float16 tolerance 2e-2 of the output's max magnitude.
// MobileBERT runs without an attention mask (--no-attention-mask).
namespace {
void register_mobilebert(exporters::PluginRegistrar* r) {
  exporters::plugins::TextFamily f{"MobileBert", "MobileBERT", true, true, 128, 2e-2};
  struct Flag : exporters::PluginRegistrar {
    exporters::PluginRegistrar* inner;
    explicit Flag(exporters::PluginRegistrar* i) : inner(i) {}
    void add_task(const exporters::TaskSpec& spec) override {
      exporters::TaskSpec s = spec;
      s.attention_mask_optional = true;
      inner->add_task(s);
    }
    void add_op_converter(const std::string& op, exporters::frontend::OpConverter c) override {
      inner->add_op_converter(op, std::move(c));
    }
    void add_graph_builder(const std::string& hf_class, exporters::GraphBuilder b) override {
      inner->add_graph_builder(hf_class, std::move(b));
    }
  } flag(r);
  exporters::plugins::add_encoder_tasks(&flag, f, true);
}
}  // namespace

EXPORTERS_PLUGIN("mobilebert", "1.0.0", ({"mobilebert", nullptr}), register_mobilebert)
