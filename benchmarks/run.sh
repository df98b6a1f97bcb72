#!/usr/bin/env bash
# Runs Nearline's benchmark suite and updates the results table in benchmarks/README.md.
#
#   benchmarks/run.sh quick   # about 8 min on 2 cores: one fork, short iterations, 5 cold starts each
#   benchmarks/run.sh full    # for publishing: more forks and iterations (about 40 min on 2 cores)
#   benchmarks/run.sh smoke   # checks this script end to end in about 3 min; numbers mean nothing,
#                             # README.md and charts/ are left alone
#
# Builds nothing: it runs benchmarks/target/benchmarks.jar, which `mvn -B -q install -DskipTests` at
# the repository root produces. Writes JMH's JSON, the cold-start and phase lines to benchmarks/results/
# (timestamped files, plus latest-<mode>.json without the raw samples, latest-<mode>-coldstart.txt,
# latest-<mode>-phases.txt and latest-<mode>-machine.txt), draws the charts into benchmarks/charts/,
# prints the summary tables and writes them into benchmarks/README.md between the results markers.
# Other load on the machine skews every number: the `uptime` before each part is recorded with them.
# QUIET_LOAD=1.5 makes each part wait (polling every 60 s, at most QUIET_WAIT_MIN minutes, default 20)
# until the 1-minute load average is below that; a part that starts above it says so in the record.
# JAVA=/path/to/java overrides the java on the PATH.
set -euo pipefail

mode=${1:-}
case "$mode" in
  quick)
    overhead_opts=(-f 1 -wi 3 -w 1s -i 5 -r 1s)
    concurrency_opts=(-f 1 -wi 1 -w 1s -i 2 -r 1s)
    batching_opts=(-f 1 -wi 2 -w 1s -i 3 -r 1s)
    cold_runs=5
    ;;
  full)
    overhead_opts=(-f 3 -wi 5 -w 2s -i 10 -r 2s)
    concurrency_opts=(-f 2 -wi 3 -w 2s -i 5 -r 2s)
    batching_opts=(-f 2 -wi 3 -w 1s -i 5 -r 2s)
    cold_runs=11
    ;;
  smoke)
    overhead_opts=(-f 1 -wi 0 -i 1 -r 200ms)
    concurrency_opts=(-f 1 -wi 0 -i 1 -r 200ms)
    batching_opts=(-f 1 -wi 0 -i 1 -r 200ms)
    cold_runs=1
    ;;
  *)
    echo "usage: $0 quick|full|smoke" >&2
    exit 2
    ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
jar=$here/target/benchmarks.jar
java=${JAVA:-java}
if [[ ! -f $jar ]]; then
  echo "$jar is missing: build it first with 'mvn -B -q install -DskipTests' at the repository root" >&2
  exit 1
fi

results=$here/results
mkdir -p "$results"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
prefix=$results/$stamp-$mode
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Run from a copy: a build started meanwhile (mvn install at the root) would replace the jar under JMH.
built=$(date -u -r "$jar" '+%Y-%m-%d %H:%M UTC')
cp "$jar" "$work/benchmarks.jar"
jar=$work/benchmarks.jar

machine=$prefix-machine.txt
{
  echo "date:  $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "cores: $(nproc)"
  echo "cpu:   $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')" \
    "($(grep -m1 'cpu MHz' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//;s/\..*//') MHz)"
  "$java" -version 2>&1 | sed 's/^/java:  /'
  echo "run:   benchmarks/run.sh $mode"
  # benchmarks.jar bundles the scoring-* jars of the last install; the checkout's commit says roughly which.
  echo "repo:  $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$here/.." status --porcelain 2>/dev/null | grep -q . && echo ' (uncommitted changes present)')"
  echo "jar:   built $built"
} > "$machine"

load1() {
  cut -d' ' -f1 /proc/loadavg
}

# Waits for a quiet machine when QUIET_LOAD is set, then records the load before part $1.
note_load() {
  if [[ -n ${QUIET_LOAD:-} ]]; then
    local waited=0 limit=$(( ${QUIET_WAIT_MIN:-20} * 60 ))
    while awk -v l="$(load1)" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }' && (( waited < limit )); do
      echo "   load $(load1) >= $QUIET_LOAD before $1: waiting ($waited s so far)" >&2
      sleep 60
      waited=$(( waited + 60 ))
    done
    if awk -v l="$(load1)" -v q="$QUIET_LOAD" 'BEGIN { exit !(l >= q) }'; then
      echo "load before $1 still >= $QUIET_LOAD after waiting ${limit} s: measured anyway" >> "$machine"
    fi
  fi
  echo "uptime before $1: $(uptime | sed 's/^ *//')" >> "$machine"
}

# A failed part prints the end of its log and stops the script.
run_logged() {
  local name=$1 log=$2
  shift 2
  if ! "$@" > "$log" 2>&1; then
    echo "$name failed; last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
}

echo "== OverheadBenchmark (avgt + sample, -prof gc; log: $prefix-overhead.log)"
note_load OverheadBenchmark
run_logged OverheadBenchmark "$prefix-overhead.log" \
  "$java" -jar "$jar" OverheadBenchmark "${overhead_opts[@]}" -prof gc -rf json -rff "$work/overhead.json"

# Cold start before the concurrency runs: their 64 threads would inflate the load average noted here.
echo "== ColdStart ($cold_runs fresh JVMs per configuration) and ColdStartPhases ($cold_runs per preset)"
models=$work/models
natives=$here/target/ort-natives
"$java" -cp "$jar" dev.nearline.benchmarks.ColdStart write-models "$models" > /dev/null
"$java" -cp "$jar" dev.nearline.benchmarks.ExtractNatives "$natives" > /dev/null
# One training run per contender writes its AppCDS archive (class-data sharing for the app's classes).
for who in nearline raw file; do
  rm -f "$work/$who.jsa"
  "$java" -XX:ArchiveClassesAtExit="$work/$who.jsa" -Donnxruntime.native.path="$natives" -cp "$jar" \
    dev.nearline.benchmarks.ColdStart "$who" tiny "$models" > /dev/null 2>&1
done
note_load ColdStart
cold=$prefix-coldstart.txt
: > "$cold"
cold_start() {
  # The launch time is taken as late as bash allows, so JVM boot counts towards the cold start.
  "$java" "$@" -Dnearline.launchMillis="$(date +%s%3N)" -cp "$jar" dev.nearline.benchmarks.ColdStart "$who" tiny \
    "$models" >> "$cold"
}
# Contenders take turns within each round, so that a burst of other load hits them alike.
for ((i = 1; i <= cold_runs; i++)); do
  for who in nearline raw file; do
    cold_start
    cold_start -Donnxruntime.native.path="$natives"
    cold_start -Donnxruntime.native.path="$natives" -XX:SharedArchiveFile="$work/$who.jsa"
  done
done
note_load ColdStartPhases
phases=$prefix-phases.txt
: > "$phases"
for ((i = 1; i <= cold_runs; i++)); do
  for preset in raw nearline file; do
    "$java" -Donnxruntime.native.path="$natives" -Dnearline.launchMillis="$(date +%s%3N)" -cp "$jar" \
      dev.nearline.benchmarks.ColdStartPhases "$preset" "$models" >> "$phases"
  done
done

echo "== BatchingBenchmark (thrpt; log: $prefix-batching.log)"
note_load BatchingBenchmark
# Batching on and off where it applies; scoreAll and its floors with batching off (they do not batch).
run_logged BatchingBenchmark "$prefix-batching.log" \
  "$java" -jar "$jar" 'BatchingBenchmark\.(sync64|asyncWindow64)$' -p batching=off,on -bm thrpt \
  "${batching_opts[@]}" -rf json -rff "$work/batching-onoff.json"
run_logged BatchingBenchmark "$prefix-batching-scoreall.log" \
  "$java" -jar "$jar" 'BatchingBenchmark\.(score1|scoreAll32|rawOrtBatch32|rawOrtPinnedBatch32)$' -p batching=off \
  -bm thrpt "${batching_opts[@]}" -rf json -rff "$work/batching-scoreall.json"

echo "== ConcurrencyBenchmark (thrpt + sample; log: $prefix-concurrency.log)"
note_load ConcurrencyBenchmark
run_logged ConcurrencyBenchmark "$prefix-concurrency.log" \
  "$java" -jar "$jar" ConcurrencyBenchmark "${concurrency_opts[@]}" -rf json -rff "$work/concurrency.json"

echo "uptime after all parts: $(uptime | sed 's/^ *//')" >> "$machine"

echo
readme=(--readme "$here/README.md" --charts "$here/charts" --chart-link charts)
[[ $mode == smoke ]] && readme=(--charts "$work/charts")
"$java" -Djava.awt.headless=true -cp "$jar" dev.nearline.benchmarks.Report \
  --title "Produced by \`benchmarks/run.sh $mode\` ($stamp)." \
  --machine "$machine" --coldstart "$cold" --phases "$phases" --merged "$prefix.json" \
  --merged-slim "$results/latest-$mode.json" "${readme[@]}" \
  "$work/overhead.json" "$work/batching-onoff.json" "$work/batching-scoreall.json" "$work/concurrency.json"

cp "$cold" "$results/latest-$mode-coldstart.txt"
cp "$phases" "$results/latest-$mode-phases.txt"
cp "$machine" "$results/latest-$mode-machine.txt"
echo "results: $prefix.json (without raw samples: $results/latest-$mode.json)"
