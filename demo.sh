#!/usr/bin/env bash
# Builds one detector binary from the three bundled reference rules and runs it
#  1. over the bundled sample of CloudAuditEvents rows, and
#  2. over a generated stream of 100,000 audit events as AKS, EKS, GKE, on-prem
#     clusters and Azure Resource Manager export them, with planted attacks.
# Both replay the logs as of 2024-05-28 12:00 UTC.
set -euo pipefail
cd "$(dirname "$0")"
cargo build --release --quiet -p kqlc-cli
kqlc=target/release/kqlc
$kqlc build examples/rules -o target/detector
echo "== examples/data/audit.jsonl"
target/detector examples/data/audit.jsonl --now 2024-05-28T12:00:00Z
echo "== 100,000 generated events in each platform's own format"
$kqlc sample --events 100000 --source mixed --format native --match-rate 300 -o target/sample-native.jsonl
target/detector target/sample-native.jsonl --now 2024-05-28T12:00:00Z
