"""Traces small torch.nn modules for the frontend tests (run at build time).

usage: trace_modules.py OUT_DIR MANIFEST

For every case it writes OUT_DIR/<name>.pt (torch.jit.trace + save) and
OUT_DIR/<name>.safetensors holding the inputs (input.<argname>) and the
outputs PyTorch computes (output.<i>, tuples flattened in order). MANIFEST
lists the cases with input names, shapes and dtypes, and describes the
bad-input files written next to them (corrupt, truncated, not TorchScript,
unsupported ops with the source lines the error must name).

The cases come from NN_MODULES below and from ops_modules.MODULES; both use
the format documented at the top of ops_modules.py.
"""
import inspect
import json
import math
import os
import struct
import sys

from typing import Tuple, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ops_modules  # noqa: E402

torch.manual_seed(0)


class Fn(nn.Module):
    """forward(x) -> fn(x)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class Fn2(nn.Module):
    """forward(x, y) -> fn(x, y)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, y):
        return self.fn(x, y)


class Fn3(nn.Module):
    """forward(x, y, z) -> fn(x, y, z)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, y, z):
        return self.fn(x, y, z)


def r(*shape):
    return torch.randn(*shape)


def randomize_running_stats(module):
    """BatchNorm / InstanceNorm statistics that are not the identity."""
    for m in module.modules():
        if getattr(m, "running_mean", None) is not None:
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
        if getattr(m, "weight", None) is not None and isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d,
                                                                     nn.InstanceNorm1d, nn.InstanceNorm2d,
                                                                     nn.GroupNorm, nn.LayerNorm)):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    return module


class ShapeArithmetic(nn.Module):
    """Traced shape math: size(), integer division, a view built from it."""

    def forward(self, x):
        b, s, d = x.size()
        heads = 2
        y = x.view(b, s, heads, d // heads).permute(0, 2, 1, 3)
        scale = float(x.size(-1)) ** -0.5
        return y * scale, torch.zeros(3)


class NestedOutputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 3)

    def forward(self, x, y):
        a = self.lin(x)
        return a, (F.relu(a), y.t())


class MappedWeights(nn.Module):
    """Weights large enough to be used in place from the mapped model.pt: a
    Linear, a buffer that is a strided view into another (shared storage,
    non-zero offset) and a reduction of a buffer that freezing folds."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(256, 256)
        self.register_buffer("big", torch.randn(300, 256))
        self.register_buffer("every_other_row", self.big[1::2])

    def forward(self, x):
        return self.lin(x) + self.every_other_row[:2] + self.big.sum(0)


class DictOutputs(nn.Module):
    def forward(self, x):
        return {"logits": x * 2, "hidden": x + 1}


class InplaceActivations(nn.Module):
    def forward(self, x):
        y = x * 2
        F.relu_(y)
        z = x - 1
        F.hardtanh_(z, -0.5, 0.5)
        w = x + 0
        F.leaky_relu_(w, 0.2)
        v = x * 1.5
        F.elu_(v)
        return y, z, w, v


class Attention(nn.Module):
    """Scaled dot-product attention written with einsum, as HF models do."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24)

    def forward(self, x):
        q, k, v = self.qkv(x).view(1, 5, 3, 2, 4).permute(2, 0, 3, 1, 4).unbind(0)
        scores = torch.einsum("bhid,bhjd->bhij", q, k) / math.sqrt(4)
        return torch.einsum("bhij,bhjd->bhid", scores.softmax(-1), v)


class WeightNormConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv = nn.utils.weight_norm(nn.Conv1d(4, 6, 3, padding=1), dim=dim)

    def forward(self, x):
        return self.conv(x)


class ViewMutations(nn.Module):
    """In-place writes through views must reach the base tensor."""

    def forward(self, x, v):
        y = x.clone()
        row = y[0]  # a view taken before the writes, returned at the end
        y[:, 0] = v  # select + copy_
        y[1:3] += 1.0  # slice + add_
        y[::2, 2] = 0.0  # strided slice + select + fill_
        y.view(-1)[5] = 5.0  # view + select + fill_
        y.t()[1].mul_(2.0)  # transpose + select + mul_
        z = y.unsqueeze(0).permute(2, 0, 1)
        z[3].neg_()  # permute + select through unsqueeze
        y.narrow(1, 1, 2).relu_()
        return y, row


# TorchScript functions called from a trace keep the high-level ops that
# tracing alone decomposes (aten::conv2d, aten::dropout, Python int math).
@torch.jit.script
def scripted_scalars(x: torch.Tensor) -> torch.Tensor:
    n = x.dim()
    sizes = x.size()
    last = sizes[n - 1]
    half = last // 2
    count = len(sizes)
    big = max(last, count)
    small = min(last, count)
    scale = float(half) / 2.0
    nonzero = not (last == 0)
    flag = bool(small)
    y = x * scale + float(big - small) * float(nonzero) + float(flag)
    return y + torch.ones(sizes, dtype=x.dtype, device=x.device)


@torch.jit.script
def scripted_convolutions(x: torch.Tensor, w1: torch.Tensor, w2: torch.Tensor) -> torch.Tensor:
    a = F.conv2d(x, w2, None, 1, "same")
    b = F.conv2d(x, w2, None, [1, 1], [1, 1], [1, 1], 1)
    c = torch.convolution(x, w2, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1)
    d = F.conv_transpose2d(c, w2.transpose(0, 1), None, 1, 0)
    e = F.conv1d(x.flatten(2), w1, None, 2, "valid")
    f = F.conv_transpose1d(e, w1, None, 2)
    return a.sum() + b.sum() + d.sum() + f.sum() + a + b


@torch.jit.script
def scripted_softmax_dropout(x: torch.Tensor) -> torch.Tensor:
    a = torch._softmax(x, -1, False) + torch._log_softmax(x, 0, False)
    b = F.dropout(a, 0.5, False) + F.dropout2d(a, 0.5, False)
    return F.relu6(b * 10.0) + F.dropout(x, 0.3, False, True)


@torch.jit.script
def scripted_optional(x: torch.Tensor, bias: Optional[torch.Tensor] = None) -> torch.Tensor:
    if bias is not None:
        x = x + bias
    if bias is None:
        x = x * 2.0
    return x


@torch.jit.script
def scripted_data_dependent_view(x: torch.Tensor) -> torch.Tensor:
    return x.view(int(x.sum()))  # the size is data, not shape


class MutateAfterCopy(nn.Module):
    """reshape of a non-contiguous tensor copies: a later write must not reach it."""

    def forward(self, x):
        y = x.clone()
        copied = y.t().reshape(-1)
        viewed = y.view(-1)
        y.add_(1.0)
        return copied, viewed, y


def conv_transpose_case():
    return nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)


NN_MODULES = [
    # linear algebra
    ("nn_linear", nn.Linear(6, 5), (r(2, 3, 6),)),
    ("nn_linear_no_bias_1d", nn.Linear(6, 5, bias=False), (r(6),)),
    ("nn_linear_functional_vector_weight", Fn2(lambda x, w: F.linear(x, w)), (r(3, 6), r(6))),
    ("nn_addmm", Fn3(lambda b, x, w: torch.addmm(b, x, w)), (r(5), r(3, 4), r(4, 5))),
    ("nn_addmm_beta_alpha", Fn3(lambda b, x, w: torch.addmm(b, x, w, beta=0.5, alpha=2.0)), (r(3, 5), r(3, 4), r(4, 5))),
    ("nn_addmm_beta_zero", Fn3(lambda b, x, w: torch.addmm(b, x, w, beta=0.0)), (r(1, 5), r(3, 4), r(4, 5))),
    ("nn_matmul_1d_1d", Fn2(torch.matmul), (r(4), r(4))),
    ("nn_matmul_1d_2d", Fn2(torch.matmul), (r(4), r(4, 3))),
    ("nn_matmul_2d_1d", Fn2(torch.matmul), (r(3, 4), r(4))),
    ("nn_matmul_1d_3d", Fn2(torch.matmul), (r(4), r(2, 4, 3))),
    ("nn_matmul_3d_1d", Fn2(torch.matmul), (r(2, 3, 4), r(4))),
    ("nn_matmul_3d_2d", Fn2(torch.matmul), (r(2, 3, 4), r(4, 5))),
    ("nn_matmul_2d_4d", Fn2(torch.matmul), (r(3, 4), r(2, 3, 4, 5))),
    ("nn_matmul_batch_broadcast", Fn2(torch.matmul), (r(2, 1, 3, 4), r(1, 3, 4, 5))),
    ("nn_mm", Fn2(torch.mm), (r(3, 4), r(4, 2))),
    ("nn_bmm", Fn2(torch.bmm), (r(2, 3, 4), r(2, 4, 5))),
    ("nn_baddbmm", Fn3(lambda b, x, y: torch.baddbmm(b, x, y, beta=0.5, alpha=-1.5)), (r(1, 3, 5), r(2, 3, 4), r(2, 4, 5))),
    ("nn_addmv", Fn3(lambda b, m, v: torch.addmv(b, m, v, beta=2.0, alpha=0.5)), (r(3), r(3, 4), r(4))),
    ("nn_ger", Fn2(torch.ger), (r(3), r(4))),
    ("nn_weight_norm_functional", Fn2(lambda v, g: torch._weight_norm(v, g, 1)), (r(3, 4, 2), r(1, 4, 1))),
    ("nn_t_2d_and_1d", Fn2(lambda x, y: (x.t(), y.t())), (r(3, 4), r(4))),
    ("nn_mv_dot_outer", Fn3(lambda m, v, w: (torch.mv(m, v), torch.dot(v, w), torch.outer(v, w))), (r(3, 4), r(4), r(4))),
    # einsum
    ("nn_einsum_attention", Attention(), (r(1, 5, 8),)),
    ("nn_einsum_bij_bjk", Fn2(lambda a, b: torch.einsum("bij,bjk->bik", a, b)), (r(2, 3, 4), r(2, 4, 5))),
    ("nn_einsum_ellipsis_broadcast", Fn2(lambda a, b: torch.einsum("...ij,...jk->...ik", a, b)), (r(2, 3, 4), r(3, 1, 4, 5))),
    ("nn_einsum_ellipsis_rank_mismatch", Fn2(lambda a, b: torch.einsum("...ij,...jk->...ik", a, b)), (r(3, 4), r(2, 4, 5))),
    ("nn_einsum_implicit_output", Fn2(lambda a, b: torch.einsum("kj,ji", a, b)), (r(3, 4), r(4, 5))),
    ("nn_einsum_spaces_outer", Fn2(lambda a, b: torch.einsum("i, j -> j i", a, b)), (r(3), r(4))),
    ("nn_einsum_sum_out_private", Fn2(lambda a, b: torch.einsum("bik,bjl->bij", a, b)), (r(2, 3, 4), r(2, 5, 6))),
    ("nn_einsum_size1_contraction", Fn2(lambda a, b: torch.einsum("ij,kj->ik", a, b)), (r(3, 4), r(2, 1))),
    ("nn_einsum_batch_broadcast", Fn2(lambda a, b: torch.einsum("bij,bjk->bik", a, b)), (r(1, 3, 4), r(2, 4, 5))),
    ("nn_einsum_three_operands", Fn3(lambda a, b, c: torch.einsum("bn,anm,bm->ba", a, b, c)), (r(2, 3), r(4, 3, 5), r(2, 5))),
    ("nn_einsum_diagonals", Fn2(lambda a, b: (torch.einsum("ii->i", a[0]), torch.einsum("ii", a[0]), torch.einsum("bii->b", a), torch.einsum("iij,jk->ik", b, a[0]), torch.einsum("ijij->ji", b.reshape(3, 3, 3)[:2, :2, :2].reshape(2, 2, 2).unsqueeze(1).expand(2, 2, 2, 2).contiguous()))), (r(2, 3, 3), r(3, 3, 3))),
    ("nn_einsum_one_operand", Fn(lambda a: (torch.einsum("ijk->kj", a), torch.einsum("ij->", a[0]), torch.einsum("ij", a[0]))), (r(2, 3, 4),)),
    # convolutions
    ("nn_conv1d", nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), (r(2, 4, 11),)),
    ("nn_conv1d_unbatched_no_bias", nn.Conv1d(3, 5, 2, bias=False), (r(3, 7),)),
    ("nn_conv2d", nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0)), (r(1, 3, 7, 6),)),
    ("nn_conv2d_depthwise_dilated", nn.Conv2d(4, 4, 3, padding=2, dilation=2, groups=4), (r(2, 4, 6, 6),)),
    ("nn_conv2d_dilation_larger_than_input", nn.Conv2d(4, 3, 3, padding=6, dilation=6), (r(1, 4, 2, 3),)),
    ("nn_conv2d_same_even_kernel", nn.Conv2d(2, 3, (4, 3), padding="same", dilation=(1, 2)), (r(1, 2, 7, 8),)),
    ("nn_conv1d_same", nn.Conv1d(2, 3, 4, padding="same"), (r(1, 2, 9),)),
    ("nn_conv2d_valid", nn.Conv2d(2, 3, 3, padding="valid"), (r(1, 2, 6, 5),)),
    ("nn_conv_functional", Fn2(lambda x, w: F.conv2d(x, w, stride=2, padding=1)), (r(1, 4, 8, 8), r(6, 4, 3, 3))),
    ("nn_conv_transpose1d", nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2), (r(2, 4, 5),)),
    ("nn_conv_transpose2d", conv_transpose_case(), (r(1, 4, 5, 4),)),
    ("nn_conv_transpose2d_functional", Fn2(lambda x, w: F.conv_transpose2d(x, w, stride=(1, 2), padding=(0, 1))), (r(1, 3, 4, 4), r(3, 2, 2, 3))),
    # normalisation
    ("nn_layer_norm", randomize_running_stats(nn.LayerNorm(6)), (r(2, 3, 6),)),
    ("nn_layer_norm_2d_no_affine", nn.LayerNorm([3, 4], elementwise_affine=False, eps=1e-3), (r(2, 3, 4),)),
    ("nn_group_norm", randomize_running_stats(nn.GroupNorm(2, 6)), (r(2, 6, 5, 3),)),
    ("nn_group_norm_no_affine_1d", nn.GroupNorm(3, 6, affine=False, eps=1e-2), (r(2, 6, 4),)),
    ("nn_instance_norm2d", randomize_running_stats(nn.InstanceNorm2d(3, affine=True)), (r(2, 3, 4, 5),)),
    ("nn_instance_norm1d_running_stats", randomize_running_stats(nn.InstanceNorm1d(3, track_running_stats=True)), (r(2, 3, 6),)),
    ("nn_batch_norm2d", randomize_running_stats(nn.BatchNorm2d(3)), (r(2, 3, 4, 4),)),
    ("nn_batch_norm1d_2d_input", randomize_running_stats(nn.BatchNorm1d(5, eps=1e-3)), (r(4, 5),)),
    ("nn_batch_norm1d_no_affine", randomize_running_stats(nn.BatchNorm1d(3, affine=False)), (r(2, 3, 7),)),
    ("nn_batch_norm_batch_stats", nn.BatchNorm2d(3, track_running_stats=False), (r(2, 3, 4, 4),)),
    ("nn_weight_norm_linear", nn.utils.weight_norm(nn.Linear(5, 4)), (r(3, 5),)),
    ("nn_weight_norm_conv_dim2", WeightNormConv(2), (r(1, 4, 6),)),
    ("nn_weight_norm_whole", WeightNormConv(None), (r(1, 4, 6),)),
    # pooling
    ("nn_max_pool2d", nn.MaxPool2d(3, stride=2, padding=1), (r(1, 2, 7, 6),)),
    ("nn_max_pool2d_ceil", nn.MaxPool2d((2, 3), stride=(2, 2), ceil_mode=True), (r(1, 2, 7, 8),)),
    ("nn_max_pool1d", nn.MaxPool1d(3, stride=1, padding=1), (r(2, 3, 6),)),
    ("nn_max_pool1d_unbatched_ceil", nn.MaxPool1d(2, ceil_mode=True), (r(3, 7),)),
    ("nn_avg_pool2d", nn.AvgPool2d(3, stride=2, padding=1), (r(1, 2, 7, 6),)),
    ("nn_avg_pool2d_exclude_pad_ceil", nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (r(1, 2, 8, 6),)),
    ("nn_avg_pool2d_ceil_include_pad", nn.AvgPool2d(2, stride=2, ceil_mode=True), (r(1, 1, 5, 5),)),
    ("nn_avg_pool1d", nn.AvgPool1d(2, stride=1, padding=1, count_include_pad=False), (r(2, 3, 6),)),
    ("nn_adaptive_avg_pool2d", nn.AdaptiveAvgPool2d((3, 2)), (r(1, 2, 7, 5),)),
    ("nn_adaptive_avg_pool2d_global", nn.AdaptiveAvgPool2d(1), (r(2, 3, 4, 4),)),
    ("nn_adaptive_avg_pool1d", nn.AdaptiveAvgPool1d(3), (r(2, 3, 8),)),
    ("nn_adaptive_max_pool2d", nn.AdaptiveMaxPool2d((2, 3)), (r(1, 2, 5, 7),)),
    ("nn_adaptive_max_pool1d", nn.AdaptiveMaxPool1d(4), (r(2, 3, 9),)),
    # resize
    ("nn_upsample_nearest2d_scale", nn.Upsample(scale_factor=2, mode="nearest"), (r(1, 2, 3, 4),)),
    ("nn_upsample_nearest2d_size", nn.Upsample(size=(5, 7), mode="nearest"), (r(1, 2, 3, 4),)),
    ("nn_upsample_nearest1d", nn.Upsample(scale_factor=3, mode="nearest"), (r(1, 2, 4),)),
    ("nn_upsample_linear1d", nn.Upsample(size=7, mode="linear"), (r(1, 2, 4),)),
    ("nn_upsample_linear1d_align", nn.Upsample(scale_factor=2, mode="linear", align_corners=True), (r(1, 2, 4),)),
    ("nn_upsample_bilinear2d", nn.Upsample(size=(6, 5), mode="bilinear"), (r(1, 2, 3, 4),)),
    ("nn_upsample_bilinear2d_scale", nn.Upsample(scale_factor=2, mode="bilinear"), (r(1, 2, 3, 4),)),
    ("nn_upsample_bilinear2d_align", nn.Upsample(size=(7, 5), mode="bilinear", align_corners=True), (r(1, 2, 3, 4),)),
    ("nn_upsample_bilinear2d_down", Fn(lambda x: F.interpolate(x, size=(3, 2), mode="bilinear", align_corners=False)), (r(1, 2, 7, 5),)),
    ("nn_upsample_bicubic2d", nn.Upsample(size=(6, 7), mode="bicubic"), (r(1, 2, 3, 4),)),
    ("nn_upsample_bicubic2d_align", nn.Upsample(scale_factor=2, mode="bicubic", align_corners=True), (r(1, 2, 3, 4),)),
    ("nn_pixel_shuffle", nn.Sequential(nn.PixelShuffle(2), nn.PixelUnshuffle(3)), (r(1, 8, 3, 6),)),
    # activations
    ("nn_gelu", nn.GELU(), (r(2, 5),)),
    ("nn_gelu_tanh", nn.GELU(approximate="tanh"), (r(2, 5),)),
    ("nn_silu", nn.SiLU(), (r(2, 5),)),
    ("nn_relu", nn.ReLU(), (r(2, 5),)),
    ("nn_relu6", nn.ReLU6(), (r(2, 5) * 5,)),
    ("nn_hardtanh", nn.Hardtanh(-0.3, 0.7), (r(2, 5),)),
    ("nn_glu", nn.GLU(), (r(2, 6),)),
    ("nn_glu_dim0_negative", nn.GLU(dim=-2), (r(4, 3),)),
    ("nn_hardswish", nn.Hardswish(), (r(2, 5) * 4,)),
    ("nn_hardsigmoid", nn.Hardsigmoid(), (r(2, 5) * 4,)),
    ("nn_softplus", nn.Softplus(), (r(2, 5) * 10,)),
    ("nn_softplus_beta_threshold", nn.Softplus(beta=2.0, threshold=3.0), (r(2, 5) * 3,)),
    ("nn_leaky_relu", nn.LeakyReLU(0.1), (r(2, 5),)),
    ("nn_elu", nn.ELU(alpha=0.7), (r(2, 5),)),
    ("nn_selu", nn.SELU(), (r(2, 5),)),
    ("nn_celu", nn.CELU(alpha=2.0), (r(2, 5),)),
    ("nn_prelu_channels", nn.PReLU(3, init=0.2), (r(2, 3, 4),)),
    ("nn_prelu_single", nn.PReLU(), (r(2, 3),)),
    ("nn_mish", nn.Mish(), (r(2, 5),)),
    ("nn_log_sigmoid", nn.LogSigmoid(), (r(2, 5) * 5,)),
    ("nn_threshold", nn.Threshold(0.1, -2.0), (r(2, 5),)),
    ("nn_inplace_activations", InplaceActivations(), (r(2, 5),)),
    ("nn_inplace_modules", nn.Sequential(nn.ReLU(inplace=True), nn.Hardswish(inplace=True), nn.SiLU(inplace=True)), (r(2, 5),)),
    ("nn_softmax", nn.Softmax(dim=-1), (r(2, 3, 5),)),
    ("nn_softmax_dim1", nn.Softmax(dim=1), (r(2, 3, 5),)),
    ("nn_log_softmax", nn.LogSoftmax(dim=0), (r(3, 4),)),
    ("nn_softmax_dtype", Fn(lambda x: F.softmax(x, dim=-1, dtype=torch.float32)), (r(2, 5).half(),)),
    ("nn_embedding", nn.Embedding(10, 4), (torch.tensor([[1, 0, 9], [3, 3, 2]]),)),
    ("nn_embedding_padding_idx_int32", Fn2(lambda w, i: F.embedding(i, w, padding_idx=0)), (r(6, 3), torch.tensor([0, 5, 2], dtype=torch.int32))),
    ("nn_dropout_eval", nn.Sequential(nn.Dropout(0.5), nn.Dropout2d(0.3), nn.AlphaDropout(0.2), nn.FeatureAlphaDropout(0.1)), (r(2, 3, 4, 4),)),
    ("nn_dropout_inplace", nn.Dropout(0.5, inplace=True), (r(2, 5),)),
    # the loader itself
    ("loader_shape_arithmetic", ShapeArithmetic(), (r(2, 3, 8),)),
    ("loader_nested_outputs", NestedOutputs(), (r(2, 4), r(3, 2))),
    ("loader_mapped_weights", MappedWeights(), (r(2, 256),)),
    ("loader_view_mutations", ViewMutations(), (r(5, 4), r(5))),
    ("loader_dict_outputs", DictOutputs(), (r(2, 3),)),
    ("loader_mutate_after_copy", MutateAfterCopy(), (r(3, 4),)),
    ("script_scalars", Fn(scripted_scalars), (r(2, 6),)),
    # Freezing folds `is None` tests and the branches they guard.
    ("script_optional_none", Fn(lambda x: scripted_optional(x) + scripted_optional(x, x)), (r(2, 3),)),
    ("script_convolutions", Fn3(scripted_convolutions), (r(1, 3, 6, 6), r(4, 3, 3), r(3, 3, 3, 3))),
    ("script_softmax_dropout", Fn(scripted_softmax_dropout), (r(3, 4),)),
]


# Modules whose conversion must fail with a message naming the op and the
# reason: (name, module, inputs, [substrings of the error]).
CONVERSION_ERRORS = [
    ("err_max_pool_dilation", nn.MaxPool2d(2, dilation=2), (r(1, 1, 6, 6),), ["aten::max_pool2d", "dilation"]),
    ("err_avg_pool_divisor_override", nn.AvgPool2d(2, divisor_override=3), (r(1, 1, 4, 4),), ["aten::avg_pool2d", "divisor_override"]),
    ("err_conv3d", nn.Conv3d(1, 1, 2), (r(1, 1, 3, 3, 3),), ["aten::_convolution", "1-D and 2-D"]),
    ("err_upsample_fractional_scale", nn.Upsample(scale_factor=1.5, mode="nearest"), (r(1, 1, 5, 5),), ["aten::upsample_nearest2d", "fractional"]),
    ("err_dropout_training", Fn(lambda x: F.dropout(x, 0.5, training=True)), (r(2, 3),), ["aten::dropout", "training"]),
    ("err_data_dependent_int", Fn(scripted_data_dependent_view), (torch.ones(2, 3),), ["aten::Int", "cannot be folded"]),
]


# ── safetensors, written by hand ────────────────────────────────────────────

ST_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.int32: "I32", torch.int64: "I64",
    torch.bool: "BOOL", torch.int8: "I8", torch.uint8: "U8",
}
NAMES = {torch.float32: "float32", torch.float16: "float16", torch.int32: "int32", torch.int64: "int64",
         torch.bool: "bool", torch.int8: "int8", torch.uint8: "uint8"}


def storable(t):
    t = t.detach().contiguous()
    if t.dtype in (torch.float64, torch.bfloat16):
        t = t.float()
    if t.dtype not in ST_DTYPES:
        raise ValueError(f"dtype {t.dtype} cannot be stored")
    return t


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = t.numpy().tobytes()
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def flatten(out):
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, dict):
        return [t for o in out.values() for t in flatten(o)]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in flatten(o)]
    raise TypeError(f"unsupported output {type(out)}")


def trace_case(out_dir, name, module, inputs, options):
    module.eval()
    params = list(inspect.signature(module.forward).parameters.values())
    arg_names = [p.name for p in params[: len(inputs)]]
    if len(arg_names) != len(inputs) or any(p.default is inspect.Parameter.empty for p in params[len(inputs):]):
        raise ValueError(f"{name}: forward takes {[p.name for p in params]}, got {len(inputs)} inputs")
    with torch.no_grad():
        expected = flatten(module(*[i.clone() for i in inputs]))
        traced = torch.jit.trace(module, tuple(i.clone() for i in inputs), check_trace=False, strict=False)
    traced.save(os.path.join(out_dir, name + ".pt"))
    tensors = {f"input.{n}": storable(t) for n, t in zip(arg_names, inputs)}
    tensors.update({f"output.{i}": storable(t) for i, t in enumerate(expected)})
    write_safetensors(os.path.join(out_dir, name + ".safetensors"), tensors)
    return {
        "name": name,
        "inputs": [{"name": n, "dtype": NAMES[storable(t).dtype], "shape": list(t.shape)} for n, t in zip(arg_names, inputs)],
        "outputs": [{"dtype": NAMES[storable(t).dtype], "shape": list(t.shape)} for t in expected],
        "atol": options.get("atol", 1e-4),
    }


# ── Bad inputs ──────────────────────────────────────────────────────────────

UNSUPPORTED_LINES = {}


def line_of(marker):
    """Line number in this file of the line containing `marker`."""
    with open(os.path.abspath(__file__)) as f:
        for i, line in enumerate(f, 1):
            if marker in line and "line_of(" not in line:
                return i
    raise ValueError(marker)


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 3)

    def forward(self, x, mask):
        a = torch.special.i0(self.lin(x))  # unsupported-op-1
        b = torch.lgamma(a + 1)  # unsupported-op-2
        c = torch.special.i0(b)  # unsupported-op-1-again
        return c + mask


def write_bad_inputs(out_dir):
    good = os.path.join(out_dir, "nn_linear.pt")
    with open(good, "rb") as f:
        data = f.read()
    errors = {}
    path = os.path.join(out_dir, "bad_truncated.pt")
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    errors["truncated"] = path
    path = os.path.join(out_dir, "bad_corrupt.pt")
    g = torch.Generator().manual_seed(1)
    with open(path, "wb") as f:
        f.write(bytes(torch.randint(0, 256, (4096,), generator=g, dtype=torch.uint8).tolist()))
    errors["corrupt"] = path
    path = os.path.join(out_dir, "bad_state_dict.pt")
    torch.save(nn.Linear(3, 3).state_dict(), path)  # a zip archive, but not TorchScript
    errors["not_torchscript"] = path
    path = os.path.join(out_dir, "bad_text.pt")
    with open(path, "w") as f:
        f.write("this is not a model\n")
    errors["text"] = path

    path = os.path.join(out_dir, "bad_unsupported.pt")
    m = Unsupported().eval()
    torch.jit.trace(m, (r(2, 3), r(2, 3))).save(path)
    here = Unsupported.forward.__code__.co_filename  # as the trace records it
    errors["unsupported"] = {
        "path": path,
        "ops": [
            {"kind": "aten::special_i0", "alt_kind": "aten::i0", "schema_fragment": "(Tensor self) -> Tensor",
             "source": f"{here}:{line_of('# unsupported-op-1')}"},
            {"kind": "aten::lgamma", "alt_kind": "aten::lgamma", "schema_fragment": "aten::lgamma(Tensor self) -> Tensor",
             "source": f"{here}:{line_of('# unsupported-op-2')}"},
        ],
        "inputs": {"x": [2, 3], "mask": [2, 3]},
    }
    return errors


class SetStateModule(nn.Module):
    """A class with __setstate__ runs TorchScript on its tensors while
    loading: the loader must then read with plain copies, not mapped weights."""

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(256, 256))

    def forward(self, x):
        return F.linear(x, self.weight) * 2.0

    @torch.jit.export
    def __getstate__(self):
        return (self.weight, self.training)

    @torch.jit.export
    def __setstate__(self, state: Tuple[torch.Tensor, bool]):
        self.weight = state[0]
        self.training = state[1]


def write_setstate_case(out_dir):
    module = torch.jit.script(SetStateModule().eval())
    path = os.path.join(out_dir, "loader_setstate.pt")
    module.save(path)
    x = r(2, 256)
    with torch.no_grad():
        y = module(x)
    return {"path": path, "shape": [2, 256], "input": x.flatten().tolist(), "output": y.flatten().tolist()}


def main():
    out_dir, manifest_path = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    cases, seen = [], set()
    for entry in NN_MODULES + list(ops_modules.MODULES):
        name, module, inputs = entry[0], entry[1], entry[2]
        options = entry[3] if len(entry) > 3 else {}
        if name in seen:
            raise ValueError(f"duplicate case name {name}")
        seen.add(name)
        cases.append(trace_case(out_dir, name, module, inputs, options))
    conversion_errors = []
    for name, module, inputs, expect in CONVERSION_ERRORS:
        module.eval()
        with torch.no_grad():
            torch.jit.trace(module, inputs, check_trace=False).save(os.path.join(out_dir, name + ".pt"))
        params = list(inspect.signature(module.forward).parameters)[: len(inputs)]
        conversion_errors.append({"name": name, "expect": expect,
                                  "inputs": [{"name": n, "dtype": NAMES[t.dtype], "shape": list(t.shape)}
                                             for n, t in zip(params, inputs)]})
    manifest = {"dir": out_dir, "cases": cases, "conversion_errors": conversion_errors,
                "errors": write_bad_inputs(out_dir), "setstate": write_setstate_case(out_dir)}
    tmp = manifest_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(tmp, manifest_path)


if __name__ == "__main__":
    main()
