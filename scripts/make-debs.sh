#!/usr/bin/env bash
# Builds Debian packages of exporters from a staged `meson install` under
# prefix /usr, with dpkg-deb only (no debhelper):
#   exporters                  the CLI, libexporters-sdk.so.N it runs on, and
#                              every other module in <libdir>/exporters/ that
#                              is not a plugin (e.g. the LibTorch module);
#                              Provides: exporters-plugin-abi-<ABI>
#   exporters-sdk-dev          SDK headers, exporters-sdk.pc, the unversioned
#                              libexporters-sdk.so link, the example sources
#   exporters-plugin-<family>  one per installed plugin manifest: its module
#                              and manifest; Depends: exporters (>= VERSION),
#                              exporters-plugin-abi-<ABI>
# Depends on Debian libraries are computed from the ELF files with
# dpkg-shlibdeps (dpkg-dev), or, without it (or with MAKE_DEBS_NO_SHLIBDEPS=1),
# from the libraries they link (ldd) and `dpkg -S`, without versions.
# Every installed file must land in exactly one package: a file the rules
# above do not place stops the script rather than being dropped.
#
# Usage: scripts/make-debs.sh BUILD_DIR OUT_DIR
#   BUILD_DIR  build directory for the packages: configured here with
#              --prefix=/usr -Dtests=false if it does not exist; an existing
#              one is switched to --prefix=/usr -Dinstall_examples=false
#   OUT_DIR    where the .deb files are written (created if missing)
# Environment: JOBS (ninja jobs, default 2); DEB_MAINTAINER (Maintainer field).
set -euo pipefail
umask 022

die() { echo "make-debs: error: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: scripts/make-debs.sh BUILD_DIR OUT_DIR"
source_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$1
mkdir -p "$2"
out=$(cd "$2" && pwd)
for tool in meson ninja dpkg dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (apt-get install meson ninja-build dpkg)"
done
maintainer=${DEB_MAINTAINER:-exporters developers <exporters@localhost>}

# ── Configure and build under /usr ─────────────────────────────────────────
option() {  # value of a meson option of $build
  meson introspect "$build" --buildoptions | python3 -c \
    "import json,sys; print(next(str(o['value']).lower() for o in json.load(sys.stdin) if o['name']=='$1'))"
}
if [ -f "$build/build.ninja" ]; then
  if [ "$(option prefix)" != /usr ] || [ "$(option install_examples)" != false ]; then
    echo "make-debs: switching $build to --prefix=/usr -Dinstall_examples=false"
    meson configure "$build" -Dprefix=/usr -Dinstall_examples=false >/dev/null
  fi
else
  meson setup "$build" "$source_root" --prefix=/usr -Dtests=false -Dinstall_examples=false \
    -Dbuildtype=release >/dev/null || die "meson setup $build failed"
fi
ninja -C "$build" -j"${JOBS:-2}" >/dev/null || die "building $build failed (run: ninja -C $build)"

work=$(mktemp -d "${TMPDIR:-/tmp}/exporters-debs-XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage
meson install -C "$build" --no-rebuild --destdir "$stage" >"$work/install.log" 2>&1 \
  || { cat "$work/install.log" >&2; die "meson install --destdir failed"; }

version=$(meson introspect "$build" --projectinfo | python3 -c "import json,sys; print(json.load(sys.stdin)['version'])")
arch=$(dpkg --print-architecture)
libdir=usr/$(option libdir)
case $libdir in usr//*) die "libdir $(option libdir) is not inside the prefix" ;; esac
abi=$(sed -n 's/^#define EXPORTERS_PLUGIN_ABI_VERSION \([0-9][0-9]*\).*/\1/p' "$stage/usr/include/exporters/plugin.hpp")
[ -n "$abi" ] || die "no EXPORTERS_PLUGIN_ABI_VERSION in the installed exporters/plugin.hpp"
echo "make-debs: exporters $version ($arch), plugin ABI $abi, libdir /$libdir"

# ── Split the staged tree into package trees (dpkg-shlibdeps wants them
#    under debian/<package>) ─────────────────────────────────────────────────
pkgs=$work/debian
move() {  # move staged path $2 (relative to the stage) into package $1
  [ -e "$stage/$2" ] || [ -L "$stage/$2" ] || die "expected $2 in the staged install"
  mkdir -p "$pkgs/$1/$(dirname "$2")"
  mv "$stage/$2" "$pkgs/$1/$2"
}

plugin_root=$libdir/exporters/plugins
plugin_pkgs=()
if [ -d "$stage/$plugin_root" ]; then
  # One package per manifest; its module is the manifest's "library", beside it.
  manifests=$(cd "$stage" && find "$plugin_root" -name '*.json' | sort | python3 -c '
import json, sys
for path in sys.stdin.read().split():
    try:
        m = json.load(open(path))
        print(path, m["name"], m["library"])
    except (ValueError, KeyError) as e:
        sys.exit(f"{path}: not a plugin manifest ({e})")') || die "reading the plugin manifests failed"
  while read -r rel name library; do
    pkg=exporters-plugin-$name
    [[ $pkg =~ ^[a-z0-9][a-z0-9.+-]+$ ]] || die "$rel: plugin name '$name' is not a valid Debian package name part"
    if [ "$(dirname "$rel")" = "$plugin_root" ]; then
      move "$pkg" "$rel"
      move "$pkg" "$plugin_root/$library"
    else  # a plugin in its own folder: the whole folder
      move "$pkg" "$(dirname "$rel")"
    fi
    plugin_pkgs+=("$pkg")
  done <<<"$manifests"
  rmdir "$stage/$plugin_root" 2>/dev/null || die "files in $plugin_root that no manifest names: $(find "$stage/$plugin_root" -mindepth 1 | sed "s|$stage/||")"
fi
[ ${#plugin_pkgs[@]} -gt 0 ] || die "the install has no plugins under /$plugin_root"

# The tool, its runtime library (versioned names) and its private modules.
move exporters usr/bin/exporters
for lib in "$stage/$libdir"/libexporters-sdk.so.*; do move exporters "${lib#"$stage/"}"; done
if [ -d "$stage/$libdir/exporters" ] && ! rmdir "$stage/$libdir/exporters" 2>/dev/null; then
  move exporters "$libdir/exporters"
fi

# The SDK for plugin authors.
move exporters-sdk-dev "$libdir/libexporters-sdk.so"
move exporters-sdk-dev "$libdir/pkgconfig/exporters-sdk.pc"
move exporters-sdk-dev usr/include/exporters
move exporters-sdk-dev usr/share/exporters/examples

left=$(find "$stage" -not -type d | sed "s|$stage/||")
[ -z "$left" ] || die "installed files no package takes (extend scripts/make-debs.sh): $left"

# ── Dependencies ─────────────────────────────────────────────────────────────
soname=$(objdump -p "$pkgs/exporters/$libdir"/libexporters-sdk.so.* 2>/dev/null | sed -n 's/^ *SONAME *//p' | head -n1)
[ -n "$soname" ] || die "libexporters-sdk has no SONAME"
# shlibs of the runtime library: binaries linking it depend on this package.
mkdir -p "$pkgs/exporters/DEBIAN"
echo "${soname%%.so*} ${soname##*.so.} exporters (>= $version)" >"$pkgs/exporters/DEBIAN/shlibs"

elf_files() {  # ELF files of package $1
  local f magic
  while IFS= read -r -d '' f; do
    LC_ALL=C read -r -n 4 magic <"$f" || true
    [ "$magic" != $'\x7fELF' ] || echo "$f"
  done < <(find "$pkgs/$1" -path "$pkgs/$1/DEBIAN" -prune -o -type f -print0)
}
# Without dpkg-dev: the packages owning the libraries that files $@ link
# directly (NEEDED, resolved by ldd), without versions; libraries inside
# the package trees are left out. One `dpkg -S` for all of them (dpkg may
# list a library under /lib or /usr/lib: merged /usr).
owner_depends() {
  local f paths=()
  for f; do
    local needed
    needed=$(objdump -p "$f" | awk '$1 == "NEEDED" {print $2}')
    while read -r name _ path _; do
      grep -qxF "$name" <<<"$needed" || continue
      case $path in /*) ;; *) die "$f: $name not found (ldd)" ;; esac
      case $path in "$pkgs"/*) continue ;; esac
      path=$(realpath "$path")
      paths+=("$path" "${path#/usr}")
    done < <(LD_LIBRARY_PATH=$pkgs/exporters/$libdir ldd "$f" | grep ' => ')
  done
  [ ${#paths[@]} -gt 0 ] || return 0
  { dpkg -S "${paths[@]}" 2>/dev/null || true; } | grep -v '^diversion ' | sed 's/: .*//; s/, /\n/g' | sed 's/:.*//' \
    | grep -v '^exporters' | sort -u | paste -sd, | sed 's/,/, /g'
}
# Prints the Depends computed for the ELF files of package $1 (may be empty).
shlib_depends() {
  local pkg=$1 files
  mapfile -t files < <(elf_files "$pkg")
  [ ${#files[@]} -gt 0 ] || return 0
  if command -v dpkg-shlibdeps >/dev/null 2>&1 && [ -z "${MAKE_DEBS_NO_SHLIBDEPS:-}" ]; then
    printf 'Source: exporters\n\nPackage: %s\nArchitecture: any\n' "$pkg" >"$work/debian/control"
    (cd "$work" && dpkg-shlibdeps -O -x"$pkg" -Sdebian/exporters "${files[@]#"$work/"}" 2>"$work/shlibdeps.log") \
      | sed -n 's/^shlibs:Depends=//p' || { cat "$work/shlibdeps.log" >&2; die "dpkg-shlibdeps failed for $pkg"; }
  else
    owner_depends "${files[@]}"
  fi
}
join() {  # joins Depends lists, dropping empty and repeated entries
  printf '%s\n' "$@" | sed 's/, */\n/g' | awk 'NF && !seen[$0]++' | paste -sd, | sed 's/,/, /g'
}

control() {  # package section depends extra-fields description
  local pkg=$1 size
  mkdir -p "$pkgs/$pkg/DEBIAN"
  size=$(du -sk --exclude=DEBIAN "$pkgs/$pkg" | cut -f1)
  {
    echo "Package: $pkg"
    echo "Version: $version"
    echo "Architecture: $arch"
    echo "Maintainer: $maintainer"
    echo "Installed-Size: $size"
    echo "Section: $2"
    echo "Priority: optional"
    [ -z "$3" ] || echo "Depends: $3"
    [ -z "$4" ] || printf '%s\n' "$4"
    printf 'Description: %s\n' "$5"
  } >"$pkgs/$pkg/DEBIAN/control"
  (cd "$pkgs/$pkg" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort \
    | xargs -r -d '\n' md5sum >DEBIAN/md5sums)
}

# (Each computed into a variable first, so a failure stops the script.)
deps=$(shlib_depends exporters)
control exporters utils "$deps" "Provides: exporters-plugin-abi-$abi" \
"export Hugging Face models to Core ML and TensorFlow Lite
 The exporters command converts Hugging Face checkpoints and TorchScript
 traces to Core ML (.mlpackage, .mlmodel) and TFLite and validates every
 export numerically. Model families come as plugins
 (exporters-plugin-<family>) built for plugin ABI $abi."
control exporters-sdk-dev libdevel "exporters (= $version)" "" \
"SDK for exporters model-family plugins
 Headers, pkg-config file (exporters-sdk) and the example plugin's sources
 (/usr/share/exporters/examples) for building exporters plugins."
for pkg in "${plugin_pkgs[@]}"; do
  family=${pkg#exporters-plugin-}
  deps=$(shlib_depends "$pkg")
  control "$pkg" utils "$(join "exporters (>= $version)" "exporters-plugin-abi-$abi" "$deps")" \
    "Enhances: exporters" \
"exporters plugin for the $family model family
 Lets exporters export models whose config.json has model_type '$family'."
done

# ── Build the .deb files ─────────────────────────────────────────────────────
for pkg in exporters exporters-sdk-dev "${plugin_pkgs[@]}"; do
  deb=$out/${pkg}_${version}_${arch}.deb
  dpkg-deb --root-owner-group -Zxz --build "$pkgs/$pkg" "$deb" >/dev/null || die "dpkg-deb failed for $pkg"
  echo "$deb"
done
