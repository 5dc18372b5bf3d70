#!/usr/bin/env bash
# Install test: stage `meson install` of the build tree into a temporary
# DESTDIR and use it exactly as the README's "Install" section says: point
# PKG_CONFIG_PATH at the staged exporters-sdk.pc (relocatable: no
# PKG_CONFIG_SYSROOT_DIR), build the SDK's example plugin out of tree with
# nothing but pkg-config, install it, and check that the installed exporters
# CLI lists and loads it beside the family plugins it shipped with. Then move
# the whole staged tree and check that the .pc and the CLI follow it.
# Usage: install_test.sh BUILD_DIR SOURCE_DIR INSTALL_EXAMPLES(true|false)
set -euo pipefail

build=$(cd "$1" && pwd)
source_root=$(cd "$2" && pwd)
install_examples=${3:-false}
work=$(mktemp -d "${TMPDIR:-/tmp}/exporters-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
dest=$work/dest
families=(bert distilbert mobilebert gpt2 vit convnext cvt mobilevit segformer)

fail() { echo "install test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }
# Resolves a path (which may contain ..) that must exist.
real() { realpath -e "$1" 2>/dev/null || fail "path $1 does not exist"; }

step "meson install --destdir $dest"
meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fail "meson install failed"; }

exe=$(find "$dest" -path '*/bin/exporters' -type f | head -n1)
pc=$(find "$dest" -name exporters-sdk.pc | head -n1)
[ -n "$exe" ] || fail "no bin/exporters under $dest"
[ -n "$pc" ] || fail "no exporters-sdk.pc under $dest"
libdir=$(dirname "$(dirname "$pc")")
prefix_dir=$(dirname "$(dirname "$exe")")
plugindir=$libdir/exporters/plugins
for family in "${families[@]}"; do
  [ -f "$plugindir/$family.json" ] && [ -f "$plugindir/lib$family.so" ] \
    || fail "family plugin $family (lib$family.so + $family.json) not installed in $plugindir"
done
# hello is the SDK's example, not a plugin everyone gets (-Dinstall_examples).
if [ "$install_examples" = true ]; then
  [ -f "$plugindir/hello.json" ] || fail "-Dinstall_examples=true but hello is not installed in $plugindir"
else
  [ ! -e "$plugindir/hello.json" ] && [ ! -e "$plugindir/libhello.so" ] \
    || fail "meson install installed the example plugin hello into $plugindir (only -Dinstall_examples=true may)"
  [ -f "$prefix_dir/share/exporters/examples/hello_plugin/hello_plugin.cpp" ] \
    || fail "the example plugin's sources are not installed under share/exporters/examples"
fi
ls "$libdir"/libexporters-sdk.so* >/dev/null 2>&1 || fail "libexporters-sdk.so not installed in $libdir"
[ -f "$prefix_dir/include/exporters/plugin.hpp" ] || fail "SDK header exporters/plugin.hpp not installed"
echo "installed: $exe, $pc, $plugindir"

# The README's flow for a staged install: PKG_CONFIG_PATH only.
export PKG_CONFIG_PATH=$(dirname "$pc")
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_LIBDIR
step "PKG_CONFIG_PATH=$PKG_CONFIG_PATH pkg-config --cflags --libs exporters-sdk"
grep -q '^prefix=${pcfiledir}/' "$pc" || fail "exporters-sdk.pc is not relocatable (prefix not from \${pcfiledir}): $(cat "$pc")"
flags=$(pkg-config --cflags --libs exporters-sdk) || fail "pkg-config does not find exporters-sdk"
echo "$flags"
case " $flags " in *" -std=c++20 "*) ;; *) fail "pkg-config flags lack -std=c++20" ;; esac
case " $flags " in *" -lexporters-sdk "*) ;; *) fail "pkg-config flags lack -lexporters-sdk" ;; esac
# The include and library folders must be the staged ones, not /usr/local.
inc_flag=$(tr ' ' '\n' <<<"$flags" | sed -n 's/^-I//p' | head -n1)
lib_flag=$(tr ' ' '\n' <<<"$flags" | sed -n 's/^-L//p' | head -n1)
[ "$(real "$inc_flag")" = "$(real "$prefix_dir/include")" ] \
  || fail "pkg-config include path $inc_flag is not the staged $prefix_dir/include"
[ "$(real "$lib_flag")" = "$(real "$libdir")" ] || fail "pkg-config library path $lib_flag is not the staged $libdir"
[ "$(real "$(pkg-config --variable=plugindir exporters-sdk)")" = "$(real "$plugindir")" ] \
  || fail "pkg-config plugindir $(pkg-config --variable=plugindir exporters-sdk) is not the staged $plugindir"

# The SDK headers must compile on their own with exactly these flags and
# report the ABI the source tree declares.
printf '#include <exporters/plugin.hpp>\n#include <cstdio>\nint main() { std::printf("%%d\\n", EXPORTERS_PLUGIN_ABI_VERSION); }\n' >"$work/abi.cpp"
# shellcheck disable=SC2086
c++ "$work/abi.cpp" -o "$work/abi" $flags -Wl,-rpath,"$libdir" || fail "compiling against the installed SDK failed"
want_abi=$(sed -n 's/^#define EXPORTERS_PLUGIN_ABI_VERSION \([0-9][0-9]*\).*/\1/p' "$source_root/sdk/include/exporters/plugin.hpp")
[ -n "$want_abi" ] || fail "no EXPORTERS_PLUGIN_ABI_VERSION in the source tree's plugin.hpp"
[ "$("$work/abi")" = "$want_abi" ] || fail "installed SDK reports ABI $("$work/abi"), the source says $want_abi"

# As the README: no -Dplugindir, so it installs into the SDK's plugindir,
# which pkg-config places inside the staged tree.
step "build sdk/examples/hello_plugin out of tree (meson setup, ninja, meson install)"
meson setup "$work/hello-build" "$source_root/sdk/examples/hello_plugin" -Dexporters="$exe" \
  >"$work/hello-setup.log" 2>&1 || { cat "$work/hello-setup.log"; fail "meson setup of the example plugin failed"; }
ninja -C "$work/hello-build" -j2 >"$work/hello-build.log" 2>&1 \
  || { cat "$work/hello-build.log"; fail "building the example plugin failed"; }
meson install -C "$work/hello-build" --quiet >"$work/hello-install.log" 2>&1 \
  || { cat "$work/hello-install.log"; fail "installing the example plugin failed"; }
[ -f "$plugindir/hello.json" ] && [ -f "$plugindir/libhello.so" ] \
  || fail "example plugin did not install its .so and manifest into the staged plugindir $plugindir"
grep -q '"task": "text-classification", "hf_class": "HelloForSequenceClassification"' "$plugindir/hello.json" \
  || fail "the example plugin's generated manifest lacks its task: $(cat "$plugindir/hello.json")"
unset PKG_CONFIG_PATH

mkdir -p "$work/home"
run() { env -u EXPORTERS_PLUGIN_PATH -u LD_LIBRARY_PATH HOME="$work/home" "$@"; }

step "installed CLI, no LD_LIBRARY_PATH (RPATH): --version, plugins verify"
run "$exe" --version | grep -q '^exporters ' || fail "installed exporters --version failed"
out=$(run "$exe" plugins verify) || { echo "$out"; fail "installed plugins do not verify"; }
echo "$out"
for family in hello "${families[@]}"; do
  grep -q "^$family .* ok .*$plugindir/$family.json" <<<"$out" \
    || fail "installed CLI does not load the installed $family plugin from $plugindir"
done

step "installed CLI lists and loads a copy of the plugin from --plugin-path"
user_plugins=$work/user-plugins
mkdir -p "$user_plugins"
cp "$plugindir/hello.json" "$plugindir/libhello.so" "$user_plugins/"
out=$(run "$exe" plugins list --plugin-path "$user_plugins")
echo "$out"
grep -q "^hello .* available .*$user_plugins/hello.json" <<<"$out" \
  || fail "the --plugin-path plugin is not listed as available"
grep -q "^hello .* overridden .*$plugindir/hello.json" <<<"$out" \
  || fail "the installed hello plugin is not shown as overridden by the --plugin-path one"
out=$(run "$exe" plugins verify --plugin-path "$user_plugins") || { echo "$out"; fail "plugins verify failed"; }
grep -q "^hello .* ok .*$user_plugins/hello.json" <<<"$out" || fail "--plugin-path plugin did not load"

step "same through EXPORTERS_PLUGIN_PATH"
out=$(env HOME="$work/home" EXPORTERS_PLUGIN_PATH="$user_plugins" "$exe" plugins list)
grep -q "^hello .* available .*$user_plugins/hello.json" <<<"$out" \
  || fail "EXPORTERS_PLUGIN_PATH is not searched"

step "move the staged tree: pkg-config and the CLI follow it"
moved=$work/moved
mv "$dest" "$moved"
moved_pc=${pc/#$dest/$moved}
moved_prefix=${prefix_dir/#$dest/$moved}
moved_plugindir=${plugindir/#$dest/$moved}
flags=$(PKG_CONFIG_PATH=$(dirname "$moved_pc") pkg-config --cflags exporters-sdk)
inc_flag=$(tr ' ' '\n' <<<"$flags" | sed -n 's/^-I//p' | head -n1)
[ "$(real "$inc_flag")" = "$(real "$moved_prefix/include")" ] \
  || fail "after moving the install, pkg-config still gives $inc_flag, not $moved_prefix/include"
out=$(run "$moved_prefix/bin/exporters" plugins list)
grep -q "^bert .* available .*$moved_plugindir/bert.json" <<<"$out" \
  || { echo "$out"; fail "the moved CLI does not find its plugins in $moved_plugindir"; }

echo "install test: OK"
