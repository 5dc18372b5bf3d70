#!/usr/bin/python3
"""Builds small or base-sized transformer models in plain PyTorch, traced to
TorchScript in Hugging Face layout (model.pt, config.json, reference.safetensors
and, for vision, preprocessor_config.json).

The models follow the computations of HF's BERT, GPT-2 and ViT (same op
patterns in the trace: extended attention masks, tanh-GELU, pre/post layer
norm) with random weights. Used for the README's example, the benchmark and
the project's own end-to-end tests; needs only Debian's python3-torch.

  make_model.py bert OUT_DIR [--layers 2] [--hidden 64] [--heads 4] [--seq 16]
  make_model.py gpt2 OUT_DIR ...
  make_model.py vit  OUT_DIR [--image-size 32] [--patch 8] ...

The trace records its root class under HF's name (BertForSequenceClassification in
transformers.models.bert.modeling_bert, ...); --no-architectures leaves
architectures out of config.json.
"""
import argparse
import json
import math
import os
import struct

import torch
from torch import nn

# The task of each family's head, as the HF fixtures' fixture.json names it.
TASKS = {"bert": "sequence-classification", "gpt2": "causal-lm", "vit": "image-classification"}
DTYPES = {torch.float32: "F32", torch.int64: "I64", torch.int32: "I32", torch.float16: "F16"}


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = t.numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for c in chunks:
            f.write(c)


class SelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def split(self, x):
        b, s, _ = x.size()
        return x.view(b, s, self.heads, self.head_dim).permute(0, 2, 1, 3)

    def forward(self, x, mask_add):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if mask_add is not None:
            scores = scores + mask_add
        probs = nn.functional.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        b, s = ctx.size()[:2]
        return self.out(ctx.view(b, s, -1))


class EncoderLayer(nn.Module):
    """Post-norm (BERT) or pre-norm (ViT) transformer layer."""

    def __init__(self, hidden, heads, pre_norm):
        super().__init__()
        self.pre_norm = pre_norm
        self.attention = SelfAttention(hidden, heads)
        self.norm1 = nn.LayerNorm(hidden, eps=1e-12)
        self.intermediate = nn.Linear(hidden, 4 * hidden)
        self.output = nn.Linear(4 * hidden, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, mask_add):
        if self.pre_norm:
            x = x + self.attention(self.norm1(x), mask_add)
            return x + self.output(nn.functional.gelu(self.intermediate(self.norm2(x))))
        x = self.norm1(x + self.attention(x, mask_add))
        return self.norm2(x + self.output(nn.functional.gelu(self.intermediate(x))))


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.word = nn.Embedding(c["vocab_size"], h)
        self.position = nn.Embedding(c["max_position_embeddings"], h)
        self.token_type = nn.Embedding(c["type_vocab_size"], h)
        self.norm = nn.LayerNorm(h, eps=1e-12)
        self.layers = nn.ModuleList(EncoderLayer(h, c["num_attention_heads"], False)
                                    for _ in range(c["num_hidden_layers"]))
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, c["num_labels"])
        self.register_buffer("position_ids", torch.arange(c["max_position_embeddings"]).unsqueeze(0), persistent=False)

    def forward(self, input_ids, attention_mask, token_type_ids):
        seq = input_ids.size(1)
        x = self.word(input_ids) + self.position(self.position_ids[:, :seq]) + self.token_type(token_type_ids)
        x = self.norm(x)
        mask = attention_mask[:, None, None, :].to(torch.float32)
        mask_add = (1.0 - mask) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, mask_add)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return (self.classifier(pooled),)


class Gpt2Block(nn.Module):
    def __init__(self, h, heads, n_pos):
        super().__init__()
        self.ln_1 = nn.LayerNorm(h, eps=1e-5)
        self.attn = SelfAttention(h, heads)
        self.ln_2 = nn.LayerNorm(h, eps=1e-5)
        self.fc = nn.Linear(h, 4 * h)
        self.proj = nn.Linear(4 * h, h)
        self.register_buffer("bias", torch.tril(torch.ones(n_pos, n_pos, dtype=torch.bool)).view(1, 1, n_pos, n_pos),
                             persistent=False)

    def forward(self, x, pad_add):
        seq = x.size(1)
        causal = self.bias[:, :, :seq, :seq]
        causal_add = torch.where(causal, torch.zeros([]), torch.full([], torch.finfo(torch.float32).min))
        x = x + self.attn(self.ln_1(x), causal_add + pad_add)
        y = self.fc(self.ln_2(x))
        y = 0.5 * y * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (y + 0.044715 * torch.pow(y, 3.0))))
        return x + self.proj(y)


class Gpt2(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["n_embd"]
        self.wte = nn.Embedding(c["vocab_size"], h)
        self.wpe = nn.Embedding(c["n_positions"], h)
        self.blocks = nn.ModuleList(Gpt2Block(h, c["n_head"], c["n_positions"]) for _ in range(c["n_layer"]))
        self.ln_f = nn.LayerNorm(h, eps=1e-5)
        self.lm_head = nn.Linear(h, c["vocab_size"], bias=False)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.size(-1)
        pos = torch.arange(0, seq, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(pos)
        pad_add = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        for block in self.blocks:
            x = block(x, pad_add)
        return (self.lm_head(self.ln_f(x)),)


class Vit(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, p = c["hidden_size"], c["patch_size"]
        self.patch = nn.Conv2d(3, h, kernel_size=p, stride=p)
        n = (c["image_size"] // p) ** 2
        self.cls = nn.Parameter(torch.randn(1, 1, h) * 0.02)
        self.pos = nn.Parameter(torch.randn(1, n + 1, h) * 0.02)
        self.layers = nn.ModuleList(EncoderLayer(h, c["num_attention_heads"], True)
                                    for _ in range(c["num_hidden_layers"]))
        self.norm = nn.LayerNorm(h, eps=1e-12)
        self.classifier = nn.Linear(h, c["num_labels"])

    def forward(self, pixel_values):
        x = self.patch(pixel_values).flatten(2).transpose(1, 2)
        x = torch.cat((self.cls.expand(x.shape[0], -1, -1), x), dim=1) + self.pos
        for layer in self.layers:
            x = layer(x, None)
        return (self.classifier(self.norm(x)[:, 0, :]),)


def labels(n):
    return {str(i): f"LABEL_{i}" for i in range(n)}


def build(args):
    torch.manual_seed(args.seed)
    g = torch.Generator().manual_seed(args.seed + 1)
    if args.family == "bert":
        config = {"model_type": "bert", "architectures": ["BertForSequenceClassification"],
                  "vocab_size": args.vocab, "hidden_size": args.hidden, "num_hidden_layers": args.layers,
                  "num_attention_heads": args.heads, "intermediate_size": 4 * args.hidden,
                  "max_position_embeddings": max(args.seq, 512), "type_vocab_size": 2, "num_labels": 3,
                  "id2label": labels(3), "label2id": {f"LABEL_{i}": i for i in range(3)},
                  "layer_norm_eps": 1e-12, "hidden_act": "gelu"}
        model = Bert(config)
        ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=g)
        mask = torch.ones(args.batch, args.seq, dtype=torch.long)
        mask[:, args.seq - args.seq // 4:] = 0
        types = torch.zeros(args.batch, args.seq, dtype=torch.long)
        types[:, args.seq // 2:] = 1
        inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        outputs = ["logits"]
    elif args.family == "gpt2":
        config = {"model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "vocab_size": args.vocab,
                  "n_embd": args.hidden, "n_layer": args.layers, "n_head": args.heads,
                  "n_positions": max(args.seq, 1024), "layer_norm_epsilon": 1e-5,
                  "activation_function": "gelu_new"}
        model = Gpt2(config)
        ids = torch.randint(0, args.vocab, (args.batch, args.seq), generator=g)
        mask = torch.ones(args.batch, args.seq, dtype=torch.long)
        inputs = {"input_ids": ids, "attention_mask": mask}
        outputs = ["logits"]
    else:
        config = {"model_type": "vit", "architectures": ["ViTForImageClassification"],
                  "hidden_size": args.hidden, "num_hidden_layers": args.layers,
                  "num_attention_heads": args.heads, "intermediate_size": 4 * args.hidden,
                  "image_size": args.image_size, "patch_size": args.patch, "num_channels": 3,
                  "num_labels": 5, "id2label": labels(5), "label2id": {f"LABEL_{i}": i for i in range(5)}}
        model = Vit(config)
        pixels = torch.rand(args.batch, 3, args.image_size, args.image_size, generator=g) * 2 - 1
        inputs = {"pixel_values": pixels}
        outputs = ["logits"]
        preprocessor = {"do_resize": True, "do_rescale": True, "do_normalize": True,
                        "rescale_factor": 1 / 255, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5],
                        "size": {"height": args.image_size, "width": args.image_size},
                        "image_processor_type": "ViTImageProcessor", "resample": 2}
    config["torchscript"] = True
    config["transformers_version"] = "4.36.2"
    # The trace records its root class as HF's would
    # (__torch__.transformers.models.bert.modeling_bert.BertForSequenceClassification),
    # so a config.json without architectures still names the task.
    hf_class = config["architectures"][0]
    type(model).__module__ = f"transformers.models.{args.family}.modeling_{args.family}"
    type(model).__name__ = type(model).__qualname__ = hf_class
    model.eval()
    # Random but not degenerate norms and biases, as HF fixtures have.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn(p.shape, generator=g) * 0.1)
    with torch.no_grad():
        traced = torch.jit.trace(model, tuple(inputs.values()))
        result = traced(*inputs.values())
    os.makedirs(args.out, exist_ok=True)
    traced.save(os.path.join(args.out, "model.pt"))
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    if args.family == "vit":
        with open(os.path.join(args.out, "preprocessor_config.json"), "w") as f:
            json.dump(preprocessor, f, indent=2)
    ref = {f"input.{k}": v for k, v in inputs.items()}
    ref.update({f"output.{name}": t for name, t in zip(outputs, result)})
    write_safetensors(os.path.join(args.out, "reference.safetensors"), ref)
    if args.no_architectures:
        del config["architectures"]
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump(config, f, indent=2)
    fixture = {"name": os.path.basename(os.path.normpath(args.out)), "model_type": config["model_type"],
               "hf_class": hf_class, "task": TASKS[args.family],
               "inputs": [{"name": k, "dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)}
                          for k, v in inputs.items()],
               "outputs": [{"name": n, "dtype": "float32", "shape": list(t.shape)} for n, t in zip(outputs, result)]}
    with open(os.path.join(args.out, "fixture.json"), "w") as f:
        json.dump(fixture, f, indent=2)
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out}: {hf_class}, {params} parameters")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("family", choices=["bert", "gpt2", "vit"])
    ap.add_argument("out")
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=1000)
    ap.add_argument("--seq", type=int, default=16)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--patch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-architectures", action="store_true",
                    help="config.json without architectures: the task comes from the class the trace records")
    build(ap.parse_args())


if __name__ == "__main__":
    main()
