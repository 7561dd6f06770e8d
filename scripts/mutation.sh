#!/usr/bin/env bash
# Mutation testing of the mechanisms and the engine (sim/mechanisms/*.py, sim/model/engine.py) with mutmut.
# On demand only, never in CI. The set-up is [tool.mutmut] in pyproject.toml; the last results are in
# docs/MUTATION.md.
#   bash scripts/mutation.sh                       a reproducible random sample of 200 mutants (seed 2016)
#   bash scripts/mutation.sh --sample N --seed S   another sample (the same N, S and sources give the same mutants)
#   bash scripts/mutation.sh --all                 every mutant (about 3,000: 80 minutes at best on 2 cores)
#   bash scripts/mutation.sh --ignore tests/test_x.py   leave out a test module (repeatable), e.g. one that fails
#                                                  on the unmutated code: mutmut refuses to start then
#   bash scripts/mutation.sh --jobs N              mutants tested at once (default: the number of cores)
# Tests run against each mutant: the fast unit and property tests of the mechanisms and the engine, the
# test modules named in python_files under [tool.mutmut] (those that exist). CI=true makes Hypothesis replay
# the same examples every time (tests/conftest.py), so a run is repeatable.
# Everything happens in mutants/ (git-ignored), made anew on each run. Afterwards:
#   mutants/summary.txt    the counts and the score;   mutants/survivors.txt   the diff of every mutant not killed
#   .venv/bin/mutmut show NAME                          the diff of one mutant
set -euo pipefail
cd "$(dirname "$0")/.."

sample=200
seed=2016
jobs="$(nproc 2>/dev/null || echo 2)"
ignores=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) sample=0 ;;
    --sample) sample="${2:?--sample needs a number}"; shift ;;
    --seed) seed="${2:?--seed needs a number}"; shift ;;
    --jobs) jobs="${2:?--jobs needs a number}"; shift ;;
    --ignore) ignores+=("--ignore=${2:?--ignore needs a path}"); shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "error: unknown option '$1' (see bash scripts/mutation.sh --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$sample$seed$jobs" in *[!0-9]*) echo "error: --sample, --seed and --jobs take whole numbers" >&2; exit 2 ;; esac
if [ "$jobs" -lt 1 ]; then echo "error: --jobs needs at least 1" >&2; exit 2; fi

# The project's environment with the test tools and mutmut, at the versions of the lock.
if [ ! -x .venv/bin/python ]; then bash scripts/dev.sh test --version >/dev/null; fi
install_log="$(mktemp)"
if ! .venv/bin/python -m pip install --quiet -c requirements/lock.txt -e ".[dev,mutation]" > "$install_log" 2>&1; then
  cat "$install_log" >&2; rm -f "$install_log"; exit 1
fi
rm -f "$install_log"

export CI=true  # Hypothesis derandomized: the same examples for every mutant and every run
if [ ${#ignores[@]} -gt 0 ]; then export PYTEST_ADDOPTS="${ignores[*]}"; fi
mutmut=.venv/bin/mutmut
rm -rf mutants
started=$(date +%s)

if [ "$sample" -eq 0 ]; then
  "$mutmut" run --max-children "$jobs"
  : > mutants/selected.txt  # empty: every mutant
else
  # mutmut has no command that only makes the mutants, so run it with a name that matches none: it makes
  # every mutant and records which tests reach which function (kept in mutants/ for the run below), then
  # stops with "nothing matches". Any other ending is a real failure, shown in full.
  log="$(mktemp)"
  "$mutmut" run --max-children "$jobs" "no-mutant-has-this-name" > "$log" 2>&1 || true
  if ! grep -q "Filtered for specific mutants, but nothing matches" "$log"; then
    cat "$log" >&2; rm -f "$log"; exit 1
  fi
  mv "$log" mutants/generate.log
  "$mutmut" results --all true > mutants/all.txt
  .venv/bin/python - "$sample" "$seed" mutants/all.txt > mutants/selected.txt <<'EOF'
import random
import sys

size, seed, listing = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
with open(listing, encoding="utf-8") as handle:
    names = sorted(line.split(":")[0].strip() for line in handle if "__mutmut_" in line)
for name in sorted(random.Random(seed).sample(names, min(size, len(names)))):
    print(name)
EOF
  echo "sample: $(wc -l < mutants/selected.txt) of $(grep -c __mutmut_ mutants/all.txt) mutants, seed $seed"
  mapfile -t selected < mutants/selected.txt
  "$mutmut" run --max-children "$jobs" "${selected[@]}"
fi

"$mutmut" results --all true > mutants/results.txt
.venv/bin/python - mutants/results.txt mutants/selected.txt "$(( $(date +%s) - started ))" > mutants/summary.txt <<'EOF'
import collections
import sys

results, selection, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(selection, encoding="utf-8") as handle:
    wanted = {line.strip() for line in handle if line.strip()}
status = {}
with open(results, encoding="utf-8") as handle:
    for line in handle:
        name, _, state = line.strip().partition(": ")
        if "__mutmut_" in name and (not wanted or name in wanted):
            status[name] = state
counts = collections.Counter(status.values())
total = len(status)
killed = counts["killed"]
print(f"mutants: {total}  time: {seconds // 60} min {seconds % 60} s")
for state, count in sorted(counts.items()):
    print(f"  {state}: {count}")
if total:
    print(f"score (killed / total, before any mutant is judged equivalent): {killed / total:.1%}")
    print(f"score counting timeouts as killed: {(killed + counts['timeout']) / total:.1%}")
print("not killed:")
for name, state in sorted(status.items()):
    if state not in ("killed", "timeout"):
        print(f"  {name}: {state}")
EOF
cat mutants/summary.txt
grep -E '^  .*__mutmut_[0-9]+: ' mutants/summary.txt | sed 's/^  //; s/: .*//' | while read -r name; do
  "$mutmut" show "$name"
  echo
done > mutants/survivors.txt
echo "diffs of the mutants not killed: mutants/survivors.txt"
