#include "passes.hpp"

namespace exporters::passes {

void run_default_pipeline(ir::Graph& graph) {
  cancel_identities(graph);  // exposes patterns hidden behind no-op casts and reshapes
  fold_constants(graph);     // weight[:, None, None] and friends become plain constants
  fuse_gelu(graph);
  fuse_layer_norm(graph);
  simplify_attention_mask(graph);
  cancel_identities(graph);  // fusions leave transpose pairs and no-op reshapes behind
  eliminate_dead_code(graph);
}

}  // namespace exporters::passes
