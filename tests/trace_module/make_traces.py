#!/usr/bin/python3
"""Traces the archives the trace-class tests read, with Debian's python3-torch.

  make_traces.py OUT_DIR

Writes OUT_DIR/plain.pt (an HF-like module whose class is
transformers.models.bert.modeling_bert.BertForMaskedLM), wrapper.pt (an app's
Wrapper module holding such a model as a submodule), plain_again.pt (plain
traced once more: a mangled class path), deflated.pt (plain.pt
re-packed with every record deflated), no_pickle.pt (the records without
data.pkl), stack_global.pt and not_object.pt (hand-made pickles, see
below) and expected.json: each archive's root class as LibTorch names it
(the scripted type's qualified name), the independent expectation.
"""
import json
import os
import pickle
import sys
import types
import zipfile

import torch
from torch import nn


class MaskedLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 8)
        self.encoder = nn.Linear(8, 8)
        self.head = nn.Linear(8, 50)

    def forward(self, input_ids):
        return self.head(torch.relu(self.encoder(self.embed(input_ids))))


class Encoder(nn.Module):  # a nested transformers class: must not be mistaken for the root
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(8, 8)

    def forward(self, x):
        return self.layer(x)


class Wrapper(nn.Module):
    def __init__(self):
        super().__init__()
        self.model = MaskedLM()
        self.post = Encoder()

    def forward(self, input_ids):
        return self.model(input_ids).softmax(-1)


class Thing:
    pass


def hf_name(cls, module, name):
    cls.__module__ = module
    cls.__name__ = cls.__qualname__ = name


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    hf_name(MaskedLM, "transformers.models.bert.modeling_bert", "BertForMaskedLM")
    hf_name(Encoder, "transformers.models.bert.modeling_bert", "BertEncoder")
    hf_name(Wrapper, "demo_app.export", "Wrapper")
    torch.manual_seed(0)
    ids = torch.randint(0, 50, (1, 6))
    expected = {}
    # plain_again: traced after the others, LibTorch mangles its class's
    # module path (...modeling_bert.___torch_mangle_<n>.BertForMaskedLM).
    for name, module in [("plain", MaskedLM()), ("wrapper", Wrapper()), ("plain_again", MaskedLM())]:
        traced = torch.jit.trace(module.eval(), (ids,))
        path = os.path.join(out, name + ".pt")
        traced.save(path)
        expected[name] = traced._c._type().qualified_name()
    # The same records, deflated (data.pkl included), and without data.pkl.
    with zipfile.ZipFile(os.path.join(out, "plain.pt")) as src, \
            zipfile.ZipFile(os.path.join(out, "deflated.pt"), "w", zipfile.ZIP_DEFLATED) as deflated, \
            zipfile.ZipFile(os.path.join(out, "no_pickle.pt"), "w", zipfile.ZIP_STORED) as bare:
        for info in src.infolist():
            data = src.read(info)
            deflated.writestr(info.filename, data)
            if not info.filename.endswith("/data.pkl"):
                bare.writestr(info.filename, data)
    expected["deflated"] = expected["plain"]
    # Pickles LibTorch does not write but a reader must take or refuse:
    # protocol 4 (STACK_GLOBAL, FRAME, MEMOIZE) building an object, and a
    # data.pkl whose root is a list, not an object.
    module = types.ModuleType("demo_pickled")
    module.Thing = Thing
    Thing.__module__ = "demo_pickled"
    sys.modules[module.__name__] = module
    for name, root, protocol in [("stack_global", Thing(), 4), ("not_object", [1, 2], 2)]:
        with zipfile.ZipFile(os.path.join(out, name + ".pt"), "w", zipfile.ZIP_STORED) as z:
            z.writestr("archive/data.pkl", pickle.dumps(root, protocol=protocol))
            z.writestr("archive/version", "3\n")
    expected["stack_global"] = f"{Thing.__module__}.{Thing.__qualname__}"
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)


if __name__ == "__main__":
    main()
