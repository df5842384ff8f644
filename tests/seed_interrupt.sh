#!/bin/sh
# tests/seed_interrupt.sh ASO: the seed's endless programs under Ctrl-C.
# Each runs for a moment, gets SIGINT, and must stop cleanly: exit status 130,
# a traceback ending in KeyboardInterrupt, and the right interleaving of the
# lines printed so far (boo/baa alternate; the starving one never prints baa).
set -u
aso=${1:-build/aso}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
check() {  # check NAME CONDITION-DESCRIPTION RESULT
  if [ "$3" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL $1: $2"; fi
}
run() {  # run FILE: starts it, interrupts it after 0.5 s
  "$aso" "$1" > "$tmp/out" 2> "$tmp/err" &
  pid=$!
  sleep 0.5
  kill -INT $pid
  wait $pid
  echo $?
}

code=$(run examples/seed_concurrent.aso)
check concurrent "exit status 130 (got $code)" "$([ "$code" = 130 ] && echo ok)"
head -n 5 "$tmp/out" > "$tmp/head"
printf 'running async test\n...boo 0\n...baa 0\n...boo 1\n...baa 1\n' > "$tmp/want"
check concurrent "boo and baa alternate" "$(cmp -s "$tmp/head" "$tmp/want" && echo ok)"
check concurrent "traceback ends in KeyboardInterrupt" \
  "$([ "$(grep -v '^$' "$tmp/err" | grep -v '^Task was destroyed\|^task: ' | tail -n 1)" = KeyboardInterrupt ] && echo ok)"

code=$(run examples/seed_starving.aso)
check starving "exit status 130 (got $code)" "$([ "$code" = 130 ] && echo ok)"
head -n 3 "$tmp/out" > "$tmp/head"
printf '...boo 0\n...boo 1\n...boo 2\n' > "$tmp/want"
check starving "boo runs first" "$(cmp -s "$tmp/head" "$tmp/want" && echo ok)"
check starving "baa never runs" "$(grep -q baa "$tmp/out" || echo ok)"
check starving "traceback ends in KeyboardInterrupt" \
  "$([ "$(grep -v '^$' "$tmp/err" | grep -v '^Task was destroyed\|^task: ' | tail -n 1)" = KeyboardInterrupt ] && echo ok)"
# The accepted answer: two endless loops on a process pool, in parallel.
code=$(run examples/seed_executor.aso)
check executor "exit status 130 (got $code)" "$([ "$code" = 130 ] && echo ok)"
check executor "traceback ends in KeyboardInterrupt" \
  "$([ "$(grep -v '^$' "$tmp/err" | tail -n 1)" = KeyboardInterrupt ] && echo ok)"
check executor "every line whole" \
  "$(grep -qvE '^(running async test|\.\.\.(boo|baa) [0-9]+)$' "$tmp/out" || echo ok)"
check executor "both workers ran" "$(grep -q boo "$tmp/out" && grep -q baa "$tmp/out" && echo ok)"
check executor "each worker counts up without a gap" "$(awk '
  /^\.\.\.(boo|baa) / { if ($2 != n[$1] + 0) bad = 1; n[$1] = $2 + 1 }
  END { if (!bad) print "ok" }' "$tmp/out")"
check executor "nothing left running" "$(pgrep -f 'aso examples/seed_executor.aso' >/dev/null || echo ok)"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
