#!/bin/sh
# tests/repl/run.sh ASO [ARGS...]: the REPL's tests. `ASO ARGS` must start the
# REPL (with stdin not a terminal it reads statements without prompts).
#  - golden transcripts: NAME.in is piped in, stdout must equal NAME.out (and
#    the exit status NAME.status when that file exists);
#  - :dis, and Ctrl-C (SIGINT) through a pipe;
#  - pty_test.c, built here: a real pseudo-terminal (prompts, editing,
#    completion, history, the seed's tasks, Ctrl-C).
# Ends with "N passed, M failed"; exit status 1 when anything failed.
set -u
[ $# -ge 1 ] || { echo "usage: $0 ASO [ARGS...]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
aso=$1; shift
case $aso in /*) ;; *) aso=$(pwd)/$aso ;; esac
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }

cd "$here"
for in in *.in; do
  name=${in%.in}
  timeout 60 "$aso" "$@" < "$in" > "$tmp/$name.out" 2> "$tmp/$name.err"
  status=$?
  if ! cmp -s "$tmp/$name.out" "$name.out"; then
    bad "$name: stdout differs from $name.out"
    diff "$name.out" "$tmp/$name.out" | head -20
  elif [ -f "$name.status" ] && [ "$(cat "$name.status")" != "$status" ]; then
    bad "$name: exit status $status, expected $(cat "$name.status")"
  else
    ok
  fi
done

# :dis prints the bytecode of a function defined at the prompt.
printf 'def f(x):\n    return x + 1\n\n:dis f\n' | timeout 20 "$aso" "$@" > "$tmp/dis" 2>&1
if grep -q RETURN_VALUE "$tmp/dis" && grep -q 'code object f' "$tmp/dis"; then ok
else bad ":dis f shows the bytecode"; cat "$tmp/dis"; fi

# SIGINT while an input awaits: KeyboardInterrupt, then the session goes on.
{ printf 'x = 5\nawait asyncio.sleep(100)\n'; sleep 1.5; printf 'print("alive", x)\n'; } |
  timeout 20 "$aso" "$@" > "$tmp/sig.out" 2> "$tmp/sig.err" &
pid=$!
sleep 0.7
kill -INT "$pid" 2>/dev/null
wait "$pid"
if grep -q '^alive 5$' "$tmp/sig.out" && grep -q KeyboardInterrupt "$tmp/sig.err"; then ok
else bad "Ctrl-C (SIGINT) through a pipe"; cat "$tmp/sig.out" "$tmp/sig.err"; fi

# The pseudo-terminal test.
if ${CC:-cc} -std=gnu11 -D_GNU_SOURCE -o "$tmp/pty_test" pty_test.c -lutil 2> "$tmp/cc.err"; then
  timeout 120 "$tmp/pty_test" "$aso" "$@" > "$tmp/pty.out" 2>&1
  grep -v '^ok ' "$tmp/pty.out" | grep -v ' passed, ' | head -60
  p=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$tmp/pty.out")
  f=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$tmp/pty.out")
  [ -n "$p" ] || { p=0; f=1; echo "FAIL pty_test did not finish"; }
  pass=$((pass + p)); fail=$((fail + f))
else
  bad "pty_test.c does not compile"; cat "$tmp/cc.err"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
