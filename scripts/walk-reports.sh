#!/usr/bin/env bash
# Reports and the interaction history (issue 15) walked as a supervisor would, against a running
# `npm start` stack:
#   KEY=<admin key from the banner> scripts/walk-reports.sh
# API=http://localhost:3000, ARI=http://localhost:8088 (the ARI simulator, omni:omni) and
# ML=http://localhost:8090 (the Mercado Livre simulator) by default; the WhatsApp channel is the one
# `npm start` connects to its simulator.
# First one phone is touched on every channel: a dialer call through an IVR (key 1) to an agent, a
# WhatsApp template message (sent, delivered, read) and a Mercado Livre question. Then the supervisor
# opens the catalogue, runs every report of the glossary as CSV and as XLSX, downloads each file,
# and looks the phone's history up in one list.
# Each step prints what it saw; the script stops with a non-zero exit at the first step that does not hold.
set -euo pipefail
API=${API:-http://localhost:3000}
ARI=${ARI:-http://localhost:8088}
ARI_AUTH=${ARI_AUTH:-omni:omni}
ML=${ML:-http://localhost:8090}
# shellcheck source=scripts/walk-lib.sh
. "$(dirname "$0")/walk-lib.sh"
# Polls an API path until the JS expression over its JSON body is truthy (prints it); an expression
# that throws stops the polling at once.
poll() {
  local deadline=$(($(date +%s) + $1)) out
  while [ "$(date +%s)" -le "$deadline" ]; do
    out=$(get "$2" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=($3)(JSON.parse(s));console.log(v?(typeof v==='object'?JSON.stringify(v):v):'')})") || return 1
    [ -n "$out" ] && {
      echo "$out"
      return 0
    }
    sleep 0.3
  done
  return 1
}
# Uploads a CSV as a contact group of a kind and prints its id once the import completed.
group() {
  local name=$1 kind=$2 csv=$3 created importId
  created=$(curl -sf -XPOST "${auth[@]}" "$API/v1/contact-groups" -F "name=$name" -F "kind=$kind" -F "file=@$csv;type=text/csv") || fail "group $name refused"
  importId=$(echo "$created" | field 'b=>b.import.id')
  poll 30 "/v1/imports/$importId" 'b=>b.status==="completed"&&b.rowsImported===1' >/dev/null || fail "the import of $name did not complete with its row"
  echo "$created" | field 'b=>b.group.id'
}

run=$(printf '%04d' $(($$ % 10000)))
phone="5511960${run}01"
workdir="/tmp/walk-reports-$run"
mkdir -p "$workdir"

step "the customer: $phone, a company contact; on the simulator the phone answers and presses 1 at the menu, agents talk 2–4 s"
contact=$(post /v1/company-contacts "{\"name\":\"Cliente Rastreio $run\",\"phones\":[\"$phone\"]}" | field 'b=>b.id') || fail 'the company contact was refused'
echo "company contact $contact"
curl -sf -u "$ARI_AUTH" "$ARI/_sim/config" | node -e "
let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const c=JSON.parse(s);const ours='^$phone\$';
  console.log(JSON.stringify({
    rules:[{match:ours,mix:[{outcome:'answered',weight:1}],machineShare:0,talkMs:[60000,60000]},...c.rules.filter(r=>r.match!==ours)],
    keypad:[{match:ours,keys:['1'],promptMatch:'rastreio/menu'},...c.keypad.filter(r=>r.match!==ours)],
    ringMs:[300,900],keyDelayMs:[200,400],media:{...c.media,soundMs:500},
    agents:{...c.agents,match:'^agent-',answerMs:[200,500],talkMs:[2000,4000]}}));
})" >"$workdir/sim.json"
curl -sf -u "$ARI_AUTH" -XPUT "${json[@]}" "$ARI/_sim/config" --data-binary "@$workdir/sim.json" |
  field 'c=>"keypad "+JSON.stringify(c.keypad.find(r=>r.match==="^'"$phone"'$"))'

step 'a dialer call: the IVR menu, key 1, an agent of the campaign'
agent=$(post /v1/agents "{\"name\":\"Agente Rastreio $run\",\"email\":\"rastreio.$run@walk.example\",\"sipEndpoint\":\"PJSIP/agent-rastreio-$run\"}") || fail 'the agent was refused'
agentId=$(echo "$agent" | field 'b=>b.id')
agentKey=$(post /v1/api-keys "{\"userId\":\"$(echo "$agent" | field 'b=>b.userId')\",\"name\":\"Desktop $run\"}" | field 'b=>b.key')
curl -sf -XPOST -H "Authorization: Bearer $agentKey" "${json[@]}" "$API/v1/agents/me/state" -d '{"state":"available"}' | field 'b=>b.name+" logged in: "+b.state'
flow='{"start":"menu","nodes":[
  {"id":"menu","type":"menu","prompt":["sound:rastreio/menu"],"timeoutSec":3,"retries":1,"branches":{"1":"atendente"},"onTimeout":"fim","onInvalid":"fim"},
  {"id":"atendente","type":"transfer_agent","target":{"kind":"campaign_agent"},"noAgent":"fim"},
  {"id":"fim","type":"hangup"}]}'
flowId=$(post /v1/dialer/ivr-flows "{\"name\":\"Rastreio $run\",\"definition\":$flow}" | field 'b=>b.id') || fail 'the flow was refused'
strategy='{"maxAttemptsPerContact":1,"maxAttemptsPerPhone":1,"callingWindow":{"days":[0,1,2,3,4,5,6],"ranges":[{"from":"00:00","to":"24:00"}],"excludeHolidays":false},
  "pacing":{"channels":2,"callsPerSecond":5},"ringTimeoutSec":30,"answeredCall":{"ivrFlowId":"'"$flowId"'"}}'
strategyId=$(post /v1/dialer/strategies "{\"name\":\"Rastreio $run\",\"config\":$strategy}" | field 'b=>b.id') || fail 'the strategy was refused'
printf 'nome;telefone1\r\nCliente Rastreio %s;%s\r\n' "$run" "$phone" >"$workdir/dialer.csv"
dialerGroup=$(group "Rastreio discador $run" dialer "$workdir/dialer.csv")
campaignId=$(post /v1/dialer/campaigns "{\"name\":\"Rastreio $run\",\"groupId\":\"$dialerGroup\",\"strategyId\":\"$strategyId\",\"agentIds\":[\"$agentId\"],\"wrapUpSeconds\":0}" |
  field 'b=>b.id') || fail 'the dialer campaign was refused'
post "/v1/dialer/campaigns/$campaignId/start" '{}' >/dev/null
poll 90 "/v1/dialer/campaigns/$campaignId/monitor" 'b=>b.status==="completed"&&"completed: "+JSON.stringify(b.contacts.finishedByOutcome)' ||
  fail 'the dialer campaign did not complete within 90 s'
poll 20 "/v1/agents/$agentId" 'b=>b.state==="available"&&b.state' >/dev/null || fail 'the agent did not come back to available'
curl -sf -XPOST -H "Authorization: Bearer $agentKey" "${json[@]}" "$API/v1/agents/me/state" -d '{"state":"offline"}' | field 'b=>b.name+" logged out: "+b.state'

step 'a WhatsApp template message to the same phone, on the channel npm start connected to its simulator'
channelId=$(get /v1/whatsapp/channels | field 'b=>(b.items.find(c=>c.name==="Simulador WhatsApp")||b.items[0]||{}).id')
[ "$channelId" != undefined ] || fail 'no WhatsApp channel'
printf 'nome;telefone1;Vencimento\r\nCliente Rastreio %s;%s;10/12/2026\r\n' "$run" "$phone" >"$workdir/broadcast.csv"
waGroup=$(group "Rastreio broadcast $run" broadcast "$workdir/broadcast.csv")
waCampaign=$(post /v1/broadcast/campaigns "{\"name\":\"Rastreio $run\",\"channelId\":\"$channelId\"}" | field 'b=>b.id') || fail 'the broadcast campaign was refused'
sendId=$(post "/v1/broadcast/campaigns/$waCampaign/sends" \
  "{\"groupId\":\"$waGroup\",\"template\":{\"name\":\"lembrete_pagamento\"},\"variables\":{\"1\":{\"column\":\"nome\"},\"2\":{\"column\":\"Vencimento\"}}}" |
  field 'b=>b.id') || fail 'the send was refused'
poll 60 "/v1/broadcast/sends/$sendId/monitor" 'b=>{const t=b.totals||b;return t.read===1&&"send "+b.state+", messages by their last status: "+JSON.stringify({total:t.total,sent:t.sent,delivered:t.delivered,read:t.read,failed:t.failed})}' ||
  fail 'the message was not read within 60 s'

step 'a Mercado Livre question from a buyer'
question="Serve no modelo 2020 ($run)?"
curl -sf -XPOST "$ML/_sim/questions" "${json[@]}" -d "{\"item_id\":\"MLB3000000001\",\"text\":\"$question\"}" >/dev/null || fail 'the ML simulator refused the question'
poll 20 '/v1/mercadolivre/questions?status=UNANSWERED' "b=>{const q=b.items.find(i=>i.text===\"$question\");return q&&'question '+q.id+' from buyer '+(q.buyerId??q.buyer?.id??'?')}" ||
  fail 'the question did not reach our API within 20 s'
buyer=$(get '/v1/mercadolivre/questions?status=UNANSWERED' | field "b=>{const q=b.items.find(i=>i.text===\"$question\");return String(q.buyerId??q.buyer?.id)}")
# A question carries no phone: the supervisor records that this buyer is the same person as the company contact.
curl -sf -XPATCH "${auth[@]}" "${json[@]}" "$API/v1/company-contacts/$contact" -d "{\"mercadoLivreBuyerIds\":[\"$buyer\"]}" |
  field 'b=>"company contact "+b.name+" is Mercado Livre buyer "+b.mercadoLivreBuyerIds.join(", ")' || fail 'the buyer id was refused'

# "Last week": every touch above was made now, so the period is the seven days up to a few minutes from now.
from=$(date -u -d '-7 days' +%FT%TZ) to=$(date -u -d '+5 minutes' +%FT%TZ)
step "the catalogue, and every report run for $from – $to as CSV and XLSX"
get /v1/reports >"$workdir/catalogue.json"
reports=$(field 'b=>b.items.map(r=>r.id).join(" ")' <"$workdir/catalogue.json")
field 'b=>b.items.length+" reports: "+b.items.map(r=>r.name).join(", ")' <"$workdir/catalogue.json"
for id in $reports; do
  for format in csv xlsx; do
    runId=$(post "/v1/reports/$id/runs" "{\"filters\":{\"from\":\"$from\",\"to\":\"$to\"},\"format\":\"$format\"}" | field 'b=>b.id') || fail "$id $format refused"
    rows=$(poll 120 "/v1/reports/runs/$runId" 'b=>{if(b.status==="failed"||b.status==="cancelled")throw new Error(b.status);return b.status==="completed"&&String(b.rowsWritten)}') ||
      fail "$id $format did not complete"
    file="$workdir/$id.$format"
    curl -sf "${auth[@]}" -o "$file" "$API/v1/reports/runs/$runId/file" || fail "$id $format: no file"
    size=$(wc -c <"$file")
    if [ "$format" = csv ]; then
      seen=$(node -e "
        const fs=require('fs');const b=fs.readFileSync('$file');const cat=JSON.parse(fs.readFileSync('$workdir/catalogue.json','utf8'));
        const def=cat.items.find(r=>r.id==='$id');const head=b.toString('utf8').replace(/^\uFEFF/,'').split(/\r?\n/)[0];
        const bom=b[0]===0xef&&b[1]===0xbb&&b[2]===0xbf;const ok=bom&&head===def.columns.map(c=>c.header).join(';');
        console.log((ok?'':'WRONG ')+(bom?'BOM':'no BOM')+', header '+head.slice(0,60)+(head.length>60?'…':''));")
    else
      seen=$(head -c 2 "$file")
      seen=$([ "$seen" = PK ] && echo 'zip (PK)' || echo "WRONG: starts $seen")
    fi
    printf '  %-26s %-4s %5s rows %8s bytes  %s\n' "$id" "$format" "$rows" "$size" "$seen"
    [[ $seen != WRONG* ]] || fail "$id $format: the file is not as expected"
  done
done

step "the phone's whole history in one list: GET /v1/interactions?phone=$phone"
list=$(get "/v1/interactions?phone=$phone&limit=100")
echo "$list" | field 'b=>b.items.map(i=>[i.startedAt,i.channel,i.kind,i.outcome,"handledBy="+JSON.stringify(i.handledBy),
  i.channel==="voice"?"agent "+(i.details.agentName||i.details.agentId)+", ivr "+JSON.stringify(i.details.ivr):""].join("  ")).join("\n")'
callId=$(echo "$list" | field 'b=>(b.items.find(i=>i.channel==="voice"&&i.handledBy&&i.handledBy.kind==="agent"&&JSON.stringify(i.details.ivr||{}).includes("1"))||{}).id')
[ "$callId" != undefined ] || fail 'no call answered by an agent with its IVR keys'
waId=$(echo "$list" | field 'b=>(b.items.find(i=>i.channel==="whatsapp")||{}).id')
[ "$waId" != undefined ] || fail 'no WhatsApp message'
get "/v1/interactions/$callId" | field 'b=>"call events: "+b.events.map(e=>e.type).join(" → ")'
statuses=$(get "/v1/interactions/$waId" | field 'b=>b.events.map(e=>e.type).join(" → ")')
echo "WhatsApp events: $statuses"
[[ $statuses == *delivered*read* ]] || fail 'the WhatsApp statuses are not in the history'
step "the person's whole history in one list: the company contact's timeline (phones and Mercado Livre buyer)"
get "/v1/company-contacts/$contact/timeline?limit=100" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{
  const items=JSON.parse(s).items;
  for (const i of items) console.log([i.startedAt,i.channel,i.kind,i.outcome,i.phone||('ML buyer '+i.mlBuyerId)].join('  '));
  const has=c=>items.some(i=>i.channel===c);
  if(!has('voice')||!has('whatsapp')||!has('mercadolivre')){console.error('the timeline lacks a channel');process.exit(1);}
})" || fail 'the timeline does not hold the call, the message and the question'

printf '\nThe walk held.\n'
