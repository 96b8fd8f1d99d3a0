#!/usr/bin/env bash
# `make run`: callrec-server on ./data with a demo call to record.
#
#   1. generates the demo dialogue with espeak-ng into $BUILD_DIR/demo/ (once;
#      $DEMO_AUDIO_DIR elsewhere)
#   2. starts callrec-server (recording only when the agent presses Start)
#   3. creates the agent `demo-agent` (POST /v1/agents) and prints its token
#   4. places a SIPREC call from callrec-callgen: customer and agent talking;
#      half-way the customer reads out a card number
#   5. prints the workspace URL, then stays with the server until Ctrl-C
#
# Arguments are passed to callrec-server (RUN_ARGS of the Makefile).
set -euo pipefail

BUILD_DIR=${BUILD_DIR:-build}
DATA_DIR=${DATA_DIR:-./data}
CALL_SECONDS=${CALL_SECONDS:-900}
AGENT=demo-agent

# Where the server listens: its defaults, unless the arguments say otherwise.
http=127.0.0.1:8080
sip=127.0.0.1:5060
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --listen) http=${args[i + 1]:-$http} ;;
    --listen=*) http=${args[i]#--listen=} ;;
    --sip-listen) sip=${args[i + 1]:-$sip} ;;
    --sip-listen=*) sip=${args[i]#--sip-listen=} ;;
    --data-dir) DATA_DIR=${args[i + 1]:-$DATA_DIR} ;;
    --data-dir=*) DATA_DIR=${args[i]#--data-dir=} ;;
  esac
done
url="http://${http/0.0.0.0/127.0.0.1}"

demo=${DEMO_AUDIO_DIR:-$BUILD_DIR/demo}
if [ ! -s "$demo/customer.wav" ] || [ ! -s "$demo/agent.wav" ] ||
   [ scripts/demo-audio.py -nt "$demo/timeline.json" ]; then
  python3 scripts/demo-audio.py "$demo"
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

data_arg=(--data-dir "$DATA_DIR")
case " $* " in *" --data-dir"*) data_arg=() ;; esac
# One machine, nothing to hand calls over to: Ctrl-C stops at once (no drain).
drain_arg=(--drain-timeout 0)
case " $* " in *" --drain-timeout"*) drain_arg=() ;; esac
"$BUILD_DIR/src/callrec-server" "${data_arg[@]}" "${drain_arg[@]}" --agent-match "^sip:$AGENT@" "$@" &
server=$!
pids+=("$server")

# HTTP without curl: python3 is there anyway (the audio generator).
healthy() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
    "$url/healthz" 2>/dev/null
}
for _ in $(seq 100); do
  kill -0 "$server" 2>/dev/null || { echo "demo: callrec-server did not start" >&2; exit 1; }
  healthy && break
  sleep 0.1
done
sleep 0.2  # a server that failed to bind SIP is gone by now (and another may hold the port)
kill -0 "$server" 2>/dev/null || { echo "demo: callrec-server did not start" >&2; exit 1; }

# The admin token: given on the command line, else the one generated into the data dir.
admin=""
for ((i = 0; i < ${#args[@]}; i++)); do
  [ "${args[i]}" = --admin-token ] && admin=${args[i + 1]:-}
done
if [ -z "$admin" ]; then
  admin=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["AdminToken"])' \
          "$DATA_DIR/credentials.json")
fi
token=$(python3 - "$url" "$admin" "$AGENT" <<'PY'
import json, sys, urllib.request
url, admin, agent = sys.argv[1:]
request = urllib.request.Request(url + "/v1/agents", method="POST",
                                 data=json.dumps({"AgentId": agent}).encode(),
                                 headers={"Authorization": "Bearer " + admin,
                                          "Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(request, timeout=5))["Token"])
PY
)

contact="demo-$(date +%H%M%S)"
call_start=$(date +%s)
"$BUILD_DIR/src/callrec-callgen" --target "$sip" --contact-id "$contact" \
  --duration "$CALL_SECONDS" --agent-aor "sip:$AGENT@cc.example" \
  --customer-wav "$demo/customer.wav" --agent-wav "$demo/agent.wav" >/dev/null &
pids+=("$!")

card=$(python3 -c 'import json,sys
t = json.load(open(sys.argv[1]))
c = [x for x in t["turns"] if x["card_number"]][0]
print("%d|%d|%d" % (c["start"], c["end"], t["duration"]))' "$demo/timeline.json")
IFS='|' read -r card_start card_end loop <<<"$card"
at() { date -d "@$((call_start + $1))" +%H:%M:%S; }

cat <<INFO

  ┌──────────────────────────────────────────────────────────────────────
  │ Agent workspace   $url/?agent=$AGENT
  │ Agent             $AGENT
  │ Token             $token
  │ Recordings        $url/recordings.html
  │
  │ A call ($contact) is on: Alex calls Example Bank. Sign in, then
  │   1. press Start (both tracks),
  │   2. press Pause when the agent asks for the card number
  │      (the customer reads it at $(at "$card_start")-$(at "$card_end"), again at
  │      $(at $((card_start + loop)))-$(at $((card_end + loop))), $(at $((card_start + 2 * loop)))-$(at $((card_end + 2 * loop))), ...),
  │   3. press Resume when the agent says the payment has gone through,
  │   4. press Stop, and play the recording on the Recordings page:
  │      no card number in it.
  │ The dialogue repeats every ${loop} s; the call lasts ${CALL_SECONDS} s. Ctrl-C stops all.
  └──────────────────────────────────────────────────────────────────────

INFO

wait "$server"
