#!/usr/bin/env bash
# Builds one detector binary from the three bundled reference rules and runs it
# over the bundled sample audit data (replayed as of 2024-05-28 12:00 UTC).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet -p kqlc
target/release/kqlc build examples/rules -o target/detector
target/detector examples/data/audit.jsonl --now 2024-05-28T12:00:00Z
