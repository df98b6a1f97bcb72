#!/usr/bin/env bash
# Compares JMH benchmarks whose difference is a few percent on a machine whose speed drifts: each round runs
# every benchmark once (one fork, sample time), in turn, so that a slow spell of the machine hits them alike,
# and prints each round's p50 and each benchmark's p50 against the first one's, per round and as the median
# over the rounds, and the ratio of each one's fastest round (the machine's fast spell for both; with spells
# of minutes, the median says as much about when each fork ran as about the code).
#
#   benchmarks/interleaved.sh ROUNDS 'REGEX_OFF' 'REGEX_ON' [...] [-- JMH_OPTIONS]
#   benchmarks/interleaved.sh 7 'OverheadBenchmark.nearlineKeyed$' 'OverheadBenchmark.nearlineQuality$' \
#       'OverheadBenchmark.nearlineChallenger$' -- -p model=tiny
#
# Why: on a 2-core VM a JMH fork can land in a fast or a slow spell (p50 1.9 or 3.2 µs for the same code,
# minutes apart), so two benchmarks whose forks ran at different times differ by more than the 5% a goal
# asks about. Builds nothing: it runs benchmarks/target/benchmarks.jar.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
jar=$here/target/benchmarks.jar
java=${JAVA:-java}
[ -f "$jar" ] || { echo "no $jar: run mvn -B -q install -DskipTests at the repository root" >&2; exit 1; }
rounds=${1:?usage: interleaved.sh ROUNDS REGEX... [-- JMH_OPTIONS]}
shift
names=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
  names+=("$1")
  shift
done
[ $# -gt 0 ] && shift
extra=("$@")
[ ${#names[@]} -ge 2 ] || { echo "give at least two benchmarks" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ((r = 1; r <= rounds; r++)); do
  line="round $r:"
  for ((k = 0; k < ${#names[@]}; k++)); do
    "$java" -jar "$jar" "${names[$k]}" -f 1 -wi 3 -w 1s -i 5 -r 1s -bm sample -tu ns "${extra[@]}" \
      > "$out/run.txt" 2>&1 || { tail -n 20 "$out/run.txt" >&2; exit 1; }
    p50=$(awk '/:p0.50 / {print $(NF-1); exit}' "$out/run.txt")
    [ -n "$p50" ] || { echo "no p50 for ${names[$k]}" >&2; tail -n 20 "$out/run.txt" >&2; exit 1; }
    echo "$r $k $p50" >> "$out/p50.txt"
    line="$line ${names[$k]}=$p50"
  done
  echo "$line ($(uptime | sed 's/.*load average/load average/'))"
done
echo
awk -v n="${#names[@]}" -v list="${names[*]}" '
  { p[$1, $2] = $3; if ($1 > rounds) rounds = $1 }
  END {
    split(list, name, " ")
    for (k = 1; k < n; k++) {
      m = 0
      for (r = 1; r <= rounds; r++) { ratio[++m] = p[r, k] / p[r, 0] }
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (ratio[j] < ratio[i]) { t = ratio[i]; ratio[i] = ratio[j]; ratio[j] = t }
      med = (m % 2) ? ratio[(m + 1) / 2] : (ratio[m / 2] + ratio[m / 2 + 1]) / 2
      line = ""
      for (i = 1; i <= m; i++) line = line sprintf(" %.3f", ratio[i])
      printf "%s / %s p50: median %.3f over %d rounds (sorted:%s)\n", name[k + 1], name[1], med, m, line
      lo0 = p[1, 0]; lok = p[1, k]
      for (r = 2; r <= rounds; r++) { if (p[r, 0] < lo0) lo0 = p[r, 0]; if (p[r, k] < lok) lok = p[r, k] }
      printf "%s / %s, each at its fastest round: %.3f (%s ns / %s ns)\n", name[k + 1], name[1], lok / lo0, lok, lo0
    }
  }' "$out/p50.txt"
