#!/usr/bin/env bash
# The quick start with the fast start on: ONNX Runtime's native libraries loaded from a folder instead of
# being copied out of the jar (28 MB) on every start, and a class-data archive (AppCDS) of the classes the
# quick start loads, so the JVM maps them instead of loading, parsing and verifying them again.
#
#   mvn -B -q install -DskipTests          # at the repository root, once
#   examples/quickstart/fast-start.sh [records] [folder]
#
# The first run prepares both in examples/quickstart/target/fast-start/ (a few seconds: the libraries are
# extracted from the jar with the JDK's `jar` tool, and one training run of the quick start writes the archive
# with -XX:ArchiveClassesAtExit); every run then starts the quick start with them. Both belong to the jar and
# JDK they came from: after a rebuild (a jar newer than the archive) they are prepared again, and a JVM that
# cannot use the archive says so and starts without it. The options are kept in target/fast-start/java.args, so
# the same start works by hand:
#
#   java @examples/quickstart/target/fast-start/java.args -jar examples/quickstart/target/quickstart.jar
#
# A service does the same in its image build; see "Cold start" in benchmarks/README.md.
# JAVA=/path/to/java overrides the java on the PATH (its `jar` tool is used too when it has one).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
jar=$here/target/quickstart.jar
java=${JAVA:-java}
dir=$here/target/fast-start
if [[ ! -f $jar ]]; then
  echo "$jar is missing: build it first with 'mvn -B -q install -DskipTests' at the repository root" >&2
  exit 1
fi

if [[ ! -f $dir/quickstart.jsa || ! -f $dir/java.args || $jar -nt $dir/quickstart.jsa ]]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) platform=linux-x64 ;;
    Linux-aarch64 | Linux-arm64) platform=linux-aarch64 ;;
    Darwin-x86_64) platform=osx-x64 ;;
    Darwin-arm64) platform=osx-aarch64 ;;
    *) echo "no ONNX Runtime native libraries for $(uname -s)-$(uname -m) in the jar; run the jar without $0" >&2
       exit 1 ;;
  esac
  jartool=$(dirname "$(command -v "$java")")/jar
  [[ -x $jartool ]] || jartool=jar
  echo "preparing the fast start in $dir (once per build)" >&2
  rm -rf "$dir"
  mkdir -p "$dir/extract" "$dir/natives"
  (cd "$dir/extract" && "$jartool" xf "$jar" "ai/onnxruntime/native/$platform/")
  mv "$dir/extract/ai/onnxruntime/native/$platform"/* "$dir/natives/"
  rm -rf "$dir/extract"
  # Training run: the classes a quick start loads go into the archive when the JVM exits.
  "$java" -XX:ArchiveClassesAtExit="$dir/quickstart.jsa" -Donnxruntime.native.path="$dir/natives" \
    -jar "$jar" 500 "$dir/training" > "$dir/training.log" 2>&1
  printf '"%s"\n' "-XX:SharedArchiveFile=$dir/quickstart.jsa" "-Donnxruntime.native.path=$dir/natives" \
    > "$dir/java.args"
fi

exec "$java" @"$dir/java.args" -jar "$jar" "$@"
