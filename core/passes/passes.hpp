// Graph passes. Each is one linear sweep (see rewriter.hpp), keeps the graph
// valid for ir::verify, keeps output names, removes the nodes it made dead,
// and has golden-text tests in tests/passes/.
#pragma once

#include "exporters/ir/graph.hpp"

namespace exporters::passes {

// Evaluates nodes whose inputs are all constants with the reference
// interpreter. Never folds graph inputs; skips results above 64 MiB and
// broadcasts that would grow a constant past 1 MiB; leaves ops the
// interpreter cannot evaluate for the backend.
void fold_constants(ir::Graph& graph);
// Drops nodes no output depends on (graph inputs are kept).
void eliminate_dead_code(ir::Graph& graph);
// mean/sub/pow|mul/mean/add/sqrt|rsqrt/div|mul (+ constant mul/add) ->
// layer_norm over trailing axes, or transpose/layer_norm/transpose for one
// inner axis (ConvNeXT channels-first).
void fuse_layer_norm(ir::Graph& graph);
// erf and tanh (GPT-2 NewGELU) forms -> gelu{approximate}.
void fuse_gelu(ir::Graph& graph);
// Exact rewrites only: elementwise mask arithmetic moves before an expand,
// expands into broadcasting binary ops are dropped, and for bool masks
// (1 - m) * C and its masked_fill spelling become where(m, 0, C). Integer
// masks keep their arithmetic; float32's min is never clamped here.
void simplify_attention_mask(ir::Graph& graph);
// identity ops, reshape/expand to the same shape, identity transposes,
// casts to the same dtype; composes transpose and reshape chains and
// casts through a dtype that holds every source value exactly.
void cancel_identities(ir::Graph& graph);

// The default pipeline run after the frontend: cancel_identities,
// fold_constants, fuse_gelu, fuse_layer_norm, simplify_attention_mask,
// cancel_identities, eliminate_dead_code.
void run_default_pipeline(ir::Graph& graph);

}  // namespace exporters::passes
