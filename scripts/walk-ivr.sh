#!/usr/bin/env bash
# URA ativa (issue 13) walked as a supervisor would, against a running `npm start` stack:
#   KEY=<admin key from the banner> scripts/walk-ivr.sh
# API=http://localhost:3000 and ARI=http://localhost:8088 (the ARI simulator, omni:omni) by default.
# A collections flow (amount due from the custom field `valor`, 1 → one of two logged-in agents, 2 → boleto_enviado,
# 9 → opt-out), a campaign whose simulated customers take every branch, the Relatório IVR and its
# summary, the opt-out list, and a second campaign on the same phones that never calls the opted out.
# Each step prints what it saw; the script stops with a non-zero exit at the first step that does not hold.
set -euo pipefail
API=${API:-http://localhost:3000}
ARI=${ARI:-http://localhost:8088}
ARI_AUTH=${ARI_AUTH:-omni:omni}
# shellcheck source=scripts/walk-lib.sh
. "$(dirname "$0")/walk-lib.sh"

# Phones of this run (a second walk on the same stack has its own): 55 11 9 8<run><n><last digit>.
run=$(printf '%04d' $(($$ % 10000)))
phone() { printf '55119%s%s%02d%s' 8 "$run" "$2" "$1"; }
agent1=$(phone 1 1) agent2=$(phone 1 2) boleto1=$(phone 2 3) boleto2=$(phone 2 4) optout1=$(phone 9 5) optout2=$(phone 9 6)
silent=$(phone 0 7) hangsup=$(phone 7 8) invalid=$(phone 5 9) newcomer=$(phone 1 10)

step 'the customers on the simulator: every call of this run answers; at the menu 1, 2, 9 press that key, 5 presses 5 then 2, 7 hangs up, 0 stays silent; agents answer in 0.2–0.4 s and talk 1.5–2.5 s'
curl -sf -u "$ARI_AUTH" "$ARI/_sim/config" | node -e "
let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const c=JSON.parse(s);const ours='^551198$run';
  const keypad=[['1',{keys:['1']}],['2',{keys:['2']}],['9',{keys:['9']}],['5',{keys:['5','2']}],['7',{hangupDuringPlayback:1}]]
    .map(([d,r])=>({match:ours+'.*'+d+'\$',promptMatch:'cobranca/opcoes',...r}));
  console.log(JSON.stringify({
    rules:[{match:ours,mix:[{outcome:'answered',weight:1}],machineShare:0,talkMs:[60000,60000]},...c.rules.filter(r=>!r.match.startsWith('^551198'))],
    keypad:[...keypad,...c.keypad.filter(r=>!r.match.startsWith('^551198'))],
    ringMs:[300,900],media:{soundMs:400,numberMs:400,digitMs:60,recordingMs:400},keyDelayMs:[200,500],interDigitMs:100,
    agents:{...c.agents,match:'^agent-',answerMs:[200,400],talkMs:[1500,2500]}}));
})" >"/tmp/walk-ivr-sim-$run.json"
curl -sf -u "$ARI_AUTH" -XPUT "${json[@]}" "$ARI/_sim/config" --data-binary "@/tmp/walk-ivr-sim-$run.json" |
  field 'c=>c.keypad.filter(r=>r.match.includes("'"$run"'")).map(r=>r.match+" "+(r.keys||[]).join(",")+(r.hangupDuringPlayback?" hangs up":"")).join(" | ")'

step 'the supervisor saves the collections flow (one broken first: 422 names the node)'
flow='{"start":"saudacao","nodes":[
  {"id":"saudacao","type":"play","media":["sound:cobranca/ola","sound:cobranca/valor","number:{{valor}}","sound:cobranca/reais"],"next":"menu"},
  {"id":"menu","type":"menu","prompt":["sound:cobranca/opcoes"],"invalidPrompt":["sound:opcao-invalida"],"timeoutSec":2,"retries":1,
   "branches":{"1":"atendente","2":"boleto","9":"descadastro"},"onTimeout":"tchau","onInvalid":"tchau"},
  {"id":"atendente","type":"transfer_agent","target":{"kind":"campaign_agent"},"noAgent":"tchau"},
  {"id":"boleto","type":"set","disposition":"boleto_enviado","next":"boleto_aviso"},
  {"id":"boleto_aviso","type":"play","media":["sound:cobranca/boleto-enviado"],"next":"fim"},
  {"id":"descadastro","type":"opt_out","next":"descadastro_aviso"},
  {"id":"descadastro_aviso","type":"play","media":["sound:descadastrado"],"next":"fim"},
  {"id":"tchau","type":"play","media":["sound:obrigado"],"next":"fim"},
  {"id":"fim","type":"hangup"}]}'
# The same flow with the greeting going nowhere: 422 names the node (and the nodes it leaves unreachable).
broken=${flow/\"next\":\"menu\"/\"next\":\"nowhere\"}
curl -s -XPOST "${auth[@]}" "${json[@]}" "$API/v1/dialer/ivr-flows" -d "{\"name\":\"Quebrado $run\",\"definition\":$broken}" |
  field 'b=>b.status+" "+b.code+": "+(b.problems||[]).map(p=>p.node+" "+p.code).join(", ")'
flowId=$(post /v1/dialer/ivr-flows "{\"name\":\"Cobrança $run\",\"definition\":$flow}" | field 'b=>b.id')
echo "flow $flowId"
strategy='{"maxAttemptsPerContact":1,"maxAttemptsPerPhone":1,"callingWindow":{"days":[0,1,2,3,4,5,6],"ranges":[{"from":"00:00","to":"24:00"}],"excludeHolidays":false},
  "pacing":{"channels":10,"callsPerSecond":20},"ringTimeoutSec":30,"answeredCall":{"ivrFlowId":"'"$flowId"'"}}'
strategyId=$(post /v1/dialer/strategies "{\"name\":\"URA $run\",\"config\":$strategy}" | field 'b=>b.id')
echo "strategy $strategyId (answeredCall → the flow)"

step 'two agents of the campaign log in through the API with their own keys (1 → agent)'
agentIds=() agentKeys=()
for n in 1 2; do
  created=$(new_agent "Atendente $n ($run)" "atendente$n.$run@walk.example" "PJSIP/agent-ivr-$run-$n")
  key=${created#* }
  agentIds+=("${created% *}") agentKeys+=("$key")
  curl -sf -XPOST -H "Authorization: Bearer $key" "${json[@]}" "$API/v1/agents/me/state" -d '{"state":"available"}' |
    field 'b=>b.name+" "+b.sipEndpoint+": "+b.state'
done
ids=$(printf '"%s",' "${agentIds[@]}")

# A dialer group from a CSV with the custom field `valor`; prints the group id once its import completed.
group() {
  local name=$1
  shift
  local csv="/tmp/walk-ivr-$run-$name.csv"
  printf 'nome;telefone1;valor\r\n' >"$csv"
  for p in "$@"; do printf 'Cliente %s;%s;%s\r\n' "${p: -3}" "$p" "1234,56" >>"$csv"; done
  local created
  created=$(curl -sf -XPOST "${auth[@]}" "$API/v1/contact-groups" -F "name=$name $run" -F kind=dialer -F "file=@$csv;type=text/csv")
  local id importId
  id=$(echo "$created" | field 'b=>b.group.id')
  importId=$(echo "$created" | field 'b=>b.import.id')
  for _ in $(seq 1 100); do
    status=$(get "/v1/imports/$importId" | field 'b=>b.status')
    [ "$status" = completed ] && break
    [ "$status" = failed ] && fail "import of $name failed"
    sleep 0.2
  done
  [ "$status" = completed ] || fail "import of $name did not complete"
  echo "$id"
}

# Starts a campaign on a group (with the agents of $3, a JSON list of ids, if given) and waits for it to
# complete, printing the monitor's IVR figures as it goes.
campaign() {
  local id
  id=$(post /v1/dialer/campaigns "{\"name\":\"$1 $run\",\"groupId\":\"$2\",\"strategyId\":\"$strategyId\",\"agentIds\":[${3:-}],\"wrapUpSeconds\":1}" | field 'b=>b.id')
  post "/v1/dialer/campaigns/$id/start" '{}' >/dev/null
  local last='' status=''
  for _ in $(seq 1 300); do
    local m
    m=$(get "/v1/dialer/campaigns/$id/monitor")
    status=$(echo "$m" | field 'b=>b.status')
    local now
    now=$(echo "$m" | field 'b=>"in IVR "+b.ivr.inIvr+(b.ivr.byNode.length?" ("+b.ivr.byNode.map(n=>n.node+": "+n.calls).join(", ")+")":"")+", calls in progress "+b.callsInProgress')
    [ "$now" != "$last" ] && echo "  monitor: $now" >&2
    last=$now
    [ "$status" = completed ] && break
    sleep 0.5
  done
  [ "$status" = completed ] || fail "campaign $1 did not complete within 150 s"
  echo "$id"
}

step 'a campaign runs the flow on every answered call; the monitor shows who is where'
first=$(group 'URA clientes' "$agent1" "$agent2" "$boleto1" "$boleto2" "$optout1" "$optout2" "$silent" "$hangsup" "$invalid")
firstCampaign=$(campaign 'Cobrança URA' "$first" "${ids%,}")
get "/v1/dialer/campaigns/$firstCampaign/monitor" | field 'b=>"done: "+JSON.stringify(b.contacts.finishedByOutcome)+", ivr now "+JSON.stringify(b.ivr)'

step 'the Relatório IVR shows every path the customers took'
report=$(get "/v1/dialer/reports/ivr?campaignId=$firstCampaign")
echo "$report" | node -e "
let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const [head,...rows]=s.replace(/^\uFEFF/,'').trimEnd().split(/\r?\n/).map(l=>l.split(';'));
  const c=n=>head.indexOf(n);
  for (const r of rows) console.log([r[c('telefone')],r[c('caminho')],'teclas='+r[c('teclas')],r[c('saida')],r[c('disposicao')],'descadastrado='+r[c('descadastrado')],r[c('transferido_para')]].join('  '));
  const paths=new Set(rows.map(r=>r[c('caminho')]));
  if (rows.length!==9||paths.size<5) { console.error('expected 9 calls over 5 paths'); process.exit(1); }
  const toAgent=rows.filter(r=>r[c('teclas')]==='1');
  if (toAgent.length!==2||!toAgent.every(r=>/^agente: Atendente [12]/.test(r[c('transferido_para')]))) { console.error('expected both who pressed 1 transferred to an agent'); process.exit(1); }
})" || fail 'the IVR report does not show every path'
get "/v1/dialer/reports/ivr/summary?campaignId=$firstCampaign" |
  field 'b=>b.items.map(n=>n.node+": entered "+n.entered+", by key "+JSON.stringify(n.byKey)+", timeouts "+n.timeouts+", invalid "+n.invalid+", hang-ups "+n.hangups+", other "+JSON.stringify(n.other)).join("\n")'

step 'the calls report and the phone history carry the flow, disposition, final node and keys'
get "/v1/dialer/reports/calls?campaignId=$firstCampaign" | node -e "
let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const [head,...rows]=s.replace(/^\uFEFF/,'').trimEnd().split(/\r?\n/).map(l=>l.split(';'));
  for (const r of rows.slice(0,4)) console.log(['telefone','fluxo','versao_fluxo','disposicao','no_final','teclas','agente'].map(n=>r[head.indexOf(n)]).join('  '));
})"
get "/v1/interactions?phone=$optout1" | field 'b=>b.items.map(i=>i.outcome+" "+JSON.stringify(i.details.ivr)).join("\n")'

for key in "${agentKeys[@]}"; do
  curl -sf -XPOST -H "Authorization: Bearer $key" "${json[@]}" "$API/v1/agents/me/state" -d '{"state":"offline"}' | field 'b=>b.name+" logs out: "+b.state'
done

step 'those who pressed 9 are on the voice opt-out list'
for p in "$optout1" "$optout2"; do
  seen=$(get "/v1/opt-outs?channel=voice&phone=$p" | field 'b=>b.items.map(o=>o.phone+" "+o.channel+" "+o.source).join(", ")||"NOT OPTED OUT"')
  echo "$seen"
  [[ $seen == *ivr* ]] || fail "$p is not on the opt-out list"
done

step 'a second campaign (another group, the same phones and one new) never calls them'
before=$(curl -sf -u "$ARI_AUTH" "$ARI/_sim/stats" | field "b=>[b.perNumber['$optout1']||0,b.perNumber['$optout2']||0].join(',')")
second=$(group 'URA de novo' "$optout1" "$optout2" "$newcomer")
secondCampaign=$(campaign 'Cobrança URA 2' "$second")
after=$(curl -sf -u "$ARI_AUTH" "$ARI/_sim/stats" | field "b=>[b.perNumber['$optout1']||0,b.perNumber['$optout2']||0].join(',')")
echo "calls to the opted-out phones: before $before, after $after"
[ "$before" = "$after" ] || fail 'an opted-out phone was called again'
seen=$(get "/v1/dialer/campaigns/$secondCampaign/monitor" | field 'b=>"contacts: "+b.contacts.total+", blocked "+b.contacts.blocked+", done "+JSON.stringify(b.contacts.finishedByOutcome)')
echo "$seen"
[[ $seen == *'blocked 2'* ]] || fail 'the opted-out contacts are not blocked'

printf '\nThe walk held.\n'
