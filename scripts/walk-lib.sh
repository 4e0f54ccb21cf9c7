# shellcheck shell=bash
# What the walk scripts (scripts/walk-*.sh) share: the admin key, curl's headers, step/fail output
# and JSON field reads. Sourced after each script sets its own URLs.
: "${KEY:?KEY must be the admin API key printed by npm start}"
auth=(-H "Authorization: Bearer $KEY")
json=(-H 'content-type: application/json')
# The API as the admin (API is the script's base URL, read at each call).
post() { curl -sf -XPOST "${auth[@]}" "${json[@]}" "$API$1" -d "$2"; }
get() { curl -sf "${auth[@]}" "$API$1"; }
step() { printf '\n== %s\n' "$*"; }
fail() {
  echo "FAILED: $*" >&2
  exit 1
}
need() { command -v "$1" >/dev/null || fail "$1 is needed"; }
need curl
need node
# jq-like field reads without jq: node is always there.
field() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=($1)(JSON.parse(s));console.log(typeof v==='object'?JSON.stringify(v):v)})"; }
# Polls a command until its output is non-empty and not "undefined"/"null" (deadline in seconds).
wait_for() {
  local deadline=$(($(date +%s) + $1))
  shift
  local out
  while [ "$(date +%s)" -le "$deadline" ]; do
    out=$("$@" 2>/dev/null || true)
    if [ -n "$out" ] && [ "$out" != undefined ] && [ "$out" != null ]; then
      echo "$out"
      return 0
    fi
    sleep 0.2
  done
  return 1
}
now_ms() { date +%s%3N; }
# An agent (name, e-mail, SIP endpoint) with an API key of their own, their desktop, issued by the
# admin: prints the agent to stderr and "<agent id> <key>" to stdout.
new_agent() {
  local agent key
  agent=$(post /v1/agents "{\"name\":\"$1\",\"email\":\"$2\",\"sipEndpoint\":\"$3\"}") || fail "agent $1 was not created"
  key=$(post /v1/api-keys "{\"userId\":\"$(echo "$agent" | field 'b=>b.userId')\",\"name\":\"Desktop $1\"}" | field 'b=>b.key') || fail "no key for agent $1"
  echo "$agent" | field 'b=>b.name+" "+b.sipEndpoint+" "+b.state+" (key issued)"' >&2
  echo "$(echo "$agent" | field 'b=>b.id') $key"
}
