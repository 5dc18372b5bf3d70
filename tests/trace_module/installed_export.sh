#!/usr/bin/env bash
# The installed exporters finds its installed LibTorch module: stage
# `meson install` into a temporary DESTDIR, export a trace with the staged
# binary (validated against LibTorch), and check from the dynamic loader's
# log that the module it loaded is the staged one and that --version loads
# no LibTorch.
# Usage: installed_export.sh BUILD_DIR MODEL_DIR
set -euo pipefail

build=$(cd "$1" && pwd)
model=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/exporters-torch-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/dest

fail() { echo "installed export: FAIL: $*" >&2; exit 1; }

meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "meson install failed"; }
exe=$(find "$dest" -path '*/bin/exporters' -type f | head -n1)
module=$(find "$dest" -path '*/exporters/libexporters-torch.so' -type f | head -n1)
[ -n "$exe" ] || fail "no bin/exporters under $dest"
[ -n "$module" ] || fail "libexporters-torch.so not installed under <libdir>/exporters in $dest"
echo "installed: $exe, $module"

run() { env -u EXPORTERS_PLUGIN_PATH -u EXPORTERS_TORCH_MODULE -u LD_LIBRARY_PATH HOME="$work/home" "$@"; }
mkdir -p "$work/home" "$work/ld-version" "$work/ld-export"

LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld-version/ld" run "$exe" --version | grep -q '^exporters ' \
  || fail "installed exporters --version failed"
grep -q 'file=.*libexporters-sdk' "$work"/ld-version/ld.* || fail "the loader's log is empty"
if grep -E 'file=[^ ]*(libtorch|libc10|libexporters-torch)' "$work"/ld-version/ld.*; then
  fail "installed exporters --version loaded LibTorch"
fi

out=$(LD_DEBUG=files LD_DEBUG_OUTPUT="$work/ld-export/ld" run "$exe" coreml "$model" -o "$work/model.mlpackage" 2>&1) \
  || { echo "$out"; fail "export from a trace with the installed exporters failed"; }
echo "$out" | tail -n 4
echo "$out" | grep -q 'validation: PASS' || fail "the installed export did not validate"
grep -q "file=$module " "$work"/ld-export/ld.* \
  || { grep 'file=.*libexporters-torch' "$work"/ld-export/ld.* || true; fail "the export did not load the installed module $module"; }
grep -q 'file=.*libtorch_cpu' "$work"/ld-export/ld.* || fail "the export did not load LibTorch"
echo "installed export: OK"
