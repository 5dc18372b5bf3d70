#!/usr/bin/env bash
# Install test: stage `meson install` of the build tree into a temporary
# DESTDIR, build the SDK's example plugin out of tree against it using only
# pkg-config, install that plugin into a folder, and check that the installed
# exporters CLI lists and loads both it and the in-tree plugins it shipped with.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$(cd "$1" && pwd)
source_root=$(cd "$2" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/exporters-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/dest

fail() { echo "install test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

step "meson install --destdir $dest"
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "meson install failed"; }

exe=$(find "$dest" -path '*/bin/exporters' -type f | head -n1)
pc=$(find "$dest" -name exporters-sdk.pc | head -n1)
[ -n "$exe" ] || fail "no bin/exporters under $dest"
[ -n "$pc" ] || fail "no exporters-sdk.pc under $dest"
libdir=$(dirname "$(dirname "$pc")")
plugindir=$libdir/exporters/plugins
[ -f "$plugindir/hello.json" ] || fail "in-tree plugin manifest not installed in $plugindir"
[ -f "$plugindir/libhello.so" ] || fail "in-tree plugin library not installed in $plugindir"
ls "$libdir"/libexporters-sdk.so* >/dev/null 2>&1 || fail "libexporters-sdk.so not installed in $libdir"
header=$(find "$dest" -path '*/include/exporters/plugin.hpp' | head -n1)
[ -n "$header" ] || fail "SDK header exporters/plugin.hpp not installed"
echo "installed: $exe, $pc, $plugindir"

export PKG_CONFIG_PATH=$(dirname "$pc")
export PKG_CONFIG_SYSROOT_DIR=$dest
step "pkg-config --cflags --libs exporters-sdk"
flags=$(pkg-config --cflags --libs exporters-sdk)
echo "$flags"
case " $flags " in *" -std=c++20 "*) ;; *) fail "pkg-config flags lack -std=c++20" ;; esac
case " $flags " in *" -I$dest"*) ;; *) fail "pkg-config include path is not inside the staged install" ;; esac
case " $flags " in *" -lexporters-sdk "*) ;; *) fail "pkg-config flags lack -lexporters-sdk" ;; esac

# The SDK headers must compile on their own with exactly these flags.
printf '#include <exporters/plugin.hpp>\nint main() { return EXPORTERS_PLUGIN_ABI_VERSION == 2 ? 0 : 1; }\n' >"$work/abi.cpp"
# shellcheck disable=SC2086
c++ "$work/abi.cpp" -o "$work/abi" $flags -Wl,-rpath,"$libdir" || fail "compiling against the installed SDK failed"
"$work/abi" || fail "installed SDK reports an unexpected ABI version"

step "build sdk/examples/hello_plugin out of tree"
user_plugins=$work/user-plugins
meson setup "$work/hello-build" "$source_root/sdk/examples/hello_plugin" \
  -Dplugindir="$user_plugins" -Dexporters="$exe" >"$work/hello-setup.log" 2>&1 \
  || { cat "$work/hello-setup.log"; fail "meson setup of the example plugin failed"; }
ninja -C "$work/hello-build" -j2 >"$work/hello-build.log" 2>&1 \
  || { cat "$work/hello-build.log"; fail "building the example plugin failed"; }
meson install -C "$work/hello-build" --quiet >/dev/null 2>&1 || fail "installing the example plugin failed"
[ -f "$user_plugins/hello.json" ] && [ -f "$user_plugins/libhello.so" ] \
  || fail "example plugin did not install its .so and manifest into $user_plugins"
grep -q '"task": "text-classification", "hf_class": "HelloForSequenceClassification"' "$user_plugins/hello.json" \
  || fail "the example plugin's generated manifest lacks its task: $(cat "$user_plugins/hello.json")"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

mkdir -p "$work/home"
run() { env -u EXPORTERS_PLUGIN_PATH HOME="$work/home" "$@"; }

step "installed CLI, no LD_LIBRARY_PATH (RPATH): --version, plugins verify"
run "$exe" --version | grep -q '^exporters ' || fail "installed exporters --version failed"
out=$(run "$exe" plugins verify) || { echo "$out"; fail "installed plugins do not verify"; }
echo "$out"
echo "$out" | grep -q "^hello .* ok .*$plugindir/hello.json" \
  || fail "installed CLI does not load the installed hello plugin from $plugindir"

step "installed CLI lists and loads the out-of-tree plugin (--plugin-path)"
export LD_LIBRARY_PATH=$libdir
out=$(run "$exe" plugins list --plugin-path "$user_plugins")
echo "$out"
echo "$out" | grep -q "^hello .* available .*$user_plugins/hello.json" \
  || fail "the out-of-tree plugin is not listed as available"
echo "$out" | grep -q "^hello .* overridden .*$plugindir/hello.json" \
  || fail "the installed hello plugin is not shown as overridden by the --plugin-path one"
out=$(run "$exe" plugins verify --plugin-path "$user_plugins") || { echo "$out"; fail "plugins verify failed"; }
echo "$out" | grep -q "^hello .* ok .*$user_plugins/hello.json" || fail "out-of-tree plugin did not load"

step "same through EXPORTERS_PLUGIN_PATH"
out=$(env HOME="$work/home" EXPORTERS_PLUGIN_PATH="$user_plugins" "$exe" plugins list)
echo "$out" | grep -q "^hello .* available .*$user_plugins/hello.json" \
  || fail "EXPORTERS_PLUGIN_PATH is not searched"

echo "install test: OK"
