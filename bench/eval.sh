#!/usr/bin/env bash
# Quality of the topic matcher on the fixture evaluation set (test/fixtures/eval): runs the CLI
# `match` command, which uses the same engine as the matching job, and scores its output with
# score.py (per-topic P/R/F1 and nDCG@10, then a macro line).
# Usage: bash bench/eval.sh            (builds first, through `npm run cli`)
set -euo pipefail
cd "$(dirname "$0")/.."
fixtures=test/fixtures/eval
result=$(mktemp)
trap 'rm -f "$result"' EXIT
npm run --silent cli -- match --papers "$fixtures/papers.jsonl" --topics "$fixtures/topics.json" > "$result"
python3 "$fixtures/score.py" "$fixtures/labels.json" "$result"
