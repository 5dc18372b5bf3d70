"""Test modules for the elementwise / reduction / shape / creation converters.

trace_modules.py imports MODULES from here, traces every entry with
torch.jit.trace and records torch's outputs as the expected values.

Format of one entry (a tuple):

    (name, module, inputs)            or
    (name, module, inputs, options)

  name     unique case name, [a-z0-9_]+ (prefix "ops_" for this file); it
           becomes <name>.pt / <name>.safetensors and a doctest SUBCASE.
  module   a torch.nn.Module instance; the tracer calls .eval() on it.
  inputs   a tuple of tensors passed positionally to forward(); their names
           are forward()'s argument names (input.<argname> in safetensors).
           Every dtype the IR has is allowed (float32, float16, int32,
           int64, bool, int8, uint8). Outputs may be a tensor or a
           tuple/list of tensors (flattened to output.0, output.1, ...).
  options  optional dict:
             "atol": float   absolute tolerance (default 1e-4; values with
                              magnitude > 1 are compared relatively)
             "shapes": {argname: [dims]}  shapes to specialise the trace to
                              (defaults to the shapes of `inputs`)

Entries are built at import time; the seed below keeps weights and inputs
deterministic.
"""
import torch

torch.manual_seed(0)

MODULES = []
