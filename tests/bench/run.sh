#!/bin/sh
# tests/bench/run.sh ASO: `make bench`. Runs every tests/bench/NAME.aso under aso and
# python3 (and NAME.lua under lua5.4 when there is one), best wall time of 3 runs and
# peak memory each, checks they all print the same, and prints a table. A benchmark is
# NAME.aso (valid Python: async ones run under python3 only) plus an optional NAME.lua;
# a `# bench-flags: FLAGS` line in NAME.aso gives extra aso flags.
# Env: BENCH_RUNS (default 3), BENCH_TIMEOUT (seconds per run, default 300),
# BENCH_ONLY (run only the benchmarks whose names contain this). Exits 1 on a mismatch.
set -u
ASO=${1:?usage: sh tests/bench/run.sh ASO}
case $ASO in /*) ;; *) ASO=$(pwd)/$ASO ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${BENCH_RUNS:-3}
LIMIT=${BENCH_TIMEOUT:-300}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aso-bench.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

[ -x "$ASO" ] || { echo "bench: $ASO is not executable" >&2; exit 2; }
${CC:-cc} -O2 -o "$WORK/measure" "$HERE/measure.c" || exit 2

PY=/usr/bin/python3.11    # the real binary: its start-up beats the pyenv shim's
[ -x "$PY" ] || PY=$(command -v python3) || PY=""
LUA=$(command -v lua5.4)
if [ -z "$LUA" ]; then
  sh "$HERE/../../.ci/deps" lua5.4 >/dev/null 2>&1 || true
  LUA=$(command -v lua5.4) || { LUA=""; echo "bench: no lua5.4, skipping lua" >&2; }
fi

# best NAME TAG CMD...: runs CMD $RUNS times, output to $WORK/NAME.TAG.out; sets
# BEST_S (best wall seconds) and BEST_MB (peak RSS, MB, of that run); fails with
# BEST_S=FAIL when the command fails or prints differently from one run to the next.
best() {
  name=$1 tag=$2; shift 2
  BEST_S="" BEST_MB=""
  i=0
  while [ $i -lt "$RUNS" ]; do
    i=$((i + 1))
    if ! "$WORK/measure" "$LIMIT" "$WORK/m" "$@" < /dev/null > "$WORK/$name.$tag.run" \
         2> "$WORK/$name.$tag.err"; then
      echo "bench: $name under $tag failed (status $(cut -d' ' -f3 "$WORK/m")):" >&2
      tail -n 5 "$WORK/$name.$tag.err" >&2
      BEST_S=FAIL BEST_MB=-; return 1
    fi
    [ $i -eq 1 ] && mv "$WORK/$name.$tag.run" "$WORK/$name.$tag.out"
    if [ $i -gt 1 ] && ! cmp -s "$WORK/$name.$tag.run" "$WORK/$name.$tag.out"; then
      echo "bench: $name under $tag prints differently from run to run" >&2
      BEST_S=FAIL BEST_MB=-; return 1
    fi
    read -r s kb _ < "$WORK/m"
    if [ -z "$BEST_S" ] || [ "$(awk -v a="$s" -v b="$BEST_S" 'BEGIN{print (a < b)}')" = 1 ]
    then
      BEST_S=$s BEST_MB=$(awk -v k="$kb" 'BEGIN{printf "%.1f", k / 1024}')
    fi
  done
}

status=0
printf '%-12s %8s %10s %9s %7s %10s %9s  %s\n' benchmark "aso s" "python3 s" "lua5.4 s" \
  "aso MB" "python3 MB" "lua5.4 MB" "python3/aso"
for f in "$HERE"/*.aso; do
  [ -f "$f" ] || continue
  name=$(basename "$f" .aso)
  case $name in *"${BENCH_ONLY:-}"*) ;; *) continue ;; esac
  flags=$(sed -n 's/.*# bench-flags: *//p' "$f" | head -n 1)
  # shellcheck disable=SC2086  # flags are words on purpose
  best "$name" aso "$ASO" $flags "$f" || status=1
  aso_s=$BEST_S aso_mb=$BEST_MB
  [ "$name" = sleepers ] && echo "aso $BEST_MB" > "$WORK/sleepers.mb"
  py_s=- py_mb=- lua_s=- lua_mb=-
  if [ -n "$PY" ]; then
    best "$name" py "$PY" "$f" || status=1
    py_s=$BEST_S py_mb=$BEST_MB
    [ "$name" = sleepers ] && echo "py $BEST_MB" >> "$WORK/sleepers.mb"
  fi
  if [ -n "$LUA" ] && [ -f "$HERE/$name.lua" ]; then
    best "$name" lua "$LUA" "$HERE/$name.lua" || status=1
    lua_s=$BEST_S lua_mb=$BEST_MB
  fi
  differs=""
  for tag in py lua; do
    o="$WORK/$name.$tag.out"
    if [ -f "$o" ] && [ -f "$WORK/$name.aso.out" ] && ! cmp -s "$o" "$WORK/$name.aso.out"
    then
      echo "bench: $name: aso and $tag print different output:" >&2
      diff "$WORK/$name.aso.out" "$o" | head -n 6 >&2
      status=1 differs=1
    fi
  done
  ratio=$(awk -v a="$aso_s" -v p="$py_s" 'BEGIN {
    if (a !~ /^[0-9.]+$/ || p !~ /^[0-9.]+$/ || a <= 0 || p <= 0) { print "-"; exit }
    if (p >= a) printf "aso is %.1fx faster than python3", p / a
    else printf "aso is %.1fx slower than python3", a / p }')
  [ -z "$differs" ] || ratio="OUTPUT DIFFERS"
  printf '%-12s %8s %10s %9s %7s %10s %9s  %s\n' "$name" "$aso_s" "$py_s" "$lua_s" \
    "$aso_mb" "$py_mb" "$lua_mb" "$ratio"
done
# Memory per suspended task: sleepers.aso again with N = 1; (peak(N) - peak(1)) / N.
# Target (issue 3): aso's at most a quarter of python3's.
sl="$HERE/sleepers.aso"
if [ -f "$sl" ] && [ -f "$WORK/sleepers.aso.out" ]; then
  n=$(sed -n 's/^N = \([0-9]*\)$/\1/p' "$sl")
  sed 's/^N = [0-9]*$/N = 1/' "$sl" > "$WORK/sleepers1.aso"
  flags=$(sed -n 's/.*# bench-flags: *//p' "$sl" | head -n 1)
  line=""
  for tag in aso py; do
    mb_n=$(sed -n "s/^$tag //p" "$WORK/sleepers.mb")
    [ -n "$mb_n" ] || continue
    # shellcheck disable=SC2086  # flags are words on purpose
    if [ $tag = aso ]; then best sleepers1 aso "$ASO" $flags "$WORK/sleepers1.aso"
    else best sleepers1 py "$PY" "$WORK/sleepers1.aso"; fi
    per=$(awk -v a="$mb_n" -v b="$BEST_MB" -v n="$n" 'BEGIN{printf "%.0f", (a - b) * 1048576 / n}')
    eval "per_$tag=\$per"
    [ $tag = aso ] && who=aso || who=python3
    line="$line$who $per B, "
  done
  ratio=$(awk -v a="${per_aso:-0}" -v p="${per_py:-0}" 'BEGIN {
    if (a > 0 && p > 0) printf "python3/aso %.2fx (target 4x)", p / a; else print "-" }')
  printf 'memory per suspended task (sleepers, N=%s): %s%s\n' "$n" "$line" "$ratio"
fi
# executor.aso times itself: 4 CPU-bound jobs in a row versus on 2 workers (stderr
# of its last run). Target: aso's speed-up at least 1.8x and at least python3's.
for tag in aso py; do
  e="$WORK/executor.$tag.err"
  [ -s "$e" ] || continue
  [ $tag = aso ] && who=aso || who=python3
  printf 'executor speed-up, %-8s %s\n' "$who:" "$(grep 'speed-up' "$e" | tail -n 1)"
done
[ $status -eq 0 ] || echo "bench: FAILED (a run failed or outputs differ)" >&2
exit $status
