#!/usr/bin/env bash
# Installs what building symbiose needs beyond a Rust toolchain: HiGHS is
# compiled from source by the highs-sys crate (cmake, a C++ compiler) and its
# bindings are generated with bindgen, which loads libclang at build time.
# Does nothing when they are already there. Debian/Ubuntu, as root (or with
# sudo).
#
# The libclang check mirrors what bindgen (clang-sys) really loads: a file
# named libclang.so, libclang-N.so, libclang.so.N or libclang-N.so.M, in
# $LIBCLANG_PATH or a system library folder. libclang-cpp.so.N (the C++
# interface, present on many images) is not one of them: clang-sys skips it,
# and a check that accepted it once let a fresh machine fail the build.
set -euo pipefail

has_libclang() {
  local dirs=()
  [ -n "${LIBCLANG_PATH:-}" ] && dirs+=("$LIBCLANG_PATH")
  dirs+=(/usr/lib/llvm-*/lib /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/lib64 /usr/lib /usr/local/lib)
  local d f name
  for d in "${dirs[@]}"; do
    [ -d "$d" ] || continue
    for f in "$d"/libclang.so "$d"/libclang.so.* "$d"/libclang-*.so "$d"/libclang-*.so.*; do
      [ -e "$f" ] || continue
      name=$(basename "$f")
      case "$name" in libclang-cpp*) continue ;; esac
      return 0
    done
  done
  return 1
}

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
has_libclang || missing+=(libclang-dev)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  if ! has_libclang; then
    echo "error: libclang-dev was installed but no libclang.so that bindgen can load was found; set LIBCLANG_PATH to the folder that holds it" >&2
    exit 1
  fi
fi
