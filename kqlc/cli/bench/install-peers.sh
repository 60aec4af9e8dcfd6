#!/bin/sh
# Installs the peers of `kqlc bench --suite hunting` (DuckDB, chdb for
# ClickHouse, polars) into a virtual environment under target/bench-peers.
# `kqlc bench` uses target/bench-peers/bin/python when it exists, and
# reports a peer it cannot import as "not installed". Nothing else in the
# project needs these packages.
#
# Usage (from the repository root): kqlc/cli/bench/install-peers.sh [DIR]
set -eu
dir=${1:-target/bench-peers}
python=${PYTHON:-python3}
if [ ! -x "$dir/bin/python" ]; then
    "$python" -m venv "$dir"
fi
"$dir/bin/python" -m pip install --quiet --upgrade pip
# The versions measured in docs/PERFORMANCE.md; newer ones work too.
"$dir/bin/python" -m pip install --quiet \
    "duckdb==${DUCKDB_VERSION:-2.0.0}" \
    "chdb==${CHDB_VERSION:-4.4.0}" \
    "polars==${POLARS_VERSION:-2.1.0}"
"$dir/bin/python" - <<'PY'
import duckdb, chdb, polars
print("duckdb", duckdb.__version__, "chdb", chdb.__version__, "polars", polars.__version__)
PY
