// Graph passes. Each is linear in the graph size and has golden-text tests.
#pragma once

#include "exporters/ir/graph.hpp"

namespace exporters::passes {

void fold_constants(ir::Graph& graph);        // evaluates nodes whose inputs are all constants
void eliminate_dead_code(ir::Graph& graph);   // drops nodes no output depends on
void fuse_layer_norm(ir::Graph& graph);       // mean/sub/pow/mean/add/sqrt/div/mul/add -> layer_norm
void fuse_gelu(ir::Graph& graph);             // erf and tanh forms -> gelu
void simplify_attention_mask(ir::Graph& graph);  // (1 - mask) * min -> one where/select form
void cancel_identities(ir::Graph& graph);     // reshape-to-same, transpose pairs, casts to same type

// The default pipeline run after the frontend.
void run_default_pipeline(ir::Graph& graph);

}  // namespace exporters::passes
