#!/usr/bin/env bash
# Builds the Python package (python/, PyO3 + maturin from PyPI) from this
# repository's Rust code into a fresh virtual environment, then runs its
# pytest tests against the command line built from the same code.
# Installs python3-venv from Debian's packages when venv is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
fi
venv="$(mktemp -d)/venv"
trap 'rm -rf "$(dirname "$venv")"' EXIT
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
# The README's install command, with the test extra (pytest, pandas, pyarrow).
"$venv/bin/python" -m pip install -q "./python[test]"
cargo build --release --bin symbiose
SYMBIOSE_BIN="$CARGO_TARGET_DIR/release/symbiose" "$venv/bin/python" -m pytest -q python/tests
