#!/bin/sh
# tests/compat.sh DIR...: runs every golden test not marked `# aso-only` under CPython,
# the oracle, and checks that python prints what the test expects (the `# expect:`
# lines or FILE.out, the exit status, the `# expect-error:` line). aso's expectations
# must be true of Python too. Same test format as `aso test` (see src/testrun.h).
# Env: PYTHON (default python3.11, else python3), ASO_TEST_TIMEOUT (default 30 s),
# COMPAT_JOBS (default 2). Ends with "N passed, M failed"; exits 1 on a failure.
set -u

# ---- worker: `compat.sh --one NUMBER FILE` checks one file into $COMPAT_RES/NUMBER ----
# The directive reader follows src/testrun.c: the first "# NAME" on a line wins, its
# text is what follows the colon, one space skipped; a trailing CR is dropped.
directives() {    # directives NAME FILE: prints the text of every NAME directive
  LC_ALL=C awk -v want="$1" '
    BEGIN { n = split("expect: expect-error: expect-exit: expect-stderr: aso-flags: " \
                      "stdin: aso-only", names, " ") }
    function kind(line,   i, k, rest) {
      while ((i = index(line, "# ")) > 0) {
        rest = substr(line, i + 2)
        for (k = 1; k <= n; k++) {
          if (substr(rest, 1, length(names[k])) == names[k]) {
            text = substr(rest, length(names[k]) + 1)
            if (substr(text, 1, 1) == " ") text = substr(text, 2)
            return names[k]
          }
        }
        line = substr(line, i + 1)
      }
      return ""
    }
    { sub(/\r$/, ""); if (kind($0) == want) print text }' "$2"
}

strip_cwd() {      # deletes "$PWD/" wherever it occurs
  LC_ALL=C awk -v p="$(pwd)/" '{ out = ""; while ((i = index($0, p)) > 0) {
      out = out substr($0, 1, i - 1); $0 = substr($0, i + length(p)) }
    print out $0 }'
}
check_one() {
  num=$1 f=$2
  res="$COMPAT_RES/$num" work="$COMPAT_RES/$num.d"
  mkdir -p "$work"
  if grep -q -e '# aso-only' -e '# not-a-test' "$f"; then
    echo skip > "$res"; rm -rf "$work"; return 0
  fi
  out="${f%.aso}.out"
  if [ -f "$out" ]; then cp "$out" "$work/want"; else directives expect: "$f" > "$work/want"; fi
  directives stdin: "$f" > "$work/stdin"    # empty (like /dev/null) without # stdin:
  want_error=$(directives expect-error: "$f" | tail -n 1)
  want_exit=$(directives expect-exit: "$f" | tail -n 1)
  has_error=$(directives expect-error: "$f" | wc -l)
  if [ -z "$want_exit" ]; then
    if [ "$has_error" -gt 0 ]; then want_exit=1; else want_exit=0; fi
  fi

  timeout -k 5 "${ASO_TEST_TIMEOUT:-30}" "$PYTHON" "$f" < "$work/stdin" \
    > "$work/out.raw" 2> "$work/err.raw"
  code=$?
  # python names the script by its absolute path; expectations are written
  # relative to the working directory (src/testrun.c strips the same prefix)
  strip_cwd < "$work/out.raw" > "$work/out"
  strip_cwd < "$work/err.raw" > "$work/err"

  {
    why=""
    if [ $code -eq 124 ] || [ $code -eq 137 ]; then
      why="timeout after ${ASO_TEST_TIMEOUT:-30}s"
    elif [ "$code" != "$want_exit" ]; then
      why="exit status $code, expected $want_exit"
    fi
    if [ -n "$why" ]; then
      echo "FAIL $f: $why"
      tail -n 5 "$work/err" | cat -v | sed 's/^/    stderr: /'
    fi
    if [ "$has_error" -gt 0 ]; then
      got_error=$(LC_ALL=C awk '{ t = $0; sub(/[ \r]+$/, "", t); if (length(t)) l = t }
                                END { print l }' "$work/err")
      if [ "$got_error" != "$want_error" ]; then
        [ -n "$why" ] || { why="wrong error"; echo "FAIL $f: $why"; }
        echo "    expected error: $want_error"
        echo "    got:            $got_error" | cat -v
      fi
    fi
    if grep -q '# sort-output' "$f"; then   # parallel workers: the order of lines varies
      LC_ALL=C sort "$work/want" > "$work/want.s" && mv "$work/want.s" "$work/want"
      LC_ALL=C sort "$work/out" > "$work/out.s" && mv "$work/out.s" "$work/out"
    fi
    if ! cmp -s "$work/want" "$work/out"; then
      if [ -z "$why" ]; then
        why="wrong output"; echo "FAIL $f: $why"
        tail -n 3 "$work/err" | cat -v | sed 's/^/    stderr: /'
      fi
      diff -a "$work/want" "$work/out" | head -n 10 | cat -v | sed 's/^/    /'
    fi
    [ -n "$why" ] || echo pass
  } > "$res"
  rm -rf "$work"
}

if [ "${1:-}" = "--one" ]; then
  check_one "$2" "$3"
  exit 0
fi

# ---- driver ---------------------------------------------------------------------
[ $# -gt 0 ] || { echo "usage: sh tests/compat.sh DIR..." >&2; exit 2; }
if [ -z "${PYTHON:-}" ]; then
  for p in /usr/bin/python3.11 python3.11 python3; do
    if command -v "$p" >/dev/null 2>&1; then PYTHON=$(command -v "$p"); break; fi
  done
fi
[ -n "${PYTHON:-}" ] || { echo "compat: no python3 found (set PYTHON)" >&2; exit 2; }
for d; do [ -e "$d" ] || { echo "compat: $d: no such file or directory" >&2; exit 2; }; done

COMPAT_RES=$(mktemp -d "${TMPDIR:-/tmp}/aso-compat.XXXXXX") || exit 2
trap 'rm -rf "$COMPAT_RES"' EXIT
trap 'exit 130' INT TERM
export PYTHON COMPAT_RES
# Python as a plain oracle: UTF-8 always (as aso), no .pyc files left in the tree.
export PYTHONUTF8=1 PYTHONDONTWRITEBYTECODE=1

find "$@" -path '*/.*' -prune -o -type f -name '*.aso' -print | LC_ALL=C sort -u \
  > "$COMPAT_RES/list"
awk '{ printf "%06d\n%s\n", NR, $0 }' "$COMPAT_RES/list" |
  xargs -d '\n' -n 2 -P "${COMPAT_JOBS:-2}" sh "$0" --one

passed=0 failed=0 skipped=0 num=0
while IFS= read -r f; do
  num=$((num + 1))
  res="$COMPAT_RES/$(printf %06d $num)"
  if [ ! -f "$res" ]; then
    echo "FAIL $f: no result (the checker itself failed)"; failed=$((failed + 1))
  elif [ "$(cat "$res")" = pass ]; then
    passed=$((passed + 1))
  elif [ "$(cat "$res")" = skip ]; then
    skipped=$((skipped + 1))
  else
    cat "$res"; failed=$((failed + 1))
  fi
done < "$COMPAT_RES/list"
echo "($skipped aso-only tests skipped; python: $PYTHON)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
