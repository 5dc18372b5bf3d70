"""Traces small modules for the CLI's per-backend tests (run at build time).

usage: traced_models.py OUT_DIR

Each case is OUT_DIR/<name>/model.pt (torch.jit.trace); its one input is `x`,
float32. OUT_DIR/fp16_cases.txt lists modules whose float32 outputs are
finite but a naive float16 export is not (tiny epsilons meeting constant
rows); OUT_DIR/ops_cases.txt lists modules using ops that unseen models need
(F.unfold / F.fold). One line per case: name and the input shape.
"""
import torch.nn.functional as F
import os
import sys

import torch
import torch.nn as nn

torch.manual_seed(0)


class ConstantRowLayerNorm(nn.Module):
    """eps 1e-12 (ViT, BERT): 0 in fp16; a constant row then gives 0/0."""

    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(32, eps=1e-12)
        with torch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        row = torch.full_like(x[:, :1, :], 0.25)
        return self.norm(torch.cat([x, row], dim=1))


class ConstantGroupNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.GroupNorm(4, 16, eps=1e-12)

    def forward(self, x):
        flat = torch.full_like(x[:, :4], -1.5)  # one whole group constant
        return self.norm(torch.cat([x, flat], dim=1))


class ConstantInstanceNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.InstanceNorm2d(16, eps=1e-12, affine=True)
        with torch.no_grad():
            self.norm.weight.uniform_(0.5, 1.5)
            self.norm.bias.uniform_(-0.5, 0.5)

    def forward(self, x):
        # 0, not any constant: PyTorch's own mean of a constant 2.0 plane is
        # off by an ulp, which eps 1e-12 then blows up to noise of order 1.
        flat = torch.zeros_like(x[:, :4])
        return self.norm(torch.cat([x, flat], dim=1))


class TinyEpsBatchNorm(nn.Module):
    """Running statistics of a channel that was constant in training."""

    def __init__(self):
        super().__init__()
        self.norm = nn.BatchNorm2d(16, eps=1e-12)
        with torch.no_grad():
            self.norm.running_mean.uniform_(-0.5, 0.5)
            self.norm.running_var.uniform_(0.5, 2.0)
            self.norm.running_var[12:] = 1e-3
            self.norm.running_mean[12:] = 3.0
        self.eval()

    def forward(self, x):
        flat = torch.full_like(x[:, :4], 3.0)  # exactly the running mean
        return self.norm(torch.cat([x, flat], dim=1))


class UnfoldFold(nn.Module):
    """Patches out with F.unfold, a linear map per patch, back with an overlapping F.fold."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4 * 9, 4 * 9)

    def forward(self, x):
        cols = F.unfold(x, kernel_size=3, padding=1, stride=2)          # [1, 36, L]
        cols = self.proj(cols.transpose(1, 2)).transpose(1, 2)
        return F.fold(cols, output_size=x.shape[-2:], kernel_size=3, padding=1, stride=2)


OPS_CASES = {
    "unfold_fold": (UnfoldFold(), [1, 4, 9, 10]),
}

FP16_CASES = {
    "layer_norm_eps_1e-12": (ConstantRowLayerNorm(), [1, 7, 32]),
    "group_norm_eps_1e-12": (ConstantGroupNorm(), [1, 12, 6, 6]),
    "instance_norm_eps_1e-12": (ConstantInstanceNorm(), [1, 12, 6, 6]),
    "batch_norm_eps_1e-12": (TinyEpsBatchNorm(), [1, 12, 6, 6]),
}


def trace_all(out, cases, listing):
    lines = []
    for name, (module, shape) in cases.items():
        module.eval()
        x = torch.randn(*shape)
        with torch.no_grad():
            y = module(x)
            assert torch.isfinite(y).all(), name
            traced = torch.jit.trace(module, (x,))
        os.makedirs(os.path.join(out, name), exist_ok=True)
        traced.save(os.path.join(out, name, "model.pt"))
        lines.append("{} {}".format(name, ",".join(str(d) for d in shape)))
    with open(os.path.join(out, listing), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    trace_all(out, FP16_CASES, "fp16_cases.txt")
    trace_all(out, OPS_CASES, "ops_cases.txt")


if __name__ == "__main__":
    main()
