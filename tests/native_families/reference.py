"""Independent PyTorch references of GPT-2, DistilBERT, ViT and ConvNeXT for
the native graph-builder tests, written from transformers 4.36's documented
behaviour (no transformers package here), with plain torch ops.

  reference.py init FAMILY CLASS DIR [--batch B] [--seq S] [--seed N]
      reads DIR/config.json, writes DIR/model.safetensors (random weights
      under transformers' state_dict names) and DIR/inputs.safetensors
      (input.<name>).
  reference.py run FAMILY CLASS DIR INPUTS OUT
      runs CLASS on DIR/config.json + DIR/model.safetensors and the
      input.<name> tensors of INPUTS, writes output.<name> to OUT.

The tests check `run` against a shared HF fixture first, so the reference
itself is checked against transformers.
"""
import json
import math
import struct
import sys

import torch
import torch.nn.functional as F

# ── safetensors (the format is a little-endian u64 header size, a JSON
#    header, then the raw bytes) ─────────────────────────────────────────────
_DT = {"F32": torch.float32, "I64": torch.int64, "BOOL": torch.bool, "F16": torch.float16}
_NAME = {v: k for k, v in _DT.items()}


def load(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = bytearray(data[8 + n + a : 8 + n + b])
        t = torch.frombuffer(raw, dtype=_DT[info["dtype"]]) if raw else torch.empty(0, dtype=_DT[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def save(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.numpy().tobytes()
        header[name] = {"dtype": _NAME[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ── activations (transformers 4.36 activations.py ACT2FN, by formula) ──────
def act(name, x):
    if name in ("gelu", "gelu_python"):
        return 0.5 * x * (1 + torch.erf(x / math.sqrt(2.0)))
    if name in ("gelu_new", "gelu_fast", "gelu_accurate", "gelu_pytorch_tanh"):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    if name == "gelu_10":
        return torch.clamp(0.5 * x * (1 + torch.erf(x / math.sqrt(2.0))), -10, 10)
    if name == "quick_gelu":
        return x * torch.sigmoid(1.702 * x)
    if name == "relu":
        return torch.clamp(x, min=0)
    if name == "relu2":
        return torch.clamp(x, min=0) ** 2
    if name == "relu6":
        return torch.clamp(x, 0, 6)
    if name in ("silu", "swish"):
        return x * torch.sigmoid(x)
    if name == "sigmoid":
        return torch.sigmoid(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "linear":
        return x
    if name == "mish":
        return x * torch.tanh(F.softplus(x))
    if name == "leaky_relu":
        return torch.where(x >= 0, x, 0.01 * x)
    if name == "laplace":
        return 0.5 * (1 + torch.erf((x - 0.707107) / (0.282095 * math.sqrt(2.0))))
    raise SystemExit(f"reference.py: no activation {name}")


def layer_norm(x, w, prefix, eps, dims=1):
    mean = x.mean(dim=tuple(range(-dims, 0)), keepdim=True)
    var = ((x - mean) ** 2).mean(dim=tuple(range(-dims, 0)), keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w[prefix + ".weight"] + w[prefix + ".bias"]


def linear(x, w, prefix, bias=True):
    y = x @ w[prefix + ".weight"].t()
    return y + w[prefix + ".bias"] if bias else y


NEG = torch.finfo(torch.float32).min


def prefixed(w, prefix):
    """The base model's tensors without their prefix (head checkpoints) or as stored."""
    if any(k.startswith(prefix + ".") for k in w):
        return {k[len(prefix) + 1 :]: v for k, v in w.items() if k.startswith(prefix + ".")}
    return w


def num_labels(c, fallback=2):
    if "id2label" in c:
        return len(c["id2label"])
    return c.get("num_labels", fallback)


# ── GPT-2 ──────────────────────────────────────────────────────────────────
def gpt2_shapes(c, cls):
    d, v, p, inner = c["n_embd"], c["vocab_size"], c["n_positions"], c.get("n_inner") or 4 * c["n_embd"]
    s = {"transformer.wte.weight": [v, d], "transformer.wpe.weight": [p, d],
         "transformer.ln_f.weight": [d], "transformer.ln_f.bias": [d]}
    for l in range(c["n_layer"]):
        h = f"transformer.h.{l}."
        for ln in ("ln_1", "ln_2"):
            s[h + ln + ".weight"] = [d]
            s[h + ln + ".bias"] = [d]
        for name, i, o in (("attn.c_attn", d, 3 * d), ("attn.c_proj", d, d), ("mlp.c_fc", d, inner), ("mlp.c_proj", inner, d)):
            s[h + name + ".weight"] = [i, o]
            s[h + name + ".bias"] = [o]
    if cls == "GPT2LMHeadModel" and c.get("tie_word_embeddings", True) is False:
        s["lm_head.weight"] = [v, d]
    if cls == "GPT2ForSequenceClassification":
        s["score.weight"] = [num_labels(c), d]
    if cls == "GPT2ForTokenClassification":
        s["classifier.weight"] = [num_labels(c), d]
        s["classifier.bias"] = [num_labels(c)]
    return s


def gpt2_run(c, cls, w, inputs):
    t = prefixed(w, "transformer")
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    B, S = ids.shape
    d, H = c["n_embd"], c["n_head"]
    hd = d // H
    eps = c.get("layer_norm_epsilon", 1e-5)
    x = t["wte.weight"][ids] + t["wpe.weight"][torch.arange(S)][None]
    add = None if mask is None else (1.0 - mask[:, None, None, :].float()) * NEG
    causal = torch.tril(torch.ones(S, S, dtype=torch.bool))
    for l in range(c["n_layer"]):
        p = f"h.{l}."
        h = layer_norm(x, t, p + "ln_1", eps)
        qkv = h @ t[p + "attn.c_attn.weight"] + t[p + "attn.c_attn.bias"]
        q, k, v = (z.reshape(B, S, H, hd).permute(0, 2, 1, 3) for z in qkv.split(d, dim=-1))
        if c.get("reorder_and_upcast_attn", False):
            f = 1.0
            if c.get("scale_attn_weights", True):
                f /= float(hd) ** 0.5
            if c.get("scale_attn_by_inverse_layer_idx", False):
                f /= float(l + 1)
            a = torch.baddbmm(torch.empty(B * H, S, S), q.reshape(-1, S, hd), k.reshape(-1, S, hd).transpose(-1, -2),
                              beta=0, alpha=f).reshape(B, H, S, S)
        else:
            a = q @ k.transpose(-1, -2)
            if c.get("scale_attn_weights", True):
                a = a / torch.full([], hd**0.5)
            if c.get("scale_attn_by_inverse_layer_idx", False):
                a = a / float(l + 1)
        a = torch.where(causal, a, torch.tensor(NEG))
        if add is not None:
            a = a + add
        o = (torch.softmax(a, -1) @ v).permute(0, 2, 1, 3).reshape(B, S, d)
        x = x + o @ t[p + "attn.c_proj.weight"] + t[p + "attn.c_proj.bias"]
        h = layer_norm(x, t, p + "ln_2", eps)
        h = act(c.get("activation_function", "gelu_new"), h @ t[p + "mlp.c_fc.weight"] + t[p + "mlp.c_fc.bias"])
        x = x + h @ t[p + "mlp.c_proj.weight"] + t[p + "mlp.c_proj.bias"]
    x = layer_norm(x, t, "ln_f", eps)
    if cls == "GPT2Model":
        return {"last_hidden_state": x}
    if cls == "GPT2LMHeadModel":
        head = t["wte.weight"] if c.get("tie_word_embeddings", True) else w["lm_head.weight"]
        return {"logits": x @ head.t()}
    if cls == "GPT2ForTokenClassification":
        return {"logits": linear(x, w, "classifier")}
    if cls == "GPT2ForSequenceClassification":
        logits = linear(x, w, "score", bias=False)
        pad = c.get("pad_token_id")
        if pad is None:
            last = torch.full((B,), S - 1)
        else:
            # the token before the first pad token, or the last token
            last = torch.tensor([next((i - 1) % S for i in range(S) if ids[b, i] == pad) if (ids[b] == pad).any()
                                 else S - 1 for b in range(B)])
        return {"logits": logits[torch.arange(B), last]}
    raise SystemExit(f"reference.py: no class {cls}")


# ── DistilBERT ─────────────────────────────────────────────────────────────
def distilbert_shapes(c, cls):
    d, v, p, hid = c["dim"], c["vocab_size"], c["max_position_embeddings"], c.get("hidden_dim", 3072)
    s = {"distilbert.embeddings.word_embeddings.weight": [v, d],
         "distilbert.embeddings.LayerNorm.weight": [d], "distilbert.embeddings.LayerNorm.bias": [d]}
    if not c.get("sinusoidal_pos_embds", False):
        s["distilbert.embeddings.position_embeddings.weight"] = [p, d]
    for l in range(c["n_layers"]):
        h = f"distilbert.transformer.layer.{l}."
        for name, i, o in (("attention.q_lin", d, d), ("attention.k_lin", d, d), ("attention.v_lin", d, d),
                           ("attention.out_lin", d, d), ("ffn.lin1", d, hid), ("ffn.lin2", hid, d)):
            s[h + name + ".weight"] = [o, i]
            s[h + name + ".bias"] = [o]
        for ln in ("sa_layer_norm", "output_layer_norm"):
            s[h + ln + ".weight"] = [d]
            s[h + ln + ".bias"] = [d]
    n = num_labels(c)
    if cls == "DistilBertForMaskedLM":
        s.update({"vocab_transform.weight": [d, d], "vocab_transform.bias": [d], "vocab_layer_norm.weight": [d],
                  "vocab_layer_norm.bias": [d], "vocab_projector.bias": [v]})
        if c.get("tie_word_embeddings", True) is False:
            s["vocab_projector.weight"] = [v, d]
    if cls in ("DistilBertForSequenceClassification", "DistilBertForMultipleChoice"):
        s.update({"pre_classifier.weight": [d, d], "pre_classifier.bias": [d]})
        n = 1 if cls == "DistilBertForMultipleChoice" else n
        s.update({"classifier.weight": [n, d], "classifier.bias": [n]})
    if cls == "DistilBertForTokenClassification":
        s.update({"classifier.weight": [n, d], "classifier.bias": [n]})
    if cls == "DistilBertForQuestionAnswering":
        s.update({"qa_outputs.weight": [2, d], "qa_outputs.bias": [2]})
    return s


def sinusoidal(n_pos, dim):
    out = torch.zeros(n_pos, dim, dtype=torch.float64)
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]
    j = torch.arange(dim)
    enc = pos / torch.pow(torch.tensor(10000.0, dtype=torch.float64), (2 * (j // 2)).double() / dim)
    out[:, 0::2] = torch.sin(enc[:, 0::2])
    out[:, 1::2] = torch.cos(enc[:, 1::2])
    return out.float()


def distilbert_run(c, cls, w, inputs):
    t = prefixed(w, "distilbert")
    ids = inputs["input_ids"]
    mask = inputs.get("attention_mask")
    if cls == "DistilBertForMultipleChoice":
        B0, C = ids.shape[:2]
        ids = ids.reshape(B0 * C, -1)
        mask = None if mask is None else mask.reshape(B0 * C, -1)
    B, S = ids.shape
    d, H = c["dim"], c["n_heads"]
    hd = d // H
    eps = 1e-12
    a_name = c.get("activation", "gelu")
    table = t.get("embeddings.position_embeddings.weight")
    if table is None:
        table = sinusoidal(c["max_position_embeddings"], d)
    x = layer_norm(t["embeddings.word_embeddings.weight"][ids] + table[:S][None], t, "embeddings.LayerNorm", eps)
    if mask is None:
        mask = torch.ones(B, S)
    fill = (mask == 0)[:, None, None, :]
    for l in range(c["n_layers"]):
        p = f"transformer.layer.{l}."
        heads = lambda z: z.reshape(B, S, H, hd).permute(0, 2, 1, 3)
        q = heads(linear(x, t, p + "attention.q_lin")) / math.sqrt(hd)
        k = heads(linear(x, t, p + "attention.k_lin"))
        v = heads(linear(x, t, p + "attention.v_lin"))
        sc = (q @ k.transpose(2, 3)).masked_fill(fill, NEG)
        o = (torch.softmax(sc, -1) @ v).permute(0, 2, 1, 3).reshape(B, S, d)
        sa = layer_norm(linear(o, t, p + "attention.out_lin") + x, t, p + "sa_layer_norm", eps)
        h = linear(act(a_name, linear(sa, t, p + "ffn.lin1")), t, p + "ffn.lin2")
        x = layer_norm(h + sa, t, p + "output_layer_norm", eps)
    if cls == "DistilBertModel":
        return {"last_hidden_state": x}
    if cls == "DistilBertForMaskedLM":
        h = layer_norm(act(a_name, linear(x, w, "vocab_transform")), w, "vocab_layer_norm", eps)
        proj = t["embeddings.word_embeddings.weight"] if c.get("tie_word_embeddings", True) else w["vocab_projector.weight"]
        return {"logits": h @ proj.t() + w["vocab_projector.bias"]}
    if cls == "DistilBertForTokenClassification":
        return {"logits": linear(x, w, "classifier")}
    if cls == "DistilBertForQuestionAnswering":
        lg = linear(x, w, "qa_outputs")
        return {"start_logits": lg[..., 0], "end_logits": lg[..., 1]}
    pooled = torch.clamp(linear(x[:, 0], w, "pre_classifier"), min=0)
    logits = linear(pooled, w, "classifier")
    if cls == "DistilBertForMultipleChoice":
        return {"logits": logits.reshape(B0, C)}
    return {"logits": logits}


def distilbert_inputs(c, batch, seq, gen, choices=0):
    ins = text_inputs(c, batch * max(choices, 1), seq, c["vocab_size"], gen)
    if choices:
        ins = {k: v.reshape(batch, choices, seq) for k, v in ins.items()}
    return ins


# ── ViT ────────────────────────────────────────────────────────────────────
def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def vit_shapes(c, cls):
    d, m, ch = c["hidden_size"], c["intermediate_size"], c.get("num_channels", 3)
    (ih, iw), (ph, pw) = pair(c["image_size"]), pair(c["patch_size"])
    n = (ih // ph) * (iw // pw)
    s = {"vit.embeddings.cls_token": [1, 1, d], "vit.embeddings.position_embeddings": [1, n + 1, d],
         "vit.embeddings.patch_embeddings.projection.weight": [d, ch, ph, pw],
         "vit.embeddings.patch_embeddings.projection.bias": [d], "vit.layernorm.weight": [d], "vit.layernorm.bias": [d]}
    for l in range(c["num_hidden_layers"]):
        h = f"vit.encoder.layer.{l}."
        for name, i, o, bias in (("attention.attention.query", d, d, c.get("qkv_bias", True)),
                                 ("attention.attention.key", d, d, c.get("qkv_bias", True)),
                                 ("attention.attention.value", d, d, c.get("qkv_bias", True)),
                                 ("attention.output.dense", d, d, True), ("intermediate.dense", d, m, True),
                                 ("output.dense", m, d, True)):
            s[h + name + ".weight"] = [o, i]
            if bias:
                s[h + name + ".bias"] = [o]
        for ln in ("layernorm_before", "layernorm_after"):
            s[h + ln + ".weight"] = [d]
            s[h + ln + ".bias"] = [d]
    if cls == "ViTModel":
        s.update({"vit.pooler.dense.weight": [d, d], "vit.pooler.dense.bias": [d]})
    else:
        s.update({"classifier.weight": [num_labels(c), d], "classifier.bias": [num_labels(c)]})
    return s


def vit_run(c, cls, w, inputs):
    t = prefixed(w, "vit")
    px = inputs["pixel_values"]
    B = px.shape[0]
    d, H = c["hidden_size"], c["num_attention_heads"]
    hd = d // H
    eps = c.get("layer_norm_eps", 1e-12)
    ph, pw = pair(c["patch_size"])
    p = F.conv2d(px, t["embeddings.patch_embeddings.projection.weight"], t["embeddings.patch_embeddings.projection.bias"],
                 stride=(ph, pw)).flatten(2).transpose(1, 2)
    x = torch.cat([t["embeddings.cls_token"].expand(B, -1, -1), p], 1) + t["embeddings.position_embeddings"]
    S = x.shape[1]
    for l in range(c["num_hidden_layers"]):
        q_ = f"encoder.layer.{l}."
        h = layer_norm(x, t, q_ + "layernorm_before", eps)
        heads = lambda z: z.reshape(B, S, H, hd).permute(0, 2, 1, 3)
        qkv = [heads(linear(h, t, q_ + "attention.attention." + n, bias=c.get("qkv_bias", True)))
               for n in ("query", "key", "value")]
        sc = qkv[0] @ qkv[1].transpose(-1, -2) / math.sqrt(hd)
        o = (torch.softmax(sc, -1) @ qkv[2]).permute(0, 2, 1, 3).reshape(B, S, d)
        x = linear(o, t, q_ + "attention.output.dense") + x
        h = act(c.get("hidden_act", "gelu"), linear(layer_norm(x, t, q_ + "layernorm_after", eps), t, q_ + "intermediate.dense"))
        x = linear(h, t, q_ + "output.dense") + x
    x = layer_norm(x, t, "layernorm", eps)
    if cls == "ViTModel":
        return {"last_hidden_state": x, "pooler_output": torch.tanh(linear(x[:, 0], t, "pooler.dense"))}
    return {"logits": linear(x[:, 0], w, "classifier")}


def vit_inputs(c, batch, gen):
    ih, iw = pair(c["image_size"])
    return {"pixel_values": torch.randn(batch, c.get("num_channels", 3), ih, iw, generator=gen)}


# ── ConvNeXT ───────────────────────────────────────────────────────────────
def convnext_shapes(c, cls):
    hs, ds, ch, ps = c["hidden_sizes"], c["depths"], c.get("num_channels", 3), c.get("patch_size", 4)
    s = {"convnext.embeddings.patch_embeddings.weight": [hs[0], ch, ps, ps],
         "convnext.embeddings.patch_embeddings.bias": [hs[0]],
         "convnext.embeddings.layernorm.weight": [hs[0]], "convnext.embeddings.layernorm.bias": [hs[0]],
         "convnext.layernorm.weight": [hs[-1]], "convnext.layernorm.bias": [hs[-1]]}
    for i, (dim, depth) in enumerate(zip(hs, ds)):
        st = f"convnext.encoder.stages.{i}."
        if i > 0:
            s.update({st + "downsampling_layer.0.weight": [hs[i - 1]], st + "downsampling_layer.0.bias": [hs[i - 1]],
                      st + "downsampling_layer.1.weight": [dim, hs[i - 1], 2, 2], st + "downsampling_layer.1.bias": [dim]})
        for j in range(depth):
            L = st + f"layers.{j}."
            s.update({L + "dwconv.weight": [dim, 1, 7, 7], L + "dwconv.bias": [dim], L + "layernorm.weight": [dim],
                      L + "layernorm.bias": [dim], L + "pwconv1.weight": [4 * dim, dim], L + "pwconv1.bias": [4 * dim],
                      L + "pwconv2.weight": [dim, 4 * dim], L + "pwconv2.bias": [dim]})
            if c.get("layer_scale_init_value", 1e-6) > 0:
                s[L + "layer_scale_parameter"] = [dim]
    if cls == "ConvNextForImageClassification":
        s.update({"classifier.weight": [num_labels(c), hs[-1]], "classifier.bias": [num_labels(c)]})
    return s


def ln_channels_first(x, t, prefix, eps):
    u = x.mean(1, keepdim=True)
    v = (x - u).pow(2).mean(1, keepdim=True)
    x = (x - u) / torch.sqrt(v + eps)
    return t[prefix + ".weight"][:, None, None] * x + t[prefix + ".bias"][:, None, None]


def convnext_run(c, cls, w, inputs):
    t = prefixed(w, "convnext")
    ps = c.get("patch_size", 4)
    x = F.conv2d(inputs["pixel_values"], t["embeddings.patch_embeddings.weight"], t["embeddings.patch_embeddings.bias"], stride=ps)
    x = ln_channels_first(x, t, "embeddings.layernorm", 1e-6)
    for i, (dim, depth) in enumerate(zip(c["hidden_sizes"], c["depths"])):
        st = f"encoder.stages.{i}."
        if i > 0:
            x = ln_channels_first(x, t, st + "downsampling_layer.0", 1e-6)
            x = F.conv2d(x, t[st + "downsampling_layer.1.weight"], t[st + "downsampling_layer.1.bias"], stride=2)
        for j in range(depth):
            L = st + f"layers.{j}."
            h = F.conv2d(x, t[L + "dwconv.weight"], t[L + "dwconv.bias"], padding=3, groups=dim).permute(0, 2, 3, 1)
            h = layer_norm(h, t, L + "layernorm", 1e-6)
            h = linear(act(c.get("hidden_act", "gelu"), linear(h, t, L + "pwconv1")), t, L + "pwconv2")
            if c.get("layer_scale_init_value", 1e-6) > 0:
                h = t[L + "layer_scale_parameter"] * h
            x = x + h.permute(0, 3, 1, 2)
    pooled = layer_norm(x.mean([-2, -1]), t, "layernorm", c.get("layer_norm_eps", 1e-12))
    if cls == "ConvNextModel":
        return {"last_hidden_state": x, "pooler_output": pooled}
    return {"logits": linear(pooled, w, "classifier")}


def convnext_inputs(c, batch, gen):
    size = c.get("image_size", 224)
    return {"pixel_values": torch.randn(batch, c.get("num_channels", 3), size, size, generator=gen)}


def text_inputs(c, batch, seq, vocab, gen, with_mask=True):
    ids = torch.randint(0, vocab, (batch, seq), generator=gen)
    out = {"input_ids": ids}
    if with_mask:
        mask = torch.ones(batch, seq, dtype=torch.int64)
        mask[0, seq - 3 :] = 0  # padding at the end of the first row
        out["attention_mask"] = mask
    return out


FAMILIES = {
    "vit": (vit_shapes, vit_run, lambda c, cls, b, s, g: vit_inputs(c, b, g)),
    "convnext": (convnext_shapes, convnext_run, lambda c, cls, b, s, g: convnext_inputs(c, b, g)),
    "distilbert": (distilbert_shapes, distilbert_run, lambda c, cls, b, s, g: distilbert_inputs(c, b, s, g, 2 if "MultipleChoice" in cls else 0)),
    "gpt2": (gpt2_shapes, gpt2_run, lambda c, cls, b, s, g: text_inputs(c, b, s, c["vocab_size"], g)),
}


def random_weights(shapes, gen):
    w = {}
    for name, shape in shapes.items():
        leaf = name.rsplit(".", 1)[-1]
        if ("ln" in name or "norm" in name.lower()) and leaf == "weight" and len(shape) == 1:
            w[name] = 1 + 0.1 * torch.randn(shape, generator=gen)
        elif leaf == "layer_scale_parameter":
            w[name] = 0.1 + 0.05 * torch.randn(shape, generator=gen)
        else:
            w[name] = 0.2 * torch.randn(shape, generator=gen)
    return w


def main(argv):
    cmd, family, cls, folder = argv[1:5]
    c = json.load(open(f"{folder}/config.json"))
    shapes, run, make_inputs = FAMILIES[family]
    torch.set_grad_enabled(False)
    if cmd == "init":
        opts = dict(zip(argv[5::2], argv[6::2]))
        gen = torch.Generator().manual_seed(int(opts.get("--seed", "7")))
        save(f"{folder}/model.safetensors", random_weights(shapes(c, cls), gen))
        ins = make_inputs(c, cls, int(opts.get("--batch", "2")), int(opts.get("--seq", "12")), gen)
        if "--pad-at" in opts:  # a pad token inside the ids (sequence classification)
            ins["input_ids"][0, int(opts["--pad-at"])] = c["pad_token_id"]
        save(f"{folder}/inputs.safetensors", {"input." + k: v for k, v in ins.items()})
    elif cmd == "run":
        w = load(f"{folder}/model.safetensors")
        ins = {k[len("input.") :]: v for k, v in load(argv[5]).items() if k.startswith("input.")}
        outs = run(c, cls, w, ins)
        save(argv[6], {"output." + k: v.contiguous() for k, v in outs.items()})
    else:
        raise SystemExit(f"reference.py: unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
