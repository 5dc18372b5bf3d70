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

import torch.nn.functional as F


class Fn(torch.nn.Module):
    """forward(x) -> fn(x)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


class Fn2(torch.nn.Module):
    """forward(x, y) -> fn(x, y)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, y):
        return self.fn(x, y)


class Fn3(torch.nn.Module):
    """forward(x, y, z) -> fn(x, y, z)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x, y, z):
        return self.fn(x, y, z)


def _case(name, fn, *inputs, **options):
    module = {1: Fn, 2: Fn2, 3: Fn3}[len(inputs)](fn)
    entry = ("ops_" + name, module, tuple(inputs))
    if options:
        entry = entry + (options,)
    MODULES.append(entry)


def _f(*shape):
    return torch.randn(*shape)


def _pos(*shape):
    return torch.rand(*shape) + 0.5


def _i(*shape, low=-5, high=6):
    return torch.randint(low, high, shape, dtype=torch.int64)


def _b(*shape):
    return torch.rand(*shape) > 0.5


def _inplace(method, *args, **kwargs):
    def fn(x, *rest):
        y = x.clone()
        getattr(y, method)(*(rest + args), **kwargs)
        return y
    return fn


# ── arithmetic and type promotion ────────────────────────────────────────────
_case("add_broadcast", lambda x, y: x + y, _f(2, 3, 4), _f(3, 1))
_case("add_alpha_tensor", lambda x, y: torch.add(x, y, alpha=2.5), _f(2, 3), _f(3))
_case("add_int_scalar", lambda x: x + 2, _f(2, 3))
_case("add_scalar_alpha", lambda x: torch.add(x, 3, alpha=2), _i(2, 3))
_case("add_int_tensor_float_scalar", lambda x: x + 1.5, _i(2, 3))
_case("add_int_float_tensors", lambda x, y: x + y, _i(2, 3), _f(2, 3))
_case("add_i32_zero_dim_i64", lambda x: x + torch.tensor(3), _i(4).int())
_case("add_f32_zero_dim_f16_input", lambda x, y: x + y, _f(2, 3), torch.tensor(1.5).half())
_case("add_bool_bool", lambda x, y: x + y, _b(2, 3), _b(2, 3))
_case("add_bool_int_scalar", lambda x: x + 1, _b(5))
_case("add_inplace", _inplace("add_", alpha=2), _f(2, 3), _f(3))
_case("add_inplace_int_into_float", _inplace("add_"), _f(2, 3), _i(2, 3))
_case("sub_tensor_alpha", lambda x, y: torch.sub(x, y, alpha=0.5), _f(2, 3), _f(2, 3))
_case("sub_scalar", lambda x: x - 0.25, _f(4))
_case("sub_inplace_scalar", _inplace("sub_", 3), _i(2, 3))
_case("rsub_scalar", lambda x: 1 - x, _f(2, 3))
_case("rsub_tensor_alpha", lambda x, y: torch.rsub(x, y, alpha=3), _f(2, 3), _f(3))
_case("rsub_int_tensor_float_scalar", lambda x: 1.5 - x, _i(4))
_case("mul_broadcast", lambda x, y: x * y, _f(2, 1, 4), _f(3, 1))
_case("mul_scalar", lambda x: x * 0.125, _f(3, 3))
_case("mul_int_tensor_float_scalar", lambda x: x * 0.5, _i(3))
_case("mul_bool", lambda x, y: x * y, _b(6), _b(6))
_case("mul_inplace", _inplace("mul_"), _f(2, 3), _f(2, 1))
_case("div_tensor", lambda x, y: x / y, _f(2, 3), _pos(3))
_case("div_int_true_division", lambda x: x / 2, _i(6))
_case("div_int_tensors", lambda x, y: torch.div(x, y), _i(6), _i(6, low=1))
_case("div_trunc_float", lambda x, y: torch.div(x, y, rounding_mode="trunc"), _f(8) * 4, _pos(8))
_case("div_trunc_int", lambda x: torch.div(x, 3, rounding_mode="trunc"), _i(8, low=-20, high=20))
_case("div_floor_float", lambda x: torch.div(x, 0.7, rounding_mode="floor"), _f(8) * 4)
_case("div_floor_int", lambda x, y: torch.div(x, y, rounding_mode="floor"), _i(8, low=-20, high=20), _i(8, low=1, high=4))
_case("div_inplace", _inplace("div_", 4.0), _f(2, 3))
_case("true_divide", lambda x, y: torch.true_divide(x, y), _i(5), _i(5, low=1))
_case("floor_divide_float", lambda x, y: torch.floor_divide(x, y), _f(8) * 5, _pos(8))
_case("floor_divide_int_scalar", lambda x: x // 3, _i(8, low=-20, high=20))
_case("remainder_float", lambda x, y: torch.remainder(x, y), _f(8) * 5, _f(8).abs() + 0.5)
_case("remainder_int_scalar", lambda x: x % 3, _i(8, low=-20, high=20))
_case("remainder_scalar_tensor", lambda x: torch.remainder(7, x), _i(6, low=1, high=5))
_case("fmod_float", lambda x: torch.fmod(x, 1.5), _f(8) * 5)
_case("fmod_int", lambda x, y: torch.fmod(x, y), _i(8, low=-20, high=20), _i(8, low=1, high=5))
_case("pow_tensor_scalar", lambda x: x ** 3, _f(2, 3))
_case("pow_square", lambda x: x ** 2, _f(2, 3))
_case("pow_sqrt", lambda x: x ** 0.5, _pos(2, 3))
_case("pow_reciprocal", lambda x: x ** -1, _pos(2, 3))
_case("pow_fractional", lambda x: torch.pow(x, 1.7), _pos(2, 3))
_case("pow_scalar_tensor", lambda x: 2 ** x, _f(2, 3))
_case("pow_int_scalar_int_tensor", lambda x: 2 ** x, _i(5, low=0, high=8))
_case("pow_tensor_tensor", lambda x, y: torch.pow(x, y), _pos(2, 3), _f(3))
_case("pow_int_tensor", lambda x: x ** 2, _i(5))
_case("pow_inplace", _inplace("pow_", 2), _f(4))
_case("half_arithmetic", lambda x, y: (x + y, x * 0.5, x / 3, x.abs() - y, x > y), _f(2, 3).half(), _f(3).half(), atol=1e-2)
_case("int32_uint8_int8_promotion", lambda x, y, z: (x + y, y * 2, z - 1, x * z, y > 3), _i(4).int(), torch.randint(0, 200, (4,), dtype=torch.uint8),
      torch.randint(-100, 100, (4,), dtype=torch.int8))
_case("maximum_minimum", lambda x, y: (torch.maximum(x, y), torch.minimum(x, y)), _f(2, 3), _f(3))
_case("fmax_fmin", lambda x, y: (torch.fmax(x, y), torch.fmin(x, y)), _f(2, 3), _f(3))
_case("maximum_promotes", lambda x, y: torch.maximum(x, y), _i(4), _f(4))

# ── unary math ──────────────────────────────────────────────────────────────
for _name in ["neg", "abs", "exp", "sin", "cos", "tanh", "sigmoid", "erf", "floor", "ceil", "round", "sign",
              "trunc", "square", "expm1"]:
    _case("unary_" + _name, getattr(torch, _name), _f(3, 4) * 3)
for _name in ["log", "sqrt", "rsqrt", "reciprocal", "log1p", "log2", "log10"]:
    _case("unary_" + _name, getattr(torch, _name), _pos(3, 4))
_case("isnan_isinf_isfinite", lambda x, i: (torch.isnan(x), torch.isinf(x), torch.isfinite(x), torch.isfinite(i), torch.isnan(i)),
      torch.tensor([1.0, float("nan"), float("inf"), -float("inf"), -2.0]), _i(3))
_case("unary_exp_of_int", torch.exp, _i(4))
_case("unary_sqrt_of_int", torch.sqrt, _i(4, low=0))
_case("unary_abs_int", torch.abs, _i(6))
_case("unary_neg_int", torch.neg, _i(6))
_case("unary_floor_int", torch.floor, _i(6))
_case("round_half_even", torch.round, torch.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 0.49]))
_case("round_decimals", lambda x: torch.round(x, decimals=2), _f(6) * 10)
_case("round_negative_decimals", lambda x: torch.round(x, decimals=-1), _f(6) * 100)
_case("unary_inplace", lambda x: x.clone().exp_().neg_().abs_().sqrt_().sigmoid_().tanh_(), _f(2, 3))
_case("fix", torch.fix, _f(6) * 4)
_case("unary_inplace_more", lambda x: (x.clone().log_(), x.clone().rsqrt_(), x.clone().reciprocal_(), x.clone().sin_(),
                                       x.clone().cos_(), x.clone().erf_(), x.clone().trunc_(), x.clone().log1p_()), _pos(2, 3) * 3)
_case("compare_inplace_all", lambda x, y: (x.clone().eq_(y), x.clone().ne_(y), x.clone().le_(0.0), x.clone().gt_(y),
                                          x.clone().ge_(0)), torch.randint(-2, 3, (2, 3)).float(), torch.randint(-2, 3, (3,)).float())
_case("square_inplace", lambda x: x.clone().square_(), _f(5))


def _inplace_chain(x):
    y = x.clone()
    y.clamp_min_(-0.5)
    y.clamp_max_(0.8)
    y.mul_(3)
    y.floor_()
    y.sign_()
    y.cumsum_(1)
    y.tril_()
    y.triu_(-1)
    y.transpose_(0, 1)
    y.round_()
    y.ceil_()
    y.remainder_(2)
    y.fmod_(1.5)
    y.floor_divide_(1.1)
    return y


_case("inplace_chain", _inplace_chain, _f(3, 4))

# ── comparisons and logic ────────────────────────────────────────────────────
_case("compare_tensors", lambda x, y: (x == y, x != y, x < y, x <= y, x > y, x >= y), _i(3, 4, low=0, high=3), _i(4, low=0, high=3))
_case("compare_scalars", lambda x: (x == 0.5, x != 0, x < 0.1, x <= 0, x > -0.2, x >= 1), _f(3, 4))
_case("compare_int_tensor_float_scalar", lambda x: x > 1.5, _i(6))
_case("compare_bool_int", lambda x: x == 0, _b(6))
_case("compare_functional", lambda x, y: (torch.eq(x, y), torch.gt(x, y), torch.ne(x, 1)), _f(4), _f(4))
_case("compare_inplace", _inplace("lt_", 0.0), _f(5))
_case("logical_ops", lambda x, y: (torch.logical_and(x, y), torch.logical_or(x, y), torch.logical_xor(x, y),
                                   torch.logical_not(x)), _b(2, 3), _b(3))
_case("logical_ops_numeric", lambda x, y: (torch.logical_and(x, y), torch.logical_not(y)), _i(6, low=0, high=2), _f(6))
_case("bool_operators", lambda x, y: (x & y, x | y, x ^ y, ~x), _b(2, 3), _b(2, 3))
_case("bitwise_on_bool", lambda x, y: (torch.bitwise_and(x, y), torch.bitwise_or(x, y), torch.bitwise_xor(x, y)), _b(2, 3), _b(3))


def _bool_inplace(x, y):
    a = x.clone()
    a &= y
    b = x.clone()
    b |= y
    c = x.clone()
    c ^= y
    d = x.clone()
    d.logical_and_(y)
    d.logical_or_(x)
    d.logical_xor_(y)
    e = x.clone()
    e.logical_not_()
    return a, b, c, d, e


_case("bool_inplace", _bool_inplace, _b(2, 3), _b(2, 3))
_case("bitwise_inplace", lambda x, y: (x.clone().bitwise_not_(), x.clone().bitwise_and_(y), x.clone().bitwise_or_(y),
                                       x.clone().bitwise_xor_(y)), _b(2, 3), _b(2, 3))
_case("bitwise_not_int", torch.bitwise_not, _i(6))

# ── clamp / where / masked_fill ──────────────────────────────────────────────
_case("clamp_both", lambda x: torch.clamp(x, -0.5, 0.5), _f(3, 4))
_case("clamp_min_only", lambda x: torch.clamp(x, min=0.1), _f(3, 4))
_case("clamp_max_only", lambda x: x.clamp(max=-0.1), _f(3, 4))
_case("clamp_min_above_max", lambda x: torch.clamp(x, min=1.0, max=0.0), _f(6))
_case("clamp_int_with_float", lambda x: torch.clamp(x, min=-1.5), _i(6))
_case("clamp_int", lambda x: torch.clamp(x, -2, 2), _i(6))
_case("clamp_tensors", lambda x, y, z: torch.clamp(x, min=y, max=z), _f(2, 3), _f(3) - 1, _f(2, 1) + 1)
_case("clamp_tensor_min_only", lambda x, y: torch.clamp(x, min=y), _f(2, 3), _f(3))
_case("clip", lambda x: torch.clip(x, -1, 1), _f(8) * 2)
_case("clamp_min_max_fns", lambda x, y: (torch.clamp_min(x, 0.2), torch.clamp_max(x, y)), _f(2, 3), _f(3))
_case("clamp_inplace", _inplace("clamp_", -0.3, 0.3), _f(2, 3))
_case("where_tensors", lambda c, x, y: torch.where(c, x, y), _b(2, 3), _f(2, 3), _f(3))
_case("where_scalar_other", lambda c, x: torch.where(c, x, 0.0), _b(2, 3), _f(2, 3))
_case("where_scalar_self", lambda c, x: torch.where(c, -1, x), _b(2, 3), _i(2, 3))
_case("where_scalars", lambda c: torch.where(c, 1.0, 0.0), _b(2, 3))
_case("where_promotes", lambda c, x, y: torch.where(c, x, y), _b(4), _i(4), _f(4))
_case("masked_fill_scalar", lambda x, m: x.masked_fill(m, torch.finfo(torch.float32).min), _f(2, 3, 4), _b(3, 1))
_case("masked_fill_tensor_value", lambda x, m: x.masked_fill(m, torch.tensor(7.0)), _f(2, 3), _b(2, 3))
_case("masked_fill_int_float_value", lambda x, m: x.masked_fill(m, 2.7), _i(2, 3), _b(2, 3))
_case("masked_fill_uint8_mask_inplace", _inplace("masked_fill_", 0.0), _f(2, 3), _b(2, 3))
_case("masked_fill_from_comparison", lambda x, m: x.masked_fill(m == 0, -1e4), _f(2, 4), _i(2, 4, low=0, high=2))

# ── casts, identities, whole-tensor writes ───────────────────────────────────
_case("to_dtype", lambda x: (x.to(torch.int64), x.to(torch.int32), x.to(torch.bool), x.to(torch.float16)), _f(2, 3) * 4)
_case("to_from_int", lambda x: (x.to(torch.float32), x.float(), x.half()), _i(2, 3))
_case("to_other", lambda x, y: x.to(y), _f(2, 3) * 4, _i(2))
_case("to_device_dtype", lambda x: x.to("cpu", torch.float16), _f(2, 3))
_case("to_same", lambda x: x.to(torch.float32) + x.to("cpu"), _f(2, 3))
_case("cast_methods", lambda x: (x.long(), x.int(), x.bool(), x.double().float()), _f(2, 3) * 4)
_case("type_as", lambda x, y: x.type_as(y), _f(2, 3) * 4, _i(1))
_case("to_copy_op", lambda x: (torch.ops.aten._to_copy(x, dtype=torch.int32), torch.ops.aten._to_copy(x)), _f(2, 3) * 4)
_case("identity_ops", lambda x: (torch.ops.aten.lift_fresh(x) + 1, torch.ops.aten.lift_fresh_copy(x), torch.ops.aten.alias(x) * 2,
                                 torch.positive(x), x.resolve_conj() - 1, x.resolve_neg() + 3), _f(2, 3))
_case("view_internal_ops", lambda x: (torch.ops.aten._unsafe_view(x, [6]), torch.ops.aten._reshape_alias(x, [3, 2], [2, 1])), _f(2, 3))
_case("copy_functional", lambda x, y: torch.ops.aten.copy(x, y), _f(2, 3), _f(3))
_case("identities", lambda x: x.contiguous().detach().clone() + x.t().contiguous().t(), _f(2, 3))
_case("copy_broadcast_cast", lambda x, y: x.clone().copy_(y), _f(2, 3), _i(3))
_case("copy_into_zeros", lambda x: torch.zeros(2, 3).copy_(x), _f(2, 3))
_case("fill_scalar", lambda x: x.clone().fill_(2.5), _f(2, 3))
_case("fill_int_tensor_float", lambda x: x.clone().fill_(2.7), _i(2, 3))
_case("fill_zero_dim_tensor", lambda x, v: x.clone().fill_(v), _f(2, 3), torch.tensor(4.0))
_case("zero_inplace", lambda x: x.clone().zero_() + 1, _f(2, 3))
_case("lift_fresh_constant", lambda x: x * torch.tensor([1.0, 2.0, 3.0]), _f(2, 3))

# ── reductions ───────────────────────────────────────────────────────────────
_case("sum_all", torch.sum, _f(2, 3, 4))
_case("sum_dims_keepdim", lambda x: x.sum(dim=(0, -1), keepdim=True), _f(2, 3, 4))
_case("sum_dim_negative", lambda x: x.sum(-2), _f(2, 3, 4))
_case("sum_dtype", lambda x: torch.sum(x, dim=1, dtype=torch.float32), _i(2, 3))
_case("sum_int_to_i64", lambda x: (x.sum(), x.sum(0)), _i(3, 4).int())
_case("sum_bool", lambda x: x.sum(-1), _b(3, 5))
_case("mean_all_and_dims", lambda x: (x.mean(), x.mean(dim=[1, 2]), x.mean(-1, keepdim=True)), _f(2, 3, 4))
_case("mean_dtype", lambda x: x.mean(dim=0, dtype=torch.float32), _i(3, 4))
_case("max_min_full", lambda x: (x.max(), x.min()), _f(3, 4))
_case("max_dim", lambda x: torch.max(x, dim=1), _f(3, 4, 5))
_case("min_dim_keepdim", lambda x: torch.min(x, -1, keepdim=True), _f(3, 4))
_case("max_dim_int", lambda x: x.max(0)[0], _i(4, 3, low=-100, high=100))
_case("max_other", lambda x, y: (torch.max(x, y), torch.min(x, y)), _f(2, 3), _f(3))
_case("amax_amin", lambda x: (torch.amax(x, dim=(0, 2)), torch.amin(x, dim=-1, keepdim=True)), _f(2, 3, 4))
_case("argmax_flat", lambda x: torch.argmax(x), _f(3, 4))
_case("argmax_flat_keepdim", lambda x: torch.argmax(x, keepdim=True), _f(3, 4))
_case("argmax_dim", lambda x: (x.argmax(dim=1), x.argmax(-1, keepdim=True)), _f(2, 3, 4))
_case("argmin_dim", lambda x: (x.argmin(dim=0), torch.argmin(x)), _f(3, 4))
_case("argmax_ties_first", lambda x: (x.argmax(-1), x.argmin(0), x.max(1)[1], x.min(0)[1]), torch.tensor([[1, 3, 3, 0], [2, 2, 1, 1], [0, 0, 0, 0]]))
_case("argmax_int", lambda x: x.argmax(-1), _i(3, 7, low=-100, high=100))
_case("prod", lambda x: (x.prod(), x.prod(1), x.prod(-1, keepdim=True)), _pos(2, 3))
_case("prod_int", lambda x: x.prod(0), _i(3, 4, low=1, high=4))
_case("norm_default", lambda x: torch.norm(x), _f(3, 4))
_case("norm_dims", lambda x: (x.norm(dim=-1, keepdim=True), x.norm(p=1, dim=0), x.norm(p=3, dim=1)), _f(3, 4))
_case("norm_inf", lambda x: (torch.norm(x, p=float("inf"), dim=1), torch.norm(x, p=float("-inf"), dim=1)), _f(3, 4))
_case("norm_fro", lambda x: (torch.norm(x, p="fro"), torch.norm(x, p="fro", dim=(0, 1))), _f(3, 4))
_case("norm_zero", lambda x: torch.norm(x, p=0, dim=1), _f(3, 4) * (_f(3, 4) > 0))
_case("linalg_vector_norm", lambda x: (torch.linalg.vector_norm(x), torch.linalg.vector_norm(x, ord=3, dim=(-1,), keepdim=True)), _f(3, 4))
_case("var_std_default", lambda x: (x.var(), x.std()), _f(3, 4))
_case("var_std_dims", lambda x: (x.var(dim=1, unbiased=False), x.std(dim=(0, 2), keepdim=True), x.var(-1)), _f(2, 3, 4))
_case("var_correction", lambda x: (torch.var(x, dim=1, correction=0), torch.std(x, dim=0, correction=2)), _f(4, 5))
_case("var_std_mean", lambda x: (torch.var_mean(x, dim=1), torch.std_mean(x, dim=-1, unbiased=False)), _f(3, 4))
_case("cumsum", lambda x: (torch.cumsum(x, dim=-1), x.cumsum(0)), _f(3, 4))
_case("cumsum_int_and_dtype", lambda x: (x.cumsum(1), torch.cumsum(x, 0, dtype=torch.float32)), _i(3, 4).int())
_case("cumsum_bool", lambda x: x.cumsum(-1), _b(2, 5))
_case("all_any", lambda x: (x.all(), x.any(), x.all(dim=1), x.any(-1, keepdim=True)), _b(3, 4))
_case("all_any_numeric", lambda x: (torch.all(x), torch.any(x, 0)), _i(3, 4, low=0, high=3))
_case("logsumexp", lambda x: (torch.logsumexp(x, dim=-1), torch.logsumexp(x, dim=(0, 1), keepdim=True)), _f(2, 3, 4))

# ── shape ────────────────────────────────────────────────────────────────────
_case("view_infer", lambda x: x.view(2, -1), _f(2, 3, 4))
_case("reshape", lambda x: x.reshape(-1, 4, 3).reshape(24), _f(2, 3, 4))
_case("view_size_arith", lambda x: x.view(x.size(0), x.size(1) * x.size(2)), _f(2, 3, 4))
_case("flatten", lambda x: (x.flatten(), x.flatten(1), torch.flatten(x, 0, -2)), _f(2, 3, 4))
_case("unflatten", lambda x: x.unflatten(-1, (2, -1)), _f(3, 8))
_case("permute", lambda x: x.permute(2, 0, -2), _f(2, 3, 4))
_case("transpose", lambda x: (x.transpose(-1, -2), torch.transpose(x, 0, 2)), _f(2, 3, 4))
_case("movedim", lambda x: (torch.movedim(x, 0, -1), torch.movedim(x, (0, 1), (2, 0))), _f(2, 3, 4))
_case("expand", lambda x: x.expand(2, -1, 4), _f(3, 1))
_case("broadcast_to", lambda x: x.broadcast_to(2, 3, 4), _f(3, 1))
_case("expand_as", lambda x, y: x.expand_as(y), _f(1, 4), _f(3, 4))
_case("repeat", lambda x: (x.repeat(2, 1, 3), x.repeat(1, 1)), _f(2, 3))
_case("stack", lambda x, y: (torch.stack([x, y]), torch.stack([x, y], dim=-1)), _f(2, 3), _f(2, 3))
_case("stack_promotes", lambda x, y: torch.stack((x, y), 1), _i(2, 3), _f(2, 3))
_case("cat", lambda x, y: (torch.cat([x, y], dim=-1), torch.cat((x, x), 0)), _f(2, 3), _f(2, 5))
_case("cat_promotes", lambda x, y: torch.concat([x, y]), _i(2, 3), _f(1, 3))
_case("split_int", lambda x: x.split(2, dim=-1), _f(3, 5))
_case("split_sizes", lambda x: torch.split(x, [1, 3, 1], dim=1), _f(2, 5))
_case("split_with_sizes", lambda x: x.split_with_sizes([2, 1], 0), _f(3, 2))
_case("chunk", lambda x: (x.chunk(3, -1), torch.chunk(x, 2, 0)), _f(3, 7))
_case("unsafe_split_chunk", lambda x: (torch.unsafe_split(x, 2, 1), torch.unsafe_split_with_sizes(x, [1, 2], 0),
                                      torch.unsafe_chunk(x, 2, -1)), _f(3, 5))
_case("unbind", lambda x: x.unbind(1), _f(2, 3, 2))
_case("unbind_sum", lambda x: sum(x.unbind(0)), _f(4, 3))
_case("flip", lambda x: (x.flip(0), torch.flip(x, [-1, 1])), _f(2, 3, 4))
_case("roll", lambda x: (torch.roll(x, 1, 0), torch.roll(x, (-2, 1), (-1, 0))), _f(3, 4))
_case("roll_large_shifts", lambda x: (torch.roll(x, -7, 1), torch.roll(x, 9, 0)), _f(3, 4))
_case("roll_flat", lambda x: torch.roll(x, 5), _f(3, 4))
_case("slice_steps", lambda x: (x[:, 1:], x[..., ::2], x[:, -3:-1], x[1:100], x[:, :, 1:-1:2]), _f(3, 4, 5))
_case("slice_empty", lambda x: torch.cat([x[:, 3:1], x], 1), _f(2, 4))
_case("select", lambda x: (x[:, -1], x[0], x.select(2, 1)), _f(3, 4, 5))
_case("narrow", lambda x: (x.narrow(1, 1, 2), torch.narrow(x, -1, -3, 2)), _f(3, 4, 5))
_case("unsqueeze_squeeze", lambda x: (x.unsqueeze(0), x.unsqueeze(-1), x.unsqueeze(1).squeeze(1), x.squeeze(), x.squeeze(0), x.squeeze(-1)), _f(1, 3, 1))
_case("squeeze_noop_dim", lambda x: (x.squeeze(1), x.squeeze(-2).squeeze(0)), _f(1, 3, 1))
_case("split_chunk_oversized", lambda x: (x.split(10, 1), x.chunk(6, 0), x.chunk(4, 1)), _f(3, 4))
_case("unsqueeze_inplace", lambda x: x.clone().unsqueeze_(1).squeeze_(0), _f(1, 3))
_case("view_as_reshape_as", lambda x, y: (x.view_as(y), x.reshape_as(y)), _f(2, 6), _f(3, 4))
_case("repeat_interleave", lambda x: (x.repeat_interleave(2, dim=1), torch.repeat_interleave(x, torch.tensor([1, 0, 3]), dim=-2),
                                      x.repeat_interleave(2), torch.repeat_interleave(x, torch.tensor([2]), dim=0),
                                      torch.repeat_interleave(torch.arange(x.size(0)))), _f(3, 2))
_case("meshgrid", lambda x, y: (torch.meshgrid(x, y, indexing="ij"), torch.meshgrid(x, y, x, indexing="xy"),
                                torch.meshgrid(torch.arange(x.size(0)), torch.arange(y.size(0)), indexing="ij")), _f(3), _f(4))
_case("numel", lambda x: x.view(x.numel()), _f(2, 3))

# ── indexing ─────────────────────────────────────────────────────────────────
def _setitem_axis1(x, i, v):
    y = x.clone()
    y[:, i] = v
    return y


def _setitem_mask(x):
    y = x.clone()
    y[y > 0] = 0.0
    return y


def _setitem_rows(x, m, v):
    y = x.clone()
    y[m] = v
    return y


def _setitem_const_mask(x, v):
    y = x.clone()
    y[torch.tensor([True, False, True, False])] = v
    return y


_case("index_single", lambda x, i: x[i], _f(5, 3), _i(2, 2, low=-5, high=5))
_case("index_axis1", lambda x, i: x[:, i], _f(2, 5, 3), _i(4, low=-5, high=5))
_case("index_last_axis", lambda x, i: x[..., i], _f(2, 3, 5), _i(3, low=0, high=5))
_case("index_two_adjacent", lambda x, i, j: x[:, i, j], _f(2, 4, 5, 3), _i(3, low=-4, high=4), _i(2, 1, low=0, high=5))
_case("index_two_separated", lambda x, i, j: x[i, :, j], _f(4, 3, 5), _i(2, 3, low=0, high=4), _i(3, low=-5, high=5))
_case("index_bool_constant_mask", lambda x: x[torch.tensor([True, False, True, True])], _f(4, 3))
_case("index_bool_constant_mask_2d", lambda x: x[:, torch.tensor([[True, False], [False, True]])], _f(3, 2, 2))
_case("index_select", lambda x, i: (torch.index_select(x, 1, i), x.index_select(-1, i[:2])), _f(3, 4, 3), _i(3, low=0, high=3))
_case("gather", lambda x, i: torch.gather(x, 1, i), _f(3, 4), _i(3, 2, low=0, high=4))
_case("gather_negative_dim", lambda x, i: x.gather(-1, i), _f(2, 3, 4), _i(2, 3, 2, low=0, high=4))
_case("scatter_src", lambda x, i, s: torch.scatter(x, 1, i, s), _f(3, 5), torch.tensor([[0, 1], [2, 3], [4, 0]]), _f(3, 4))
_case("scatter_value_inplace", lambda x, i: x.clone().scatter_(0, i, 2.5), _f(3, 4), torch.tensor([[0, 1, 2, 0]]))
_case("index_put_tensor_indices", lambda x, i, v: x.clone().index_put_((i,), v), _f(5, 3), torch.tensor([0, 3, -1]), _f(3))
_case("index_put_setitem", lambda x, i: torch.index_put(x, (i,), torch.tensor(9.0)), _f(5, 3), torch.tensor([1, 4]))
_case("index_put_two_indices", lambda x, i, j: x.clone().index_put_((i, j), torch.tensor(0.5)), _f(4, 5), torch.tensor([0, 2, 3]), torch.tensor([4, 1, 0]))
_case("index_put_none_prefix", lambda x, i, v: _setitem_axis1(x, i, v), _f(2, 5, 3), torch.tensor([1, 3]), _f(2, 2, 3))
_case("index_put_bool_mask", lambda x: _setitem_mask(x), _f(3, 4))
_case("index_put_bool_mask_rows", lambda x, m, v: _setitem_rows(x, m, v), _f(4, 3), _b(4), _f(3))
_case("index_put_constant_mask_values", lambda x, v: _setitem_const_mask(x, v), _f(4, 2), _f(2, 2))

def _setitem_views(x, v):
    y = x.clone()
    y[:, 0] = v          # select + copy_
    y[1:3] = 0.5         # slice + fill_
    y[..., ::2] *= 2     # strided slice + mul_
    y[0].clamp_(max=0.1)  # select + clamp_
    return y


_case("setitem_through_views", _setitem_views, _f(4, 3, 5), _f(5))

# ── padding ──────────────────────────────────────────────────────────────────
_case("pad_constant", lambda x: (F.pad(x, (1, 2)), F.pad(x, (1, 0, 0, 2), value=-1.5)), _f(2, 3, 4))
_case("pad_negative", lambda x: F.pad(x, (-1, 2, 1, -1)), _f(2, 3, 4))
_case("pad_reflect", lambda x: (F.pad(x, (2, 1), mode="reflect"), F.pad(x.unsqueeze(0), (1, 1, 2, 0), mode="reflect")), _f(2, 3, 4))
_case("pad_replicate", lambda x: (F.pad(x, (2, 1), mode="replicate"), F.pad(x.unsqueeze(0), (1, 1, 2, 0), mode="replicate")), _f(2, 3, 4))
_case("pad_circular", lambda x: F.pad(x.unsqueeze(0), (1, 2, 2, 1), mode="circular"), _f(2, 3, 4))
_case("pad_legacy_ops", lambda x: (torch._C._nn.reflection_pad1d(x, [1, 2]), torch._C._nn.reflection_pad2d(x, [1, 2, 1, 0]),
                                   torch._C._nn.replication_pad1d(x, [2, 0]), torch._C._nn.replication_pad2d(x, [0, 1, 2, 1]),
                                   torch._C._nn.reflection_pad3d(x.unsqueeze(0), [1, 1, 1, 0, 1, 1]),
                                   torch._C._nn.replication_pad3d(x.unsqueeze(0), [1, 2, 0, 1, 1, 0]),
                                   torch.ops.aten._pad_circular(x, [1, 2])), _f(2, 3, 4))
_case("constant_pad_nd", lambda x: torch.constant_pad_nd(x, [1, 1, 0, 2], 3.0), _f(2, 3))
_case("pad_modules", lambda x: (torch.nn.ReflectionPad2d((1, 2, 0, 1))(x), torch.nn.ReplicationPad1d(2)(x[0]),
                                torch.nn.ZeroPad2d(1)(x)), _f(2, 3, 4))

# ── creation ─────────────────────────────────────────────────────────────────
_case("arange_from_size", lambda x: x + torch.arange(x.shape[-1]), _f(2, 5))
_case("arange_start_end_step", lambda x: (torch.arange(1, x.size(0) * 2, 3), torch.arange(0.5, x.size(0), 0.25)), _f(4))
_case("arange_dtype", lambda x: x * torch.arange(2, 2 + x.size(1), dtype=torch.float32), _f(3, 4))
_case("arange_int_with_float_dtype", lambda x: torch.arange(x.size(0), dtype=torch.float16), _f(5), atol=1e-3)
_case("arange_negative_step", lambda x: x[torch.arange(x.size(0) - 1, -1, -1)], _f(4, 2))
# Sizes come from x.size() so that freezing cannot fold the creation op away.
_case("zeros_ones_full", lambda x: (x + torch.zeros(x.size(0), 3), x * torch.ones(x.size(1)),
                                    torch.full((x.size(0), 3), 1.5) - x, torch.full((x.size(0),), 7)), _f(2, 3))
_case("zeros_ones_dtype", lambda x: (torch.zeros(x.size(0), dtype=torch.int64),
                                     torch.ones(x.size(0), 3, dtype=torch.bool) & (x > 0)), _f(2, 3))
_case("empty_filled", lambda x: torch.empty(x.size(0), 3).fill_(3.0) + torch.empty_like(x).zero_(), _f(2, 3))
_case("like_forms", lambda x: (torch.zeros_like(x), torch.ones_like(x, dtype=torch.int64), torch.full_like(x, -2.5),
                               torch.empty_like(x).copy_(x)), _f(2, 3))
_case("new_forms", lambda x: (x.new_zeros(3), x.new_ones((2, 2)), x.new_full((1, 3), 4), x.new_empty(2).fill_(1),
                              x.new_zeros(2, dtype=torch.int32)), _i(2, 3))
_case("large_full", lambda x: x + torch.full((x.size(0), 80), 0.5), _f(80, 80))
_case("scalar_tensor", lambda x: (x * torch.scalar_tensor(x.size(0)), torch.scalar_tensor(x.size(0), dtype=torch.int64)), _f(3))
_case("constant_literals", lambda x: x + torch.tensor(2.5) + torch.tensor([1, 2, 3]), _f(2, 3))
_case("linspace", lambda x: x * torch.linspace(0, 1, 5) + torch.linspace(-1, 2, x.size(0)).unsqueeze(-1), _f(3, 5))
_case("tril_triu", lambda x: (torch.tril(x), x.triu(1), torch.tril(x, -1), x.triu(-2)), _f(2, 4, 5))
_case("tril_constant", lambda x: x * torch.ones(x.size(0), x.size(0)).tril(), _f(4, 4))
_case("causal_mask", lambda x: x.masked_fill(torch.ones(x.size(-1), x.size(-1), dtype=torch.bool).triu(1), -1e4), _f(2, 4, 4))

# ── F.unfold / F.fold (aten::im2col / aten::col2im) ──────────────────────────
_case("unfold_basic", lambda x: F.unfold(x, kernel_size=3), _f(2, 3, 6, 7))
_case("unfold_strided_padded_dilated", lambda x: F.unfold(x, kernel_size=(2, 3), dilation=(2, 1), padding=(1, 2),
                                                          stride=(2, 3)), _f(1, 4, 9, 8))
_case("unfold_unbatched", lambda x: F.unfold(x, kernel_size=2, stride=2), _f(3, 6, 4))
_case("fold_overlapping", lambda x: F.fold(x, output_size=(6, 7), kernel_size=3), _f(2, 27, 20))
_case("fold_strided_padded_dilated", lambda x: F.fold(x, output_size=(9, 8), kernel_size=(2, 3), dilation=(2, 1),
                                                      padding=(1, 2), stride=(2, 3)), _f(1, 24, 20))
# The blocks stop one row and column short of output_size: the rest is 0.
_case("fold_uncovered_edge", lambda x: F.fold(x, output_size=(7, 7), kernel_size=2, stride=2), _f(1, 8, 9))
_case("unfold_fold_roundtrip", lambda x: F.fold(F.unfold(x, 2, stride=2), x.shape[-2:], 2, stride=2), _f(2, 3, 4, 6))
# Tensor.unfold (aten::unfold): sliding windows along one dim.
_case("tensor_unfold", lambda x: (x.unfold(2, 3, 2), x.unfold(0, 1, 1), x.unfold(-1, 5, 5)), _f(2, 3, 10))
