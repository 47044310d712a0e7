#!/usr/bin/env bash
# Quality of the topic matcher on our own development set (bench/dev-eval: 20 topics over the same
# 305 papers as the eval set, judged by AI assistants that read every abstract without seeing the matcher's
# output; see bench/dev-eval/README.md). Same command and scorer as bench/eval.sh.
# Usage: bash bench/dev-eval.sh      (MATCH_FEEDBACK=true bash bench/dev-eval.sh: with feedback ranking)
set -euo pipefail
cd "$(dirname "$0")/.."
result=$(mktemp)
trap 'rm -f "$result"' EXIT
npm run --silent cli -- match --papers test/fixtures/eval/papers.jsonl --topics bench/dev-eval/topics.json > "$result"
python3 test/fixtures/eval/score.py bench/dev-eval/labels.json "$result"
