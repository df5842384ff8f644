#!/bin/sh
# tests/fuzz/run.sh ASO [SECONDS]: `make fuzz`. A dependency-free mutation fuzzer: it
# damages the golden tests and examples (tests/fuzz/mutate.c, built here with cc) and
# runs aso on each mutant with a 5 s timeout. aso must answer any input with output or
# an error, never a crash (a signal, an abort, a sanitizer report) nor a hang. Failing
# inputs are kept under build/fuzz-crashes/ (beside ASO) with their stderr.
# Env: FUZZ_SECONDS (default 60; the SECONDS argument wins), FUZZ_JOBS (default: CPUs),
# FUZZ_SEED (replay a run), FUZZ_TIMEOUT (default 5), FUZZ_CRASH_DIR.
# Ends with "N passed, M failed" (passed = runs without crash or hang).
set -u
ASO=${1:?usage: sh tests/fuzz/run.sh ASO [SECONDS]}
case $ASO in /*) ;; *) ASO=$(pwd)/$ASO ;; esac
DURATION=${2:-${FUZZ_SECONDS:-60}}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
JOBS=${FUZZ_JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
SEED=${FUZZ_SEED:-$(date +%s)}
LIMIT=${FUZZ_TIMEOUT:-5}
CRASH_DIR=${FUZZ_CRASH_DIR:-$(dirname "$ASO")/fuzz-crashes}
[ -x "$ASO" ] || { echo "fuzz: $ASO is not executable" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/aso-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
${CC:-cc} -O2 -o "$WORK/mutate" "$HERE/mutate.c" || exit 2

# (the endless demos, marked `# not-a-test`, would only ever time out)
find "$ROOT/tests/golden" "$ROOT/examples" -name '*.aso' -type f 2>/dev/null |
  xargs grep -L '# not-a-test' 2>/dev/null | LC_ALL=C sort > "$WORK/seeds"
if [ ! -s "$WORK/seeds" ]; then    # no golden tests yet: a small built-in seed
  cat > "$WORK/seed.aso" <<'SEED'
import asyncio
def f(a, b=2, *c, d, **e):
    return [x * 2 for x in range(a) if x % 2] + list(c) + [d, e.get("k", f"{b!r:>4}")]
class C:
    def __init__(self): self.v = {1: 'a', 2: "b\n"}
    def __repr__(self): return 'C(%r)' % (self.v,)
async def main():
    t = asyncio.create_task(asyncio.sleep(0, result=3))
    try:
        print(f(5, d=1, k=0x1F), C(), await t)
    except (ValueError, KeyError) as e:
        raise RuntimeError("x") from e
    finally:
        print("""done""", 1e-3, -2 ** 2)
asyncio.run(main())
SEED
  echo "$WORK/seed.aso" > "$WORK/seeds"
fi
mkdir -p "$CRASH_DIR"

# Sanitizer reports get their own exit status, so they are never mistaken for a
# script's ordinary exit 1 (the user's own options still win).
ASAN_OPTIONS="exitcode=86:${ASAN_OPTIONS:-}"
UBSAN_OPTIONS="exitcode=86:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export ASAN_OPTIONS UBSAN_OPTIONS
# shellcheck disable=SC3045  # dash and bash both know -c
ulimit -c 0 2>/dev/null || true

echo "fuzz: $ASO for ${DURATION}s on $JOBS jobs, $(wc -l < "$WORK/seeds") seeds," \
     "FUZZ_SEED=$SEED"

# worker W: mutates and runs until the deadline; writes "RUNS FAILED" to $WORK/count.W.
worker() {
  w=$1 runs=0 failed=0 end=$(( $(date +%s) + DURATION ))
  dir="$WORK/w$w"
  mkdir -p "$dir"
  while [ "$(date +%s)" -lt "$end" ]; do
    runs=$((runs + 1))
    rng=$((SEED * 1000 + w * 100000007 + runs))
    if ! seed=$("$WORK/mutate" "$rng" "$dir/fuzz.aso" "$WORK/seeds"); then
      failed=$((failed + 1)); break
    fi
    # the subshell reports the exit (not dying itself, so sh prints no "Segmentation
    # fault" of its own)
    (cd "$dir" && timeout -k 2 "$LIMIT" "$ASO" fuzz.aso 2> "$dir/err"; exit $?) \
      < /dev/null > /dev/null 2>&1
    code=$?
    kind=""
    if [ $code -eq 124 ] || [ $code -eq 137 ]; then
      # A mutant may simply loop forever (a deleted `i += 1`): that is only a
      # bug if aso hangs before running it, i.e. while parsing or compiling.
      (cd "$dir" && timeout -k 2 "$LIMIT" "$ASO" --check fuzz.aso; exit $?) \
        < /dev/null > /dev/null 2>&1
      c2=$?
      if [ $c2 -eq 124 ] || [ $c2 -eq 137 ]; then kind=timeout; fi
    elif [ $code -eq 86 ] || grep -qE 'Sanitizer|\.c:[0-9]+:[0-9]+: runtime error' "$dir/err"
    then kind=sanitizer
    elif [ $code -ge 126 ]; then kind=signal$((code - 128))
    fi
    [ $code -eq 126 ] || [ $code -eq 127 ] && kind=cannot-run
    if [ -n "$kind" ]; then
      failed=$((failed + 1))
      keep="$CRASH_DIR/$kind-$SEED-w$w-$runs"
      cp "$dir/fuzz.aso" "$keep.aso"
      { echo "# from seed $seed (FUZZ_SEED=$SEED worker $w run $runs), exit $code"
        head -n 60 "$dir/err"; } > "$keep.txt"
      echo "FAIL $kind: $keep.aso (mutant of ${seed#"$ROOT"/})"
      [ "$kind" = cannot-run ] && break
    fi
  done
  echo "$runs $failed" > "$WORK/count.$w"
}

w=0
while [ $w -lt "$JOBS" ]; do
  w=$((w + 1))
  worker $w &
done
wait

runs=0 failed=0
for f in "$WORK"/count.*; do
  [ -f "$f" ] || continue
  read -r r x < "$f"
  runs=$((runs + r)) failed=$((failed + x))
done
[ $failed -eq 0 ] || echo "fuzz: failing inputs are in $CRASH_DIR"
echo "$((runs - failed)) passed, $failed failed"
[ $failed -eq 0 ]
