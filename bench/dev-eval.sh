#!/usr/bin/env bash
# Quality of the topic matcher on our own development set (bench/dev-eval: 440 topics over the same
# 305 papers as the eval set, judged by AI assistants that read every abstract without seeing the matcher's
# output; see bench/dev-eval/README.md). Same command and scorer as bench/eval.sh.
# Usage: bash bench/dev-eval.sh      (MATCH_FEEDBACK=true bash bench/dev-eval.sh: with feedback ranking)
#        bash bench/dev-eval.sh --parts    (also a macro line for each set of twenty: V01–V20 … V421–V440)
set -euo pipefail
cd "$(dirname "$0")/.."
result=$(mktemp)
part=$(mktemp)
trap 'rm -f "$result" "$part"' EXIT
npm run --silent cli -- match --papers test/fixtures/eval/papers.jsonl --topics bench/dev-eval/topics.json > "$result"
python3 test/fixtures/eval/score.py bench/dev-eval/labels.json "$result"
if [ "${1:-}" = "--parts" ]; then
  for range in V01-V20 V21-V40 V41-V60 V61-V80 V81-V100 V101-V120 V121-V140 V141-V160 V161-V180 V181-V200 V201-V220 V221-V240 V241-V260 V261-V280 V281-V300 V301-V320 V321-V340 V341-V360 V361-V380 V381-V400 V401-V420 V421-V440; do
    python3 -c 'import json, sys
lo, hi = (int(v[1:]) for v in sys.argv[2].split("-"))
labels = json.load(open(sys.argv[1]))
json.dump({t: v for t, v in labels.items() if lo <= int(t[1:]) <= hi}, open(sys.argv[3], "w"))' bench/dev-eval/labels.json "$range" "$part"
    echo "$range: $(python3 test/fixtures/eval/score.py "$part" "$result" | tail -1)"
  done
fi
