#!/usr/bin/env bash
# Plugin SDK v2, end to end as a third-party author: stage `meson install`,
# build sdk/examples/hello_plugin out of tree with pkg-config only, make a
# small hello model (tests/plugins/make_hello_model.py) and export it with
# the installed CLI through that plugin (its resolver, op converter, head).
# The export's stdout is piped: a plugin whose code outlived its module used
# to crash here after the validation report (exit 139, stdout lost).
# Usage: hello_plugin_test.sh BUILD_DIR SOURCE_DIR PYTHON
set -euo pipefail

build=$(cd "$1" && pwd)
source_root=$(cd "$2" && pwd)
python=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/exporters-hello-XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/dest

fail() { echo "hello plugin test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "meson install --destdir $dest"
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "meson install failed"; }
exe=$(find "$dest" -path '*/bin/exporters' -type f | head -n1)
pc=$(find "$dest" -name exporters-sdk.pc | head -n1)
[ -n "$exe" ] && [ -n "$pc" ] || fail "no bin/exporters or exporters-sdk.pc under $dest"
libdir=$(dirname "$(dirname "$pc")")

step "build the hello plugin out of tree against the installed SDK"
export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$dest
plugins=$work/plugins
meson setup "$work/hello-build" "$source_root/sdk/examples/hello_plugin" \
  -Dplugindir="$plugins" -Dexporters="$exe" >"$work/setup.log" 2>&1 || { cat "$work/setup.log"; fail "meson setup"; }
ninja -C "$work/hello-build" -j2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "build"; }
meson install -C "$work/hello-build" --quiet >/dev/null 2>&1 || fail "install of the plugin"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
grep -q '"abi": 2' "$plugins/hello.json" || fail "manifest lacks \"abi\": 2: $(cat "$plugins/hello.json")"
export LD_LIBRARY_PATH=$libdir

step "make a hello model"
"$python" "$source_root/tests/plugins/make_hello_model.py" "$work/hello-model" >/dev/null

step "export with the plugin, stdout piped"
set +e
"$exe" --plugin-path "$plugins" coreml "$work/hello-model" -o "$work/hello.mlpackage" 2>"$work/export.err" | cat >"$work/export.out"
codes=("${PIPESTATUS[@]}")
set -e
cat "$work/export.err" "$work/export.out"
[ "${codes[0]}" = 0 ] || fail "exporters exited ${codes[0]}"
grep -q "validation: PASS" "$work/export.out" || fail "the piped stdout lacks the validation report"
grep -q "wrote $work/hello.mlpackage" "$work/export.out" || fail "the piped stdout lacks the 'wrote' line"
grep -q "plugin hello, task text-classification" "$work/export.err" || fail "the export did not use the hello plugin"
# The folder has model.safetensors: the default source is the plugin's graph builder.
grep -q "(native, no trace)" "$work/export.err" || fail "the export did not go through the plugin's graph builder"

step "the builder alone: a folder without model.pt, validated against the builder's graph"
mkdir -p "$work/hello-native"
cp "$work/hello-model"/config.json "$work/hello-model"/model.safetensors "$work/hello-model"/reference.safetensors "$work/hello-native"/
out=$("$exe" --plugin-path "$plugins" tflite "$work/hello-native" -o "$work/hello-native.tflite" 2>&1) \
  || fail "native export without model.pt: $out"
echo "$out" | grep -q "validation: PASS" || fail "native export did not validate: $out"

step "the trace path with the plugin's op converter (aten::hello_identity)"
out=$("$exe" --plugin-path "$plugins" coreml "$work/hello-model" --source trace -o "$work/hello-trace.mlpackage" 2>&1) \
  || fail "trace export: $out"
echo "$out" | grep -q "validation: PASS" || fail "trace export did not validate: $out"

step "the resolver's limit: --sequence-length beyond config.json's max_positions is one error"
set +e
out=$("$exe" --plugin-path "$plugins" coreml "$work/hello-model" -o "$work/x.mlpackage" --sequence-length 13 2>&1)
code=$?
set -e
[ "$code" != 0 ] || fail "--sequence-length 13 was accepted"
echo "$out" | grep -q "exporters: error: --sequence-length 13 exceeds the 12 positions" || fail "unexpected: $out"

step "the plugin's head: Core ML classifier with the resolved labels, the head's metadata"
out=$("$exe" inspect "$work/hello.mlpackage")
echo "$out" | grep -q "classLabel" || fail "no classLabel output: $out"
echo "$out" | grep -q "hello from the plugin's head" || fail "no metadata from the head: $out"

step "exporters validate with the plugin"
"$exe" --plugin-path "$plugins" validate "$work/hello-model" "$work/hello.mlpackage" | cat >"$work/validate.out"
grep -q "validation: PASS" "$work/validate.out" || fail "validate: $(cat "$work/validate.out")"

echo "hello plugin test: OK"
