#!/usr/bin/env bash
# Debian packages test: builds the .deb files with scripts/make-debs.sh,
# installs them with apt-get, exports a small BERT with the installed
# /usr/bin/exporters, removes one family plugin package and checks that only
# that family goes away (with the error naming the missing plugin), then
# purges everything it installed (also on failure).
# Needs root and apt/dpkg: otherwise it skips (exit 77) and says why.
# Usage: packages_test.sh BUILD_DIR SOURCE_DIR PYTHON
set -euo pipefail

build=$(cd "$1" && pwd)
source_root=$(cd "$2" && pwd)
python=${3:-/usr/bin/python3}
families=(bert distilbert mobilebert gpt2 vit convnext cvt mobilevit segformer)

skip() { echo "packages test: SKIP: $*"; exit 77; }
fail() { echo "packages test: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || skip "installing .deb packages needs root"
for tool in apt-get dpkg dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || skip "$tool is not available (not a Debian system?)"
done
# Never replace or purge an exporters someone installed on this machine.
if dpkg-query -W -f='${db:Status-Status}\n' exporters 2>/dev/null | grep -qx installed; then
  skip "the exporters package is already installed here; this test would replace and purge it"
fi
"$python" -c 'import torch' 2>/dev/null || skip "$python cannot import torch (apt-get install python3-torch)"

work=$(mktemp -d "${TMPDIR:-/tmp}/exporters-packages-XXXXXX")
installed=()
apt() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 -y -q "$@"; }
# Of the packages $@, those dpkg still knows (installed or config left):
# apt-get cannot purge a package that is already gone.
known() {
  local pkg
  for pkg; do
    case $(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) in ''|not-installed) ;; *) echo "$pkg" ;; esac
  done
}
purge() {
  local left
  mapfile -t left < <(known "$@")
  [ ${#left[@]} -gt 0 ] || return 0
  apt purge "${left[@]}" || dpkg --purge "${left[@]}"
}
cleanup() {
  if [ ${#installed[@]} -gt 0 ]; then
    purge "${installed[@]}" >"$work/purge.log" 2>&1 || { echo "purge failed:"; cat "$work/purge.log"; }
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# The package build directory sits beside the build directory (same depth,
# so ccache reuses the objects of the tested build).
step "scripts/make-debs.sh ${build}-debs $work/debs"
start=$SECONDS
bash "$source_root/scripts/make-debs.sh" "${build}-debs" "$work/debs" >"$work/make-debs.log" 2>&1 \
  || { cat "$work/make-debs.log"; fail "scripts/make-debs.sh failed"; }
cat "$work/make-debs.log"
echo "(packages built in $((SECONDS - start)) s)"

version=$(meson introspect "$build" --projectinfo | "$python" -c "import json,sys; print(json.load(sys.stdin)['version'])")
arch=$(dpkg --print-architecture)
abi=$(sed -n 's/^#define EXPORTERS_PLUGIN_ABI_VERSION \([0-9][0-9]*\).*/\1/p' "$source_root/sdk/include/exporters/plugin.hpp")
[ -n "$abi" ] || fail "no EXPORTERS_PLUGIN_ABI_VERSION in sdk/include/exporters/plugin.hpp"
deb() { echo "$work/debs/${1}_${version}_${arch}.deb"; }
field() { dpkg-deb -f "$(deb "$1")" "$2"; }

step "package contents and relations"
packages=(exporters exporters-sdk-dev)
for family in "${families[@]}"; do packages+=("exporters-plugin-$family"); done
for pkg in "${packages[@]}"; do
  [ -f "$(deb "$pkg")" ] || fail "no $(basename "$(deb "$pkg")") built"
done
[ -z "$(ls "$work/debs" | grep -v -x -F -f <(for p in "${packages[@]}"; do basename "$(deb "$p")"; done))" ] \
  || fail "unexpected packages: $(ls "$work/debs")"
[ ! -e "$(deb exporters-plugin-hello)" ] || fail "the example plugin hello was packaged as a plugin"
[ "$(field exporters Provides)" = "exporters-plugin-abi-$abi" ] \
  || fail "exporters Provides '$(field exporters Provides)', not exporters-plugin-abi-$abi"
# (Listings go to variables first: grep -q closing a pipe early would fail it.)
contents=$(dpkg-deb -c "$(deb exporters)")
grep -q ' \./usr/bin/exporters$' <<<"$contents" || fail "exporters lacks /usr/bin/exporters"
grep -q '/libexporters-sdk\.so\.[0-9.]*$' <<<"$contents" || fail "exporters lacks libexporters-sdk.so.N"
contents=$(dpkg-deb -c "$(deb exporters-sdk-dev)")
grep -q '/pkgconfig/exporters-sdk.pc$' <<<"$contents" || fail "exporters-sdk-dev lacks exporters-sdk.pc"
grep -q '/libexporters-sdk.so -> ' <<<"$contents" || fail "exporters-sdk-dev lacks the libexporters-sdk.so link"
grep -q '/usr/share/exporters/examples/hello_plugin/hello_plugin.cpp$' <<<"$contents" \
  || fail "exporters-sdk-dev lacks the example sources"
for family in "${families[@]}"; do
  pkg=exporters-plugin-$family
  contents=$(dpkg-deb -c "$(deb "$pkg")")
  grep -q "/exporters/plugins/lib$family.so\$" <<<"$contents" && grep -q "/exporters/plugins/$family.json\$" <<<"$contents" \
    || fail "$pkg lacks lib$family.so or $family.json: $contents"
  depends=$(field "$pkg" Depends)
  case ", $depends," in *", exporters (>= $version),"*) ;; *) fail "$pkg Depends '$depends' lacks exporters (>= $version)" ;; esac
  case ", $depends," in *", exporters-plugin-abi-$abi,"*) ;; *) fail "$pkg Depends '$depends' lacks exporters-plugin-abi-$abi" ;; esac
done
# The package that owns a library file (dpkg may list it under /lib or
# /usr/lib: merged /usr).
owner_of() {
  local p
  for p in "$1" "$(realpath "$1")"; do
    for p in "$p" "${p#/usr}" "/usr$p"; do
      dpkg -S "$p" 2>/dev/null | head -n1 | cut -d: -f1 | grep . && return 0
    done
  done
  return 1
}
# Every library an ELF file of the exporters package links (NEEDED) must
# come from a package it Depends on, or from itself.
depends=$(field exporters Depends)
echo "exporters Depends: $depends"
dpkg-deb -x "$(deb exporters)" "$work/unpacked"
while IFS= read -r elf; do
  for needed in $(objdump -p "$elf" | awk '$1 == "NEEDED" {print $2}'); do
    [ -n "$(find "$work/unpacked" -name "$needed")" ] && continue
    # "name => /path (addr)", or "/path/name (addr)" for the dynamic loader
    path=$(LD_LIBRARY_PATH=$(dirname "$(find "$work/unpacked" -name 'libexporters-sdk.so.*' | head -n1)") ldd "$elf" \
      | awk -v n="$needed" '$1 == n {print $3} $1 ~ ("/" n "$") {print $1}' | head -n1)
    [ -n "$path" ] && [ "$path" != "not" ] || fail "$elf: $needed not found on this machine"
    owner=$(owner_of "$path") || fail "$elf: $needed ($path) belongs to no Debian package"
    case ", $depends," in *", $owner "*|*", $owner,"*) ;; *) fail "exporters links $needed (package $owner) but does not depend on $owner" ;; esac
  done
done < <(find "$work/unpacked" -type f -exec sh -c 'head -c4 "$1" | grep -q ELF' _ {} \; -print)

step "apt-get install ./*.deb"
debs=()
for pkg in "${packages[@]}"; do debs+=("$(deb "$pkg")"); done
installed=("${packages[@]}")
apt install --no-install-recommends "${debs[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get install failed"; }
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}\n' "$pkg" | grep -qx installed || fail "$pkg is not installed"
done

mkdir -p "$work/home"
cd "$work"  # no build tree around: the tool must find everything from /usr
run() { env -u EXPORTERS_PLUGIN_PATH -u LD_LIBRARY_PATH HOME="$work/home" PATH=/usr/bin:/bin "$@"; }
plugindir=$(dirname "$(dpkg -L exporters-plugin-bert | grep '/bert.json$')")
case $plugindir in /usr/lib/*/exporters/plugins|/usr/lib/exporters/plugins) ;; *) fail "plugins installed in $plugindir" ;; esac

step "exporters plugins list (installed)"
[ "$(command -v exporters)" = /usr/bin/exporters ] || fail "exporters on PATH is $(command -v exporters), not /usr/bin/exporters"
out=$(run exporters plugins list) || { echo "$out"; fail "exporters plugins list failed"; }
echo "$out"
for family in "${families[@]}"; do
  grep -q "^$family .* available .*$plugindir/$family.json" <<<"$out" || fail "plugins list lacks $family from $plugindir"
done
! grep -q '^hello ' <<<"$out" || fail "the example plugin hello is listed"
run exporters plugins verify >"$work/verify.log" 2>&1 || { cat "$work/verify.log"; fail "installed plugins do not verify"; }

step "make small bert and vit models"
"$python" "$source_root/tools/model_generator/make_model.py" bert "$work/bert" \
  --layers 2 --hidden 32 --heads 4 --vocab 200 --seq 16 >"$work/gen.log" 2>&1 || { cat "$work/gen.log"; fail "make_model.py bert failed"; }
"$python" "$source_root/tools/model_generator/make_model.py" vit "$work/vit" \
  --layers 2 --hidden 32 --heads 4 --image-size 32 --patch 8 >"$work/gen.log" 2>&1 || { cat "$work/gen.log"; fail "make_model.py vit failed"; }

export_bert() {
  local out
  out=$(run /usr/bin/exporters coreml "$work/bert" -o "$work/bert-$1.mlpackage" 2>&1) || { echo "$out"; fail "bert export ($1) failed"; }
  grep -q '^validation: PASS$' <<<"$out" || { echo "$out"; fail "bert export ($1) did not validate"; }
  [ -f "$work/bert-$1.mlpackage/Manifest.json" ] || fail "bert export ($1) wrote no .mlpackage"
  echo "bert ($1): validation: PASS"
}
step "export bert with /usr/bin/exporters"
export_bert all-plugins
run /usr/bin/exporters coreml "$work/vit" -o "$work/vit.mlpackage" >"$work/vit.log" 2>&1 \
  || { cat "$work/vit.log"; fail "vit export failed while its plugin is installed"; }

step "apt-get remove exporters-plugin-vit"
apt remove exporters-plugin-vit >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get remove exporters-plugin-vit failed"; }
dpkg-query -W -f='${db:Status-Status}\n' exporters | grep -qx installed || fail "removing the vit plugin removed exporters"
[ ! -e "$plugindir/vit.json" ] && [ ! -e "$plugindir/libvit.so" ] || fail "vit's files are still in $plugindir"
out=$(run exporters plugins list) || { echo "$out"; fail "exporters plugins list failed"; }
! grep -q '^vit ' <<<"$out" || { echo "$out"; fail "plugins list still shows vit"; }
for family in "${families[@]}"; do
  [ "$family" = vit ] && continue
  grep -q "^$family .* available " <<<"$out" || { echo "$out"; fail "plugins list lost $family"; }
done
if run /usr/bin/exporters coreml "$work/vit" -o "$work/vit-gone.mlpackage" >"$work/vit.log" 2>&1; then
  fail "exporting a vit model succeeded without the vit plugin"
fi
cat "$work/vit.log"
grep -q "^exporters: error: .*no installed plugin serves model_type 'vit'; it needs the standard plugin 'vit'" "$work/vit.log" \
  || fail "the error does not name the missing vit plugin"
[ ! -e "$work/vit-gone.mlpackage" ] || fail "a failed export left $work/vit-gone.mlpackage behind"
export_bert without-vit

step "apt-get purge (machine left clean)"
purge "${packages[@]}" >"$work/apt.log" 2>&1 || { cat "$work/apt.log"; fail "apt-get purge failed"; }
installed=()
[ -z "$(known "${packages[@]}")" ] || fail "still known to dpkg after the purge: $(known "${packages[@]}")"
[ ! -e /usr/bin/exporters ] && [ ! -e "$plugindir" ] || fail "files left after purge: /usr/bin/exporters or $plugindir"

echo "packages test: OK"
