#!/usr/bin/env bash
# Agents and predictive dialing (issue 12) walked as a supervisor and their agents would, against a
# running `npm start` stack:
#   KEY=<admin key from the banner> scripts/walk-agents.sh
# API=http://localhost:3000 and ARI=http://localhost:8088 (the ARI simulator, omni:omni) by default.
# The supervisor creates three agents (an admin issues each an API key: the agent's desktop), a pause
# reason, a predictive strategy whose answered calls go to agents, a group and a campaign with the
# agents; the agents log in through the API; one pauses with the reason mid-run and comes back; the
# supervisor forces another to pause. The monitor's agent figures are printed as they change; then
# the simulator's bridges and abandon playbacks, the calls report and the users report.
# Each step prints what it saw; the script stops with a non-zero exit at the first step that does not hold.
set -euo pipefail
API=${API:-http://localhost:3000}
ARI=${ARI:-http://localhost:8088}
ARI_AUTH=${ARI_AUTH:-omni:omni}
# shellcheck source=scripts/walk-lib.sh
. "$(dirname "$0")/walk-lib.sh"
# An agent's own request (their key, their desktop); prints the HTTP status then the body.
as_agent() { curl -s -w '\n%{http_code}' -XPOST -H "Authorization: Bearer $1" "${json[@]}" "$API$2" -d "$3"; }
# Splits a CSV (BOM, `;`, CRLF) into a JSON array of objects keyed by its header, for the checks below.
csv_rows() {
  node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const [head,...rows]=s.replace(/^\uFEFF/,'').trimEnd().split(/\r?\n/).map(l=>l.split(';'));
  console.log(JSON.stringify(rows.map(r=>Object.fromEntries(head.map((h,i)=>[h,r[i]])))));})"
}

# Phones of this run (a second walk on the same stack has its own): 55 11 9 70<run><nn>.
run=$(printf '%04d' $(($$ % 10000)))
contacts=40
phones=()
for n in $(seq 1 $contacts); do phones+=("$(printf '5511970%s%02d' "$run" "$n")"); done

step 'the simulator: about 45% of this run'"'"'s phones answer (and stay on the line), agents answer in 0.2–0.6 s and talk 2–6 s'
curl -sf -u "$ARI_AUTH" "$ARI/_sim/config" | node -e "
let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const c=JSON.parse(s);const ours='^5511970$run';
  console.log(JSON.stringify({
    rules:[{match:ours,mix:[{outcome:'answered',weight:45},{outcome:'no_answer',weight:55}],machineShare:0,talkMs:[60000,60000]},...c.rules.filter(r=>r.match!==ours)],
    ringMs:[500,2500],media:{...c.media,soundMs:1500},
    agents:{...c.agents,match:'^agent-',answerMs:[200,600],talkMs:[2000,6000]}}));
})" >"/tmp/walk-agents-sim-$run.json"
curl -sf -u "$ARI_AUTH" -XPUT "${json[@]}" "$ARI/_sim/config" --data-binary "@/tmp/walk-agents-sim-$run.json" |
  field 'c=>"rule "+JSON.stringify(c.rules.find(r=>r.match.includes("'"$run"'")).mix)+"; agents "+JSON.stringify({match:c.agents.match,answerMs:c.agents.answerMs,talkMs:c.agents.talkMs})'

step 'the supervisor creates three agents; an admin issues each an API key (their desktop)'
agentIds=() agentKeys=() agentNames=()
for n in 1 2 3; do
  name="Agente $n ($run)"
  created=$(new_agent "$name" "agente$n.$run@walk.example" "PJSIP/agent-$run-$n")
  agentIds+=("${created% *}") agentKeys+=("${created#* }") agentNames+=("$name")
done
reason="Almoço $run"
post /v1/dialer/pause-reasons "{\"name\":\"$reason\"}" | field 'b=>"pause reason "+b.name'

step 'a predictive strategy whose answered calls go to agents (abandon after 2 s with a message)'
strategy='{"maxAttemptsPerContact":1,"maxAttemptsPerPhone":1,
  "callingWindow":{"days":[0,1,2,3,4,5,6],"ranges":[{"from":"00:00","to":"24:00"}],"excludeHolidays":false},
  "pacing":{"mode":"predictive","channels":12,"callsPerSecond":10,"abandonTargetPercent":3,"maxDialLevel":3},"ringTimeoutSec":30,
  "answeredCall":"agent","agentConnect":{"abandonAfterSeconds":2,"abandonMessage":"sound:custom/sem-agente"}}'
strategyId=$(post /v1/dialer/strategies "{\"name\":\"Preditivo $run\",\"config\":$strategy}" | field 'b=>b.id') || fail 'the strategy was refused'
get "/v1/dialer/strategies/$strategyId" | field 'b=>"strategy "+b.id+": "+b.config.pacing.mode+", answeredCall "+b.config.answeredCall+", "+JSON.stringify(b.config.agentConnect)'

csv="/tmp/walk-agents-$run.csv"
printf 'nome;telefone1\r\n' >"$csv"
for p in "${phones[@]}"; do printf 'Cliente %s;%s\r\n' "${p: -2}" "$p" >>"$csv"; done
created=$(curl -sf -XPOST "${auth[@]}" "$API/v1/contact-groups" -F "name=Agentes $run" -F kind=dialer -F "file=@$csv;type=text/csv")
groupId=$(echo "$created" | field 'b=>b.group.id')
importId=$(echo "$created" | field 'b=>b.import.id')
imported=$(wait_for 30 bash -c "curl -sf -H 'Authorization: Bearer $KEY' '$API/v1/imports/$importId' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const b=JSON.parse(s);if(b.status==='failed')process.exit(1);console.log(b.status==='completed'?b.rowsImported:'')})\"") ||
  fail 'the group import did not complete'
echo "group $groupId: $imported of $contacts contacts imported"
[ "$imported" = "$contacts" ] || fail 'not every contact was imported'
ids=$(printf '"%s",' "${agentIds[@]}")
campaignId=$(post /v1/dialer/campaigns "{\"name\":\"Preditivo $run\",\"groupId\":\"$groupId\",\"strategyId\":\"$strategyId\",\"agentIds\":[${ids%,}],\"wrapUpSeconds\":1}" |
  field 'b=>b.id') || fail 'the campaign was refused'
get "/v1/dialer/campaigns/$campaignId" | field 'b=>"campaign "+b.id+": agents "+b.agentIds.length+", wrap-up "+b.wrapUpSeconds+" s"'

step 'the agents log in through the API with their own keys'
for i in 0 1 2; do
  out=$(as_agent "${agentKeys[$i]}" /v1/agents/me/state '{"state":"available"}')
  [ "${out##*$'\n'}" = 200 ] || fail "${agentNames[$i]} could not log in: $out"
  echo "${out%$'\n'*}" | field 'b=>b.name+" → "+b.state'
done
# One agent may not change another's state.
as_agent "${agentKeys[0]}" "/v1/agents/${agentIds[1]}/state" '{"state":"offline"}' | head -1 | field 'b=>"agent 1 logging agent 2 out: "+b.status+" "+b.code'

# An agent's pause waits until they are off their call (409 AGENT_ON_CALL meanwhile), as a desktop would retry.
pause() {
  local deadline=$(($(date +%s) + 30)) out
  while [ "$(date +%s)" -le "$deadline" ]; do
    out=$(curl -s -w '\n%{http_code}' -XPOST -H "Authorization: Bearer $1" "${json[@]}" "$API$2" -d "{\"state\":\"paused\",\"pauseReason\":\"$reason\"}")
    [ "${out##*$'\n'}" = 200 ] && {
      echo "${out%$'\n'*}"
      return 0
    }
    sleep 0.2
  done
  fail "the pause was refused for 30 s: $out"
}

step 'the campaign runs; the monitor'"'"'s agent figures as they change'
post "/v1/dialer/campaigns/$campaignId/start" '{}' >/dev/null
last='' status='' paused1='' back1='' forced2='' back2=''
for _ in $(seq 1 600); do
  m=$(get "/v1/dialer/campaigns/$campaignId/monitor")
  status=$(echo "$m" | field 'b=>b.status')
  done_=$(echo "$m" | field 'b=>Object.values(b.contacts.finishedByOutcome).reduce((n,x)=>n+x,0)')
  now=$(echo "$m" | field 'b=>{const a=b.agents;const f=x=>x==null?"-":Math.round(x*100)+"%";
    return "by state "+Object.entries(a.byState).filter(e=>e[1]).map(e=>e[0]+" "+e[1]).join(", ")+" | waiting "+a.waitingForAgent+
      " | dial level "+(a.dialLevel==null?"-":a.dialLevel.toFixed(2))+" ("+(a.pacingPhase||"-")+") | abandon "+a.abandonRate.campaign.abandoned+"/"+a.abandonRate.campaign.answered+
      " = "+f(a.abandonRate.campaign.rate)+" | occupancy "+f(a.occupancy)}')
  [ "$now" != "$last" ] && echo "  [$(date +%T)] done $done_/$contacts  $now"
  last=$now
  if [ -z "$paused1" ] && [ "$done_" -ge 8 ]; then
    pause "${agentKeys[0]}" /v1/agents/me/state | field 'b=>"  >> "+b.name+" pauses: "+b.state+" ("+b.pauseReason.name+")"'
    paused1=$(date +%s)
  fi
  if [ -n "$paused1" ] && [ -z "$back1" ] && [ $(($(date +%s) - paused1)) -ge 5 ]; then
    as_agent "${agentKeys[0]}" /v1/agents/me/state '{"state":"available"}' | head -1 | field 'b=>"  >> "+b.name+" comes back: "+b.state'
    back1=$(date +%s)
  fi
  if [ -n "$back1" ] && [ -z "$forced2" ] && [ "$done_" -ge 20 ]; then
    pause "$KEY" "/v1/agents/${agentIds[1]}/state" | field 'b=>"  >> the supervisor forces "+b.name+" to pause: "+b.state+" ("+b.pauseReason.name+")"'
    forced2=$(date +%s)
  fi
  if [ -n "$forced2" ] && [ -z "$back2" ] && [ $(($(date +%s) - forced2)) -ge 5 ]; then
    as_agent "${agentKeys[1]}" /v1/agents/me/state '{"state":"available"}' | head -1 | field 'b=>"  >> "+b.name+" comes back: "+b.state'
    back2=$(date +%s)
  fi
  [ "$status" = completed ] && break
  sleep 0.5
done
[ "$status" = completed ] || fail 'the campaign did not complete within 300 s'
[ -n "$back2" ] || fail 'the campaign ended before both pauses happened'
get "/v1/dialer/campaigns/$campaignId/monitor" |
  field 'b=>"completed: "+JSON.stringify(b.contacts.finishedByOutcome)+"; average speed of answer "+(b.agents.averageSpeedOfAnswerSeconds??0).toFixed(2)+" s"'

step 'the calls report names the agent of every answered call and marks the abandoned ones'
calls=$(get "/v1/dialer/reports/calls?campaignId=$campaignId" | csv_rows)
echo "$calls" | field 'rows=>rows.filter(r=>r.resultado==="answered"||r.resultado==="abandoned").map(r=>[r.telefone,r.resultado,"agente="+(r.agente||"-"),"espera="+r.espera_agente_s,"conversa="+r.conversa_agente_s,"abandonada="+r.abandonada].join("  ")).join("\n")'
echo "$calls" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const rows=JSON.parse(s);const ans=rows.filter(r=>r.resultado==='answered'),ab=rows.filter(r=>r.resultado==='abandoned');
  const bad=[...ans.filter(r=>!r.agente||r.abandonada!=='nao'),...ab.filter(r=>r.abandonada!=='sim'||r.agente)];
  console.log(rows.length+' calls: '+ans.length+' answered by an agent, '+ab.length+' abandoned, '+(rows.length-ans.length-ab.length)+' not answered');
  if(rows.length!==$contacts||ans.length===0||bad.length){console.error('wrong rows: '+JSON.stringify(bad));process.exit(1);}
})" || fail 'the calls report does not name every agent / mark every abandon'
keys=$(echo "$calls" | field 'rows=>rows.filter(r=>r.resultado==="answered").map(r=>r.chave).join(" ")')
abandonedKeys=$(echo "$calls" | field 'rows=>rows.filter(r=>r.resultado==="abandoned").map(r=>r.chave).join(" ")')

step 'the simulator shows each bridge: the customer and <key>:agent'
curl -sf -u "$ARI_AUTH" "$ARI/_sim/bridges" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const all=JSON.parse(s);const by=new Map(all.map(b=>[b.id,b]));let bad=0;
  for (const k of '$keys'.split(' ')) {
    const b=by.get(k+':bridge');const m=b?[...new Set(b.members.map(x=>x.channelId))].sort():[];
    const ok=m.length===2&&m.includes(k)&&m.includes(k+':agent');if(!ok)bad++;
    console.log((ok?'':'WRONG ')+k+':bridge holds '+(m.join(' + ')||'nothing')+(b&&b.destroyedAt?', destroyed':''));
  }
  if(bad)process.exit(1);
})" || fail 'an answered call has no bridge with exactly the customer and its agent'

step 'each abandoned customer heard the abandon message'
if [ -z "$abandonedKeys" ]; then
  echo 'no call was abandoned in this run (the predictive pacer kept every answered customer for an agent)'
else
  for k in $abandonedKeys; do
    heard=$(curl -sf -u "$ARI_AUTH" "$ARI/_sim/playbacks?channelId=$k" | field 'b=>(Array.isArray(b)?b:b.items||[]).map(p=>p.id+" "+p.media.join(",")).join("; ")')
    echo "$k: $heard"
    [[ $heard == *"$k:abandon sound:custom/sem-agente"* ]] || fail "$k did not hear the abandon message"
  done
fi

step 'the agents log out; the users report shows their time per state'
for i in 0 1 2; do
  out=$(wait_for 20 bash -c "curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Authorization: Bearer ${agentKeys[$i]}' -H 'content-type: application/json' '$API/v1/agents/me/state' -d '{\"state\":\"offline\"}' | grep -x 200") ||
    fail "${agentNames[$i]} could not log out"
done
get "/v1/agents?campaignId=$campaignId" | field 'b=>b.items.map(a=>a.name+" "+a.state).join(", ")'
from=$(date -u -d '-7 days' +%Y-%m-%dT00:00:00Z) to=$(date -u -d '+1 day' +%Y-%m-%dT00:00:00Z)
runId=$(post /v1/reports/users/runs "{\"filters\":{\"from\":\"$from\",\"to\":\"$to\"},\"format\":\"csv\"}" | field 'b=>b.id') || fail 'the users report was refused'
wait_for 60 bash -c "curl -sf -H 'Authorization: Bearer $KEY' '$API/v1/reports/runs/$runId' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const b=JSON.parse(s);if(b.status==='failed')process.exit(1);console.log(b.status==='completed'?'ok':'')})\"" >/dev/null ||
  fail 'the users report did not complete'
get "/v1/reports/runs/$runId/file" | csv_rows | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const rows=JSON.parse(s).filter(r=>r.tipo==='agente'&&r.nome.includes('($run)'));
  for (const r of rows) console.log([r.nome,'logado '+r.tempo_logado_s+' s','por estado: '+r.tempo_por_estado,'por pausa: '+(r.tempo_por_pausa||'-'),'chamadas '+r.chamadas_atendidas,'conversa '+r.tempo_conversa_s+' s','TMA '+r.tma_s+' s','abandonadas logado '+r.abandonadas_logado].join(' | '));
  if(rows.length!==3||rows.some(r=>!r.tempo_por_estado)){console.error('expected the 3 agents with their time per state');process.exit(1);}
  if(!rows.some(r=>r.tempo_por_pausa&&r.tempo_por_pausa.includes('$reason'))){console.error('no time in the pause reason');process.exit(1);}
  if($(echo "$abandonedKeys" | wc -w)>0&&!rows.some(r=>Number(r.abandonadas_logado)>0)){console.error('abandoned calls, none while an agent was logged in');process.exit(1);}
})" || fail 'the users report does not show the agents'"'"' time per state'

printf '\nThe walk held.\n'
