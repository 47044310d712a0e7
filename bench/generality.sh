#!/usr/bin/env bash
# Generality check of the topic matcher: our own topics (bench/generality-topics.json, not the
# labelled evaluation set) over the evaluation papers. Prints, per topic, what would be sent (score,
# title, why) for eyeballing precision; there are no labels.
# Usage: bash bench/generality.sh
set -euo pipefail
cd "$(dirname "$0")/.."
result=$(mktemp)
trap 'rm -f "$result"' EXIT
npm run --silent cli -- match --papers test/fixtures/eval/papers.jsonl --topics bench/generality-topics.json > "$result"
python3 - "$result" bench/generality-topics.json test/fixtures/eval/papers.jsonl <<'PY'
import json, sys
res = json.load(open(sys.argv[1])); topics = json.load(open(sys.argv[2]))
titles = {p['id']: p['title'] for p in map(json.loads, filter(str.strip, open(sys.argv[3])))}
for t, spec in topics.items():
    print(f"== {t} {spec['query']}: {len(res.get(t, []))} sent")
    for m in res.get(t, []):
        print(f"  {m['paperId']} {m['score']:6.2f} {titles[m['paperId']][:70]} | {m['why'][:90]}")
PY
