#!/bin/sh
# tests/timeline/check.sh ASO: the browser test of `aso --timeline=FILE.html`.
# Renders the timeline pages of the seed program (two tasks taking turns) and of
# a mixed program (sleeps, callbacks, a cancelled task) in headless Chromium and
# checks the DOM it built: one lane per task, one bar per step, hover titles
# with source lines, no external resources. Skips when chromium is missing
# (install it with `sh .ci/deps chromium`). Ends with "N passed, M failed".
set -u
ASO=${1:?usage: tests/timeline/check.sh ASO}
case $ASO in /*) ;; *) ASO=$(pwd)/$ASO ;; esac
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BROWSER=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$BROWSER" ]; then
  echo "skip: tests/timeline: chromium is not installed (sh .ci/deps chromium)"
  echo "0 passed, 0 failed"
  exit 0
fi
TMP=$(mktemp -d /tmp/aso-timeline.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
bad() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', expected '$3'"; fi; }

# Runs headless Chromium on a page; prints the DOM it built.
dump_dom() {
  timeout 90 "$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run \
    --user-data-dir="$TMP/profile" --dump-dom "file://$1" 2>/dev/null
}

# page NAME SCRIPT TASKS STEPS CALLBACK_LANES: runs SCRIPT with --timeline=NAME.html
# and checks the page Chromium renders from it.
page() {
  name=$1 script=$2 tasks=$3 steps=$4 cblanes=$5
  html="$TMP/$name.html"
  if ! (cd "$TMP" && "$ASO" --clock=virtual --timeline="$html" "$script" \
        >"$TMP/$name.out" 2>"$TMP/$name.err"); then
    bad "$name: aso exited with an error: $(tail -1 "$TMP/$name.err")"
    return
  fi
  if [ ! -s "$html" ]; then bad "$name: no page written"; return; fi
  check "$name: aso says what it wrote" \
    "$(grep -c "^timeline: wrote $html ($tasks tasks, $steps steps)\$" "$TMP/$name.err")" 1
  dump_dom "$html" >"$TMP/$name.dom"
  if ! grep -q '</svg>' "$TMP/$name.dom"; then
    bad "$name: chromium did not render the page (no <svg> in its DOM)"
    return
  fi
  check "$name: one lane per task" "$(grep -o 'data-lane="' "$TMP/$name.dom" | wc -l)" "$tasks"
  check "$name: one bar per task step" \
    "$(grep -o '<rect class="step"' "$TMP/$name.dom" | wc -l)" \
    "$((steps - $(grep -o '<rect class="cb"' "$TMP/$name.dom" | wc -l)))"
  check "$name: callbacks lane" "$(grep -o 'data-callbacks=' "$TMP/$name.dom" | wc -l)" "$cblanes"
  base=$(basename "$script")
  n=$(grep -o "ran from $base:[0-9]*" "$TMP/$name.dom" | wc -l)
  check "$name: every task bar's title says where it ran from" "$n" \
    "$(grep -o '<rect class="step"' "$TMP/$name.dom" | wc -l)"
  if grep -q -i -E '<script|<link|<img|<iframe|src=|@import|url\(' "$html" ||
     [ "$(grep -o 'https\?://[^"]*' "$html" | grep -v -c '^http://www.w3.org/2000/svg$')" != 0 ]
  then bad "$name: the page refers to something outside itself"
  else ok "$name: self-contained (no script, no external resource)"
  fi
}

page seed "$ROOT/examples/seed_bounded.aso" 2 8 0
page mixed "$ROOT/tests/golden/trace_timeline_mixed.aso" 4 13 1

# the seed's lanes are its two tasks, and their bars alternate
dom="$TMP/seed.dom"
touch "$dom"
check "seed: lanes named after the tasks" \
  "$(grep -o 'data-lane="[^"]*"' "$dom" | tr '\n' ' ')" \
  'data-lane="Task-1 say_boo" data-lane="Task-2 say_baa" '
check "seed: a hover title names the task, step, iteration and lines" \
  "$(grep -c 'Task-2 say_baa, step 4, iteration 2, t=0.000' "$dom")" 1

# a screenshot: the page paints (a blank page compresses to a tiny PNG)
timeout 90 "$BROWSER" --headless --no-sandbox --disable-gpu --no-first-run \
  --user-data-dir="$TMP/profile" --window-size=900,400 --screenshot="$TMP/seed.png" \
  "file://$TMP/seed.html" >/dev/null 2>&1
size=0
[ -f "$TMP/seed.png" ] && size=$(wc -c <"$TMP/seed.png")
if [ "$size" -gt 5000 ]; then ok "seed: screenshot painted ($size bytes)"
else bad "seed: screenshot missing or blank ($size bytes)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
