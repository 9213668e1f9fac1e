#!/usr/bin/env bash
# `make run`: start the local mock provider and huifangd (embedded SQLite
# store) on 127.0.0.1, print what to do next, and stay in the foreground
# until Ctrl-C (which stops both).
#
#   PORT=8080            the gateway's port
#   SMS_PROVIDER=aliyun  which SMS provider's mock to use: aliyun or tencent
#   DEMO_DATA=1          load a few demo triggers and answers (0: start empty)
#   HUIFANG_CLOCK_START  optional: start the gateway's clock at another
#                        instant (to see survey windows at work)
#
# The demo speaks every provider's real protocol to the local mock: WeChat
# template messages (customers with an openid), Aliyun or Tencent SMS
# (signed), WeCom for staff alerts, and the mock pushes delivery receipts
# back to huifangd's callback URL.
set -euo pipefail

BUILD=${1:-build}
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUN="$TOP/$BUILD/run"
PORT=${PORT:-8080}
SMS_PROVIDER=${SMS_PROVIDER:-aliyun}
case "$SMS_PROVIDER" in aliyun|tencent) ;; *) echo "SMS_PROVIDER must be aliyun or tencent"; exit 1;; esac
mkdir -p "$RUN"

# A survey-link secret that survives restarts of the demo.
if [ ! -s "$RUN/survey.secret" ]; then
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RUN/survey.secret"
fi
export HUIFANG_SURVEY_SECRET=${HUIFANG_SURVEY_SECRET:-$(cat "$RUN/survey.secret")}
export HUIFANG_WEBHOOK_SECRET=${HUIFANG_WEBHOOK_SECRET:-demo-webhook-secret}
# Demo credentials shared by huifangd and the mock (never real ones).
export HUIFANG_WECHAT_SECRET=demo-wechat-appsecret-0123456789
export HUIFANG_WECOM_SECRET=demo-wecom-corpsecret-0123456789
export HUIFANG_ALIYUN_SECRET=demo-aliyun-accesskey-secret
export HUIFANG_TENCENT_SECRET=demo-tencent-secret-key-0123
if [ ! -s "$RUN/callback.token" ]; then
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$RUN/callback.token"
fi
export HUIFANG_CALLBACK_TOKEN=$(cat "$RUN/callback.token")
CB="http://127.0.0.1:$PORT/callbacks/$HUIFANG_CALLBACK_TOKEN"
cat > "$RUN/mock.json" <<JSON
{"wechat": {"appid": "wx0demo0appid", "secret": "$HUIFANG_WECHAT_SECRET", "unsubscribed_openids": ["o-unsubscribed"]},
 "wecom": {"corpid": "ww0demo0corp", "corpsecret": "$HUIFANG_WECOM_SECRET", "agentid": 1000002},
 "aliyun": {"access_key_id": "LTAI0demo0key", "access_key_secret": "$HUIFANG_ALIYUN_SECRET",
            "receipt_url": "$CB/aliyun/report"},
 "tencent": {"secret_id": "AKID0demo0key", "secret_key": "$HUIFANG_TENCENT_SECRET",
             "sdk_app_id": "1400006666", "status_url": "$CB/tencent/status"}}
JSON

rm -f "$RUN/mock.port" "$RUN/huifangd.port"
"$TOP/$BUILD/mock_provider" --port 0 --ready-file "$RUN/mock.port" --config "$RUN/mock.json" \
  --record "$RUN/mock.jsonl" --webhook-secret "$HUIFANG_WEBHOOK_SECRET" 2>"$RUN/mock.log" &
MOCK_PID=$!
DAEMON_PID=
cleanup() {
  [ -n "$DAEMON_PID" ] && kill -TERM "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  kill -TERM "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
  true
}
trap cleanup EXIT INT TERM
for _ in $(seq 50); do [ -s "$RUN/mock.port" ] && break; sleep 0.1; done
[ -s "$RUN/mock.port" ] || { echo "the mock provider did not start:"; cat "$RUN/mock.log"; exit 1; }
MOCK_PORT=$(cat "$RUN/mock.port")

# The demo config: the shipped config/huifang.json with the local paths,
# port and mock URL filled in.
python3 - "$TOP" "$RUN" "$PORT" "$MOCK_PORT" "$SMS_PROVIDER" <<'PY'
import json, sys
top, run, port, mock, sms = sys.argv[1:6]
with open(f"{top}/config/huifang.json") as f:
    c = json.load(f)
c["listen"]["port"] = int(port)
c["listen"]["ready_file"] = f"{run}/huifangd.port"
c["public_url"] = f"http://127.0.0.1:{port}"
c["store"]["path"] = f"{run}/huifang.db"
c["catalogue"] = f"{top}/config/milestones.json"
c["holidays"] = f"{top}/config/holidays-cn.json"
c["templates"] = f"{top}/templates"
c["surveys"] = f"{top}/templates/surveys"
base = f"http://127.0.0.1:{mock}"
c["channels"]["webhook"]["url"] = f"{base}/webhook"
c["channels"]["webhook"]["enabled"] = False
c["channels"]["wechat"] = {"enabled": True, "base_url": f"{base}/wechat", "appid": "wx0demo0appid",
                           "secret": {"env": "HUIFANG_WECHAT_SECRET"}}
c["channels"]["wecom"] = {"enabled": True, "base_url": f"{base}/wecom", "corpid": "ww0demo0corp",
                          "secret": {"env": "HUIFANG_WECOM_SECRET"}, "agentid": 1000002}
c["channels"]["sms"] = {"provider": sms, "sign_name": "安居装饰"}
c["channels"]["aliyun"] = {"base_url": f"{base}/aliyun", "access_key_id": "LTAI0demo0key",
                           "access_key_secret": {"env": "HUIFANG_ALIYUN_SECRET"}}
c["channels"]["tencent"] = {"base_url": f"{base}/tencent", "secret_id": "AKID0demo0key",
                            "secret_key": {"env": "HUIFANG_TENCENT_SECRET"},
                            "sdk_app_id": "1400006666"}
c["callbacks"] = {"token": {"env": "HUIFANG_CALLBACK_TOKEN"}}
c["channels"]["wechat"]["callback_token"] = "demo-wechat-callback-token"
c["staff"] = {"cs_manager": {"name": "客服经理", "wecom_id": "cs-manager", "phone": "13700000000"}}
with open(f"{run}/huifang.json", "w") as f:
    json.dump(c, f, ensure_ascii=False, indent=2)
PY

"$TOP/$BUILD/huifangd" -c "$RUN/huifang.json" &
DAEMON_PID=$!
for _ in $(seq 50); do [ -s "$RUN/huifangd.port" ] && break; sleep 0.1; done
if [ ! -s "$RUN/huifangd.port" ]; then
  echo "huifangd did not start (is port $PORT in use? try PORT=8081 make run)"; exit 1
fi

# Demo data (DEMO_DATA=0 to start empty): a few triggers and survey answers
# through the real API, so the console has results and a ticket to show.
if [ "${DEMO_DATA:-1}" = 1 ]; then
  python3 "$TOP/tools/demo_data.py" "$PORT" "$RUN/huifang.db" || echo "(demo data not loaded)"
fi

NOW=$(date +%Y-%m-%dT%H:%M:%S%:z)
HOUR=$(TZ=Asia/Shanghai date +%H)
cat <<MSG

huifang is running: http://127.0.0.1:$PORT  (store $RUN/huifang.db, mock provider on port $MOCK_PORT:
WeChat, WeCom and $SMS_PROVIDER SMS with their real protocols and signatures)

Customer service: open http://127.0.0.1:$PORT/console and sign in with the token
  demo-cs-token-change-me-too   (results, tickets, project timelines, reports, CSV)
Project manager (phone page): http://127.0.0.1:$PORT/pm with the token
  demo-pm-token-change-me       (王建国's projects; tap a milestone to report it)

Trigger a milestone (materials delivered and inspected); the customer has a WeChat openid, so the
notice goes out as a WeChat template message (remove wechat_openid to see the $SMS_PROVIDER SMS,
or use "o-unsubscribed" to see the fallback from WeChat to SMS):

curl -s -X POST http://127.0.0.1:$PORT/v1/triggers \\
  -H 'Authorization: Bearer demo-trigger-token-change-me' \\
  -H 'Content-Type: application/json' \\
  -d '{"idempotency_key":"demo-$(date +%s)","milestone":"material_inspection","occurred_at":"$NOW",
       "project":{"id":"P-2026-001","address":"上海市浦东新区锦绣路88弄6号1201室",
                  "staff":{"pm":{"name":"王建国","phone":"13900001111"}}},
       "customer":{"id":"C-001","name":"张伟","title":"先生","mobile":"13812345678",
                   "wechat_openid":"oDemoOpenid0001"}}'

Then see what the provider received:   tail -f $RUN/mock.jsonl
and the message states:                 curl -s -H 'Authorization: Bearer demo-cs-token-change-me-too' http://127.0.0.1:$PORT/v1/messages/1
Metrics: curl -s http://127.0.0.1:$PORT/metrics        Stop: Ctrl-C

Answer a survey: trigger "completion" (same curl, "milestone":"completion"); its survey link is in
the recorded WeChat message ("url") or SMS ("preview") in mock.jsonl:
  grep -o 'http://127.0.0.1:$PORT/s/[^"]*' $RUN/mock.jsonl | tail -1
Open it in a browser, answer 4 out of 10, then read the result and the complaint ticket it opened:
  curl -s -H 'Authorization: Bearer demo-cs-token-change-me-too' http://127.0.0.1:$PORT/v1/results
  curl -s -H 'Authorization: Bearer demo-cs-token-change-me-too' http://127.0.0.1:$PORT/v1/tickets
SMS replies: POST $CB/aliyun/reply (Aliyun SmsUp), WeChat: http://127.0.0.1:$PORT/wechat/callback

The huifang CLI (huifang --help; import a weekly follow-up list with huifang import FILE.csv):
  export HUIFANG_URL=http://127.0.0.1:$PORT HUIFANG_TOKEN=demo-cs-token-change-me-too
  $TOP/$BUILD/huifang results --state answered
  $TOP/$BUILD/huifang report milestones
  $TOP/$BUILD/huifang results --csv > results.csv    (opens in Excel / WPS)
MSG
if [ "$HOUR" -lt 8 ] || [ "$HOUR" -ge 21 ]; then
  cat <<MSG
Note: it is ${HOUR}h in Asia/Shanghai, outside the notice hours (08:00-21:00): the notice is
planned for the morning (see due_at in the answer) and surveys wait for the follow-up windows.
To watch it send now, restart with a clock inside the windows, e.g.
  HUIFANG_CLOCK_START=$(TZ=Asia/Shanghai date +%Y-%m-%d)T15:05:00+08:00 make run
MSG
fi
echo
wait "$DAEMON_PID"
