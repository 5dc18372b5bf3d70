"""Writes a tiny "hello" model folder for the SDK example plugin
(sdk/examples/hello_plugin): config.json, model.pt (a TorchScript trace of
a bag-of-embeddings classifier), model.safetensors with the same weights,
and reference.safetensors (inputs and the PyTorch outputs).
Usage: make_hello_model.py OUT_DIR"""
import json
import os
import struct
import sys

import torch

VOCAB, HIDDEN, LABELS, SEQ = 20, 8, 3, 6


class Hello(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embeddings = torch.nn.Embedding(VOCAB, HIDDEN)
        self.classifier = torch.nn.Linear(HIDDEN, LABELS)

    def forward(self, input_ids, attention_mask):
        h = self.embeddings(input_ids)
        m = attention_mask.to(h.dtype).unsqueeze(-1)
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1.0)
        return (self.classifier(pooled),)


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.contiguous()
        data = t.numpy().tobytes()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header).encode()
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(7)
    model = Hello().eval()
    ids = torch.randint(0, VOCAB, (1, SEQ))
    mask = torch.tensor([[1, 1, 1, 1, 0, 0]])
    with torch.no_grad():
        traced = torch.jit.trace(model, (ids, mask))
        logits = model(ids, mask)[0]
    traced.save(os.path.join(out, "model.pt"))
    config = {"model_type": "hello", "architectures": ["HelloForSequenceClassification"],
              "vocab_size": VOCAB, "hidden_size": HIDDEN, "max_positions": 12,
              "id2label": {"0": "sad", "1": "neutral", "2": "happy"},
              "label2id": {"sad": 0, "neutral": 1, "happy": 2}}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    write_safetensors(os.path.join(out, "model.safetensors"),
                      {k: v.detach() for k, v in model.state_dict().items()})
    write_safetensors(os.path.join(out, "reference.safetensors"),
                      {"input.input_ids": ids, "input.attention_mask": mask, "output.logits": logits})


if __name__ == "__main__":
    main()
