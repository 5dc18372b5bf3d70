#!/usr/bin/python3
"""An independent BERT for the graph-builder tests, in plain PyTorch.

It computes what transformers 4.36's modeling_bert.py documents for each
class (eval mode) straight from a state_dict with transformers' tensor
names, so it can (a) check itself against the HF fixtures' reference outputs
and (b) make small checkpoints the fixtures do not cover, with their
reference outputs.

  bert_reference.py check FIXTURE_DIR CLASS
      runs the reference on FIXTURE_DIR/model.safetensors and every
      reference*.safetensors there; prints the max error; exit 1 above 1e-4.
  bert_reference.py make OUT_DIR CLASS [--act A] [--positions P] [--dtype F32|F16|BF16]
                    [--shards N] [--base-only] [--omit-decoder] [--no-tie] [--seq 16]
                    [--vocab V --hidden H --heads N --intermediate I --max-positions P --layers L]
      writes config.json, model.safetensors (or N shards + index) and
      reference.safetensors (input.* and the raw output.* of CLASS).
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn.functional as F

ST_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}
ST_NAMES = {v: k for k, v in ST_DTYPES.items()}


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        raw = bytearray(data[b:end])
        if e["dtype"] == "BF16":
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.zeros(0, dtype=torch.bfloat16)
        else:
            t = torch.frombuffer(raw, dtype=ST_DTYPES[e["dtype"]]) if raw else torch.zeros(0, dtype=ST_DTYPES[e["dtype"]])
        out[name] = t.reshape(e["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, chunks, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        data = (t.view(torch.int16) if t.dtype == torch.bfloat16 else t).numpy().tobytes()
        header[name] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
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


# transformers' ACT2FN, from the formulas its activations.py documents.
def gelu_tanh(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACT = {
    "gelu": lambda x: F.gelu(x),
    "gelu_python": lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
    "gelu_new": gelu_tanh,
    "gelu_fast": lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
    "gelu_accurate": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "gelu_10": lambda x: torch.clip(F.gelu(x), -10, 10),
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "laplace": lambda x: 0.5 * (1.0 + torch.erf((x - 0.707107) / (0.282095 * math.sqrt(2.0)))),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "linear": lambda x: x,
    "mish": lambda x: x * torch.tanh(F.softplus(x)),
    "relu": F.relu,
    "relu2": lambda x: torch.square(F.relu(x)),
    "relu6": lambda x: torch.clamp(x, 0, 6),
    "sigmoid": torch.sigmoid,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": torch.tanh,
}

POOLED = {"BertModel", "BertForSequenceClassification", "BertForMultipleChoice", "BertForNextSentencePrediction",
          "BertForPreTraining"}


def forward(W, cfg, cls, input_ids, attention_mask, token_type_ids):
    """The raw outputs of `cls`, in the order its trace returns them."""
    W = {k: v.float() for k, v in W.items()}
    p = "bert." if "bert.embeddings.word_embeddings.weight" in W else ""
    H, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    D = H // heads
    eps = cfg.get("layer_norm_eps", 1e-12)
    act = ACT[cfg.get("hidden_act", "gelu")]
    pos_type = cfg.get("position_embedding_type", "absolute")
    P = cfg["max_position_embeddings"]
    shape = input_ids.shape
    if cls == "BertForMultipleChoice":
        input_ids, attention_mask, token_type_ids = (t.reshape(-1, shape[-1]) for t in (input_ids, attention_mask, token_type_ids))
    B, S = input_ids.shape

    def lin(x, name):
        return F.linear(x, W[name + ".weight"], W.get(name + ".bias"))

    def ln(x, name):
        return F.layer_norm(x, (H,), W[name + ".weight"], W[name + ".bias"], eps)

    e = p + "embeddings."
    x = W[e + "word_embeddings.weight"][input_ids] + W[e + "token_type_embeddings.weight"][token_type_ids]
    if pos_type == "absolute":
        x = x + W[e + "position_embeddings.weight"][torch.arange(S)][None]
    x = ln(x, e + "LayerNorm")
    mask = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
    for i in range(cfg["num_hidden_layers"]):
        L = f"{p}encoder.layer.{i}."
        split = lambda t: t.view(B, S, heads, D).permute(0, 2, 1, 3)
        q, k, v = (split(lin(x, L + "attention.self." + n)) for n in ("query", "key", "value"))
        scores = q @ k.transpose(-1, -2)
        if pos_type in ("relative_key", "relative_key_query"):
            dist = torch.arange(S).view(-1, 1) - torch.arange(S).view(1, -1)
            pe = W[L + "attention.self.distance_embedding.weight"][dist + P - 1]
            scores = scores + torch.einsum("bhld,lrd->bhlr", q, pe)
            if pos_type == "relative_key_query":
                scores = scores + torch.einsum("bhrd,lrd->bhlr", k, pe)
        scores = scores / math.sqrt(D) + mask
        ctx = (torch.softmax(scores, -1) @ v).permute(0, 2, 1, 3).reshape(B, S, H)
        a = ln(lin(ctx, L + "attention.output.dense") + x, L + "attention.output.LayerNorm")
        x = ln(lin(act(lin(a, L + "intermediate.dense")), L + "output.dense") + a, L + "output.LayerNorm")
    pooled = torch.tanh(lin(x[:, 0], p + "pooler.dense")) if cls in POOLED else None

    def lm(h):
        h = ln(act(lin(h, "cls.predictions.transform.dense")), "cls.predictions.transform.LayerNorm")
        tie = cfg.get("tie_word_embeddings", True)
        dec = W[e + "word_embeddings.weight"] if tie else W["cls.predictions.decoder.weight"]
        return F.linear(h, dec, W["cls.predictions.bias"])

    if cls == "BertModel":
        return [x, pooled]
    if cls == "BertForMaskedLM":
        return [lm(x)]
    if cls == "BertForSequenceClassification":
        return [lin(pooled, "classifier")]
    if cls == "BertForTokenClassification":
        return [lin(x, "classifier")]
    if cls == "BertForQuestionAnswering":
        s, e2 = lin(x, "qa_outputs").split(1, dim=-1)
        return [s.squeeze(-1), e2.squeeze(-1)]
    if cls == "BertForMultipleChoice":
        return [lin(pooled, "classifier").view(-1, shape[1])]
    if cls == "BertForNextSentencePrediction":
        return [lin(pooled, "cls.seq_relationship")]
    if cls == "BertForPreTraining":
        return [lm(x), lin(pooled, "cls.seq_relationship")]
    raise SystemExit(f"unknown class {cls}")


OUTPUTS = {"BertModel": ["last_hidden_state", "pooler_output"], "BertForQuestionAnswering": ["start_logits", "end_logits"],
           "BertForPreTraining": ["prediction_logits", "seq_relationship_logits"]}


def check(args):
    cfg = json.load(open(os.path.join(args.dir, "config.json")))
    W = read_safetensors(os.path.join(args.dir, "model.safetensors"))
    fixture = json.load(open(os.path.join(args.dir, "fixture.json")))
    names = [o["name"] for o in fixture["outputs"]]
    worst = 0.0
    for f in sorted(os.listdir(args.dir)):
        if not (f.startswith("reference") and f.endswith(".safetensors")):
            continue
        ref = read_safetensors(os.path.join(args.dir, f))
        with torch.no_grad():
            got = forward(W, cfg, args.cls, ref["input.input_ids"], ref["input.attention_mask"], ref["input.token_type_ids"])
        for n, g in zip(names, got):
            want = ref["output." + n]
            err = float((g - want).abs().max()) / max(1.0, float(want.abs().max()))
            print(f"{args.cls} {f} {n}: scaled error {err:.3g}")
            worst = max(worst, err)
    return 0 if worst <= 1e-4 else 1


def make(args):
    torch.manual_seed(args.seed)
    V, H, heads, I, P, T, layers = args.vocab, args.hidden, args.heads, args.intermediate, args.max_positions, 2, args.layers
    cfg = {"model_type": "bert", "architectures": [args.cls], "vocab_size": V, "hidden_size": H,
           "num_attention_heads": heads, "intermediate_size": I, "max_position_embeddings": P,
           "type_vocab_size": T, "num_hidden_layers": layers, "hidden_act": args.act, "layer_norm_eps": 1e-12,
           "position_embedding_type": args.positions, "pad_token_id": 0, "hidden_dropout_prob": 0.1,
           "attention_probs_dropout_prob": 0.1, "chunk_size_feed_forward": 0, "is_decoder": False,
           "add_cross_attention": False, "id2label": {"0": "NEG", "1": "NEU", "2": "POS"}, "transformers_version": "4.36.2"}
    if args.no_tie:
        cfg["tie_word_embeddings"] = False
    rnd = lambda *s: torch.randn(*s) * 0.2
    W = {}
    pre = "" if args.base_only or args.cls == "BertModel" else "bert."
    e = pre + "embeddings."
    W[e + "word_embeddings.weight"] = rnd(V, H)
    W[e + "position_embeddings.weight"] = rnd(P, H)
    W[e + "token_type_embeddings.weight"] = rnd(T, H)

    def add_lin(name, o, i):
        W[name + ".weight"], W[name + ".bias"] = rnd(o, i), rnd(o)

    def add_ln(name, n=H):
        W[name + ".weight"], W[name + ".bias"] = 1 + rnd(n), rnd(n)

    add_ln(e + "LayerNorm")
    for i in range(layers):
        L = f"{pre}encoder.layer.{i}."
        for n in ("query", "key", "value"):
            add_lin(L + "attention.self." + n, H, H)
        if args.positions != "absolute":
            W[L + "attention.self.distance_embedding.weight"] = rnd(2 * P - 1, H // heads)
        add_lin(L + "attention.output.dense", H, H)
        add_ln(L + "attention.output.LayerNorm")
        add_lin(L + "intermediate.dense", I, H)
        add_lin(L + "output.dense", H, I)
        add_ln(L + "output.LayerNorm")
    add_lin(pre + "pooler.dense", H, H)
    if not args.base_only:
        if args.cls in ("BertForMaskedLM", "BertForPreTraining"):
            add_lin("cls.predictions.transform.dense", H, H)
            add_ln("cls.predictions.transform.LayerNorm")
            W["cls.predictions.bias"] = rnd(V)
            if args.no_tie:
                W["cls.predictions.decoder.weight"] = rnd(V, H)
            elif not args.omit_decoder:
                W["cls.predictions.decoder.weight"] = W[e + "word_embeddings.weight"].clone()
        if args.cls in ("BertForSequenceClassification", "BertForTokenClassification"):
            add_lin("classifier", 3, H)
        if args.cls == "BertForMultipleChoice":
            add_lin("classifier", 1, H)
        if args.cls == "BertForQuestionAnswering":
            add_lin("qa_outputs", 2, H)
        if args.cls in ("BertForNextSentencePrediction", "BertForPreTraining"):
            add_lin("cls.seq_relationship", 2, H)
    dtype = ST_DTYPES[args.dtype]
    W = {k: v.to(dtype) for k, v in W.items()}

    os.makedirs(args.dir, exist_ok=True)
    json.dump(cfg, open(os.path.join(args.dir, "config.json"), "w"), indent=2)
    if args.shards > 1:
        names = sorted(W)
        weight_map = {}
        for s in range(args.shards):
            part = {n: W[n] for n in names[s::args.shards]}
            fname = f"model-{s + 1:05d}-of-{args.shards:05d}.safetensors"
            write_safetensors(os.path.join(args.dir, fname), part)
            weight_map.update({n: fname for n in part})
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map},
                  open(os.path.join(args.dir, "model.safetensors.index.json"), "w"))
    else:
        write_safetensors(os.path.join(args.dir, "model.safetensors"), W)

    shape = (2, 2, args.seq) if args.cls == "BertForMultipleChoice" else (2, args.seq)
    ids = torch.randint(1, V, shape)
    mask = torch.ones(shape, dtype=torch.int64)
    mask[..., args.seq - 3:] = 0  # padding at the end
    mask[0, ...] = 1
    types = torch.zeros(shape, dtype=torch.int64)
    types[..., args.seq // 2:] = 1
    ref = {"input.input_ids": ids, "input.attention_mask": mask, "input.token_type_ids": types}
    outs = []
    if not (args.base_only and args.cls != "BertModel"):  # a head class without head weights has no outputs
        with torch.no_grad():
            outs = forward(W, cfg, args.cls, ids, mask, types)
    names = OUTPUTS.get(args.cls, ["logits"])
    ref.update({"output." + n: o.float().contiguous() for n, o in zip(names, outs)})
    write_safetensors(os.path.join(args.dir, "reference.safetensors"), ref)
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("dir")
    c.add_argument("cls")
    m = sub.add_parser("make")
    m.add_argument("dir")
    m.add_argument("cls")
    m.add_argument("--act", default="gelu")
    m.add_argument("--positions", default="absolute")
    m.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"])
    m.add_argument("--shards", type=int, default=1)
    m.add_argument("--base-only", action="store_true")
    m.add_argument("--omit-decoder", action="store_true")
    m.add_argument("--no-tie", action="store_true")
    m.add_argument("--seq", type=int, default=16)
    m.add_argument("--seed", type=int, default=7)
    # Sizes (default: the tiny test model; the benchmark makes BERT-base).
    m.add_argument("--vocab", type=int, default=97)
    m.add_argument("--hidden", type=int, default=32)
    m.add_argument("--heads", type=int, default=4)
    m.add_argument("--intermediate", type=int, default=48)
    m.add_argument("--max-positions", type=int, default=40)
    m.add_argument("--layers", type=int, default=2)
    args = ap.parse_args()
    sys.exit(check(args) if args.cmd == "check" else make(args))


if __name__ == "__main__":
    main()
