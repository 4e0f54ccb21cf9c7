#!/usr/bin/env bash
# The Mercado Livre channel walked as a newcomer would, against a running `npm start` stack:
#   KEY=<admin key from the banner> scripts/walk-mercadolivre.sh
# API=http://localhost:3000 and SIM=http://localhost:8090 by default. Each step prints what it saw;
# the script stops with a non-zero exit at the first step that does not hold.
set -euo pipefail
API=${API:-http://localhost:3000}
SIM=${SIM:-http://localhost:8090}
# shellcheck source=scripts/walk-lib.sh
. "$(dirname "$0")/walk-lib.sh"
# Texts of this run, so a second walk on the same stack finds its own questions.
run=$$

step 'the seller connected by npm start'
accounts=$(curl -sf "${auth[@]}" "$API/v1/mercadolivre/accounts")
echo "$accounts" | field 'b=>b.items.map(a=>a.nickname+" "+a.status)'
seller=$(echo "$accounts" | field 'b=>(b.items.find(a=>a.status==="connected")||{}).sellerId')
[ "$seller" != undefined ] || fail 'no connected seller account'

step 'a second seller authorizes through the simulator'
url=$(curl -sf -XPOST "${auth[@]}" "${json[@]}" "$API/v1/mercadolivre/accounts/authorize" -d '{}' | field 'b=>b.authorizationUrl')
echo "authorize URL: $url"
other=$(curl -sf "$SIM/_sim/state" | field "b=>(b.sellers.find(s=>String(s.id)!=='$seller')||{}).id")
[ "$other" != undefined ] || fail 'the simulator has no second seller'
# The seller clicks "Autorizar" on the page; Mercado Livre sends the browser back to our callback.
landing=$(curl -s -L -o /dev/null -w '%{http_code} %{url_effective}' "$url&seller_id=$other")
echo "after consent: $landing"
curl -sf "${auth[@]}" "$API/v1/mercadolivre/accounts" | field "b=>b.items.filter(a=>a.sellerId==='$other').map(a=>a.nickname+' '+a.status)"
curl -sf "${auth[@]}" "$API/v1/mercadolivre/accounts" | field "b=>b.items.some(a=>a.sellerId==='$other'&&a.status==='connected')||''" | grep -q true ||
  fail 'the second seller is not connected'

step 'a buyer asks; the question appears in our API'
asked=$(now_ms)
curl -sf -XPOST "$SIM/_sim/questions" "${json[@]}" -d "{\"item_id\":\"MLB3000000001\",\"text\":\"Tem na cor azul ($run)?\"}" >/dev/null
qid=$(wait_for 15 bash -c "curl -sf -H 'Authorization: Bearer $KEY' '$API/v1/mercadolivre/questions?status=UNANSWERED' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const q=JSON.parse(s).items.find(i=>i.text==='Tem na cor azul ($run)?');console.log(q?q.id:'')})\"") ||
  fail 'the question did not appear within 15 s'
echo "question $qid visible after $(($(now_ms) - asked)) ms"

step 'an agent answers it; the simulator has exactly one answer'
curl -sf -XPOST "${auth[@]}" "${json[@]}" "$API/v1/mercadolivre/questions/$qid/answer" -d '{"text":"Temos sim, pronta entrega."}' | field 'b=>b.status'
curl -s -XPOST "${auth[@]}" "${json[@]}" "$API/v1/mercadolivre/questions/$qid/answer" -d '{"text":"Temos sim, pronta entrega."}' | field 'b=>"again: "+(b.code||b.status)'
wait_for 15 bash -c "curl -sf '$SIM/_sim/questions' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const l=JSON.parse(s).questions.filter(q=>q.text==='Tem na cor azul ($run)?'&&q.status==='ANSWERED');console.log(l.length===1?'ANSWERED once':'')})\"" ||
  fail 'the simulator does not show the question answered once'

step 'an automatic rule answers another'
curl -sf -XPOST "${auth[@]}" "${json[@]}" "$API/v1/mercadolivre/auto-answers" -d '{"name":"Garantia","keywords":["garantia"],"answerText":"{item_title} tem 12 meses de garantia."}' | field 'b=>"rule "+b.id'
curl -sf -XPOST "$SIM/_sim/questions" "${json[@]}" -d "{\"item_id\":\"MLB3000000001\",\"text\":\"Qual a garantia ($run)?\"}" >/dev/null
wait_for 20 bash -c "curl -sf -H 'Authorization: Bearer $KEY' '$API/v1/mercadolivre/questions?status=ANSWERED' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const q=JSON.parse(s).items.find(i=>i.text==='Qual a garantia ($run)?');console.log(q?'answered automatically':'')})\"" ||
  fail 'the rule did not answer within 20 s'

step 'a breached SLA shows in the monitor'
curl -sf -XPUT "${auth[@]}" "${json[@]}" "$API/v1/mercadolivre/settings" -d '{"answerSlaMinutes":1,"businessHours":null,"outOfHoursAnswer":null}' | field 'b=>"SLA "+b.answerSlaMinutes+" min"'
curl -sf -XPOST "$SIM/_sim/questions" "${json[@]}" -d "{\"item_id\":\"MLB3000000001\",\"text\":\"Aceita troca ($run)?\"}" >/dev/null
wait_for 100 bash -c "curl -sf -H 'Authorization: Bearer $KEY' '$API/v1/mercadolivre/monitor' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const m=JSON.parse(s);const n=m.slaBreachesToday;console.log(n>0?'breaches today: '+n:'')})\"" ||
  fail 'no SLA breach in the monitor within 100 s'

step 'a post-sale conversation is read and answered'
pack=$(curl -sf -XPOST "$SIM/_sim/orders" "${json[@]}" -d "{\"seller_id\":$seller}" | field 'b=>b.id')
curl -sf -XPOST "$SIM/_sim/packs/$pack/messages" "${json[@]}" -d "{\"text\":\"Quando chega ($run)?\"}" >/dev/null
wait_for 15 bash -c "curl -sf -H 'Authorization: Bearer $KEY' '$API/v1/mercadolivre/conversations/$pack' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const c=JSON.parse(s);console.log((c.messages||[]).some(m=>m.text==='Quando chega ($run)?')?'buyer message read':'')})\"" ||
  fail 'the buyer message did not reach the conversation'
curl -sf -XPOST "${auth[@]}" "${json[@]}" "$API/v1/mercadolivre/conversations/$pack/messages" -d '{"text":"Chega amanhã."}' | field 'b=>"our message: "+b.state'

step 'every token expires; the channel goes on without a new authorization'
curl -sf -XPOST "$SIM/_sim/tokens/expire" "${json[@]}" -d '{}' >/dev/null
curl -sf -XPOST "$SIM/_sim/questions" "${json[@]}" -d "{\"item_id\":\"MLB3000000001\",\"text\":\"Entrega no sábado ($run)?\"}" >/dev/null
wait_for 30 bash -c "curl -sf -H 'Authorization: Bearer $KEY' '$API/v1/mercadolivre/questions?status=UNANSWERED' | node -e \"let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{console.log(JSON.parse(s).items.some(i=>i.text==='Entrega no sábado ($run)?')?'question fetched with a fresh token':'')})\"" ||
  fail 'no question fetched after the token expiry'
curl -sf "${auth[@]}" "$API/v1/mercadolivre/accounts" | field 'b=>b.items.map(a=>a.nickname+" "+a.status)'

printf '\nThe walk held.\n'
