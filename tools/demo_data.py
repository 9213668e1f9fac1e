#!/usr/bin/env python3
"""Demo data for `make run`: what a morning of huifang looks like, so a
customer-service person who signs in to the console sees results and
tickets, and the demo PM (demo-pm-token-change-me, 王建国) has projects on
the /pm page.

It goes through the real API only: triggers with the demo ERP token
(POST /v1/triggers), then the customers' answers through the survey page
(POST /s/<signed token>, the link the customer would have received). One
answer scores 4 of 10, which opens a complaint ticket with its clocks.
Running it again changes nothing (the same idempotency keys; a survey
already answered is only amended).

    tools/demo_data.py PORT DB_PATH    (survey secret in HUIFANG_SURVEY_SECRET)
"""

import datetime
import hashlib
import hmac
import http.client
import json
import os
import sqlite3
import sys
import urllib.parse

TRIGGER_TOKEN = "demo-trigger-token-change-me"
CST = datetime.timezone(datetime.timedelta(hours=8))

WANG = {"name": "王建国", "phone": "13900001111"}
LIU = {"name": "刘强", "phone": "13900003333"}
STAFF = {"designer": {"name": "李设计"}, "foreman": {"name": "赵工长", "phone": "13900002222"},
         "supervisor": {"name": "钱监理"}}

PROJECTS = [
    # (project, address, pm, customer id, name, title, mobile, openid)
    ("P-2026-001", "上海市浦东新区锦绣路88弄6号1201室", WANG, "C-001", "张伟", "先生",
     "13812345678", "oDemoOpenid0001"),
    ("P-2026-002", "上海市徐汇区漕溪北路200号5栋302室", WANG, "C-002", "李娜", "女士",
     "13912345679", None),
    ("P-2026-003", "上海市闵行区七莘路1500弄12号801室", LIU, "C-003", "陈静", "女士",
     "13712345670", "oDemoOpenid0003"),
]
# (project, milestone, answers posted on the survey page or None)
EVENTS = [
    ("P-2026-001", "material_inspection",
     {"materials_ok": "yes", "usage_explained": "yes", "comment": "监理讲得很清楚，谢谢。"}),
    ("P-2026-002", "material_inspection", {"materials_ok": "yes", "usage_explained": "no"}),
    ("P-2026-002", "completion",
     {"score": "4", "materials_ok": "yes", "team_ok": "no", "response": "不及时",
      "wechat_report": "一般", "suggestion": "收尾拖了一周，保洁也没做干净。"}),
    ("P-2026-003", "hidden_works_acceptance",
     {"acceptance_ok": "yes", "standard_explained": "yes"}),
    ("P-2026-003", "completion",
     {"score": "9", "materials_ok": "yes", "team_ok": "yes", "response": "很及时",
      "wechat_report": "很方便", "suggestion": "工长很负责。"}),
]


def request(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def main():
    port, db = int(sys.argv[1]), sys.argv[2]
    secret = os.environ["HUIFANG_SURVEY_SECRET"]
    now = datetime.datetime.now(CST).replace(microsecond=0)
    projects = {p[0]: p for p in PROJECTS}
    answered = 0
    for i, (pid, milestone, answers) in enumerate(EVENTS):
        _, address, pm, cid, name, title, mobile, openid = projects[pid]
        customer = {"id": cid, "name": name, "title": title, "mobile": mobile}
        if openid:
            customer["wechat_openid"] = openid
        body = {"idempotency_key": "demo-%s-%s" % (pid, milestone), "milestone": milestone,
                "occurred_at": (now - datetime.timedelta(hours=len(EVENTS) - i)).isoformat(),
                "project": {"id": pid, "address": address, "kickoff_date": "2026-11-02",
                            "staff": dict(STAFF, pm=pm)},
                "customer": customer}
        status, data = request(port, "POST", "/v1/triggers", json.dumps(body, ensure_ascii=False)
                               .encode(), {"Authorization": "Bearer " + TRIGGER_TOKEN,
                                           "Content-Type": "application/json"})
        if status not in (200, 202):
            sys.exit("demo data: trigger %s %s: HTTP %d %s" % (pid, milestone, status, data[:200]))
        if not answers:
            continue
        survey = [m for m in json.loads(data)["messages"] if m["kind"] == "survey"][0]
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT expires_at FROM surveys WHERE message_id = ?",
                               (survey["id"],)).fetchone()
        msg = "%d.%d" % (survey["id"], row[0])
        mac = hmac.new(secret.encode(), msg.encode(), hashlib.sha256).hexdigest()[:32]
        form = urllib.parse.urlencode(dict(answers, _="1")).encode()
        status, data = request(port, "POST", "/s/%s.%s" % (msg, mac), form,
                               {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            sys.exit("demo data: survey answer %s %s: HTTP %d" % (pid, milestone, status))
        answered += 1
    print("demo data: %d triggers, %d surveys answered (one complaint ticket)"
          % (len(EVENTS), answered))


if __name__ == "__main__":
    main()
