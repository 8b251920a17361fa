# The one CLI test harness, sourced by run_cli_tests.sh (behaviour end to end) and catalogue.sh
# (the documented bad-input catalogue). The caller sets $tmp (a scratch folder) before use.
# Every failing case prints "FAIL NAME: why" and the tail of what the command printed.
pass=0
fail=0
ran=()

_ok() { pass=$((pass + 1)); }
_bad() {  # NAME WHY
  fail=$((fail + 1))
  echo "FAIL $1: $2"
  sed 's/^/  out: /' "$tmp/stdout" 2>/dev/null | head -5
  sed 's/^/  err: /' "$tmp/stderr" 2>/dev/null | tail -5
}

# left_behind FILE: FILE or a ".FILE.tmp-*" sibling exists (an atomic write did not clean up).
left_behind() {
  [ -e "$1" ] || ls -a "$(dirname "$1")" 2>/dev/null | grep -q "^\.$(basename "$1")\.tmp"
}

# expect NAME CODE REGEX -- command...: exit code CODE and REGEX in stdout or stderr (behaviour;
# the stricter case_ is for documented bad input).
expect() {
  local name=$1 code=$2 regex=$3
  shift 4
  ran+=("$name")
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  local rc=$? why=""
  [ "$rc" -eq "$code" ] || why="exit $rc, want $code"
  grep -Eq -- "$regex" "$tmp/stdout" "$tmp/stderr" || why="$why; output not /$regex/"
  if [ -z "$why" ]; then _ok; else _bad "$name" "${why#; }"; fi
}

# case_ NAME CODE REGEX OUTPUT -- command...: exit CODE, REGEX and a "sadi: " line on stderr,
# OUTPUT absent afterwards ('-': the command writes no file) and no temporary sibling of it.
case_() {
  local name=$1 code=$2 regex=$3 out=$4
  shift 5
  ran+=("$name")
  [ "$out" != - ] && rm -f "$out"
  "$@" >"$tmp/stdout" 2>"$tmp/stderr"
  local rc=$? why=""
  [ "$rc" -eq "$code" ] || why="exit $rc, want $code"
  grep -Eq -- "$regex" "$tmp/stderr" || why="$why; message not /$regex/"
  grep -q "^sadi: " "$tmp/stderr" || why="$why; no 'sadi: ' line on stderr"
  if [ "$out" != - ] && left_behind "$out"; then why="$why; $out or a temporary sibling was left behind"; fi
  if [ -z "$why" ]; then _ok; else _bad "$name" "${why#; }"; fi
}

# no_output NAME FILE: neither FILE nor a temporary sibling exists.
no_output() {
  if left_behind "$2"; then fail=$((fail + 1)); echo "FAIL $1: output left behind"; else _ok; fi
}

# check NAME command...: the command succeeds (for checks written inline).
check() {
  local name=$1
  shift
  if "$@"; then _ok; else fail=$((fail + 1)); echo "FAIL $name"; fi
}

# finish LABEL: prints the tally and fails when any case failed.
finish() {
  echo "$1: $pass passed, $fail failed (${#ran[@]} cases)"
  [ "$fail" -eq 0 ]
}
