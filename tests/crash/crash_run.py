#!/usr/bin/env python3
"""Crash consistency: SIGKILL huifangd at random instants under load and
prove that nothing accepted is lost, nothing is sent twice, nothing is sent
outside its window and the store holds no orphan rows.

One mock provider (WeChat, Aliyun or Tencent SMS, over their real
protocols) and one huifangd on its own database. Client threads push
triggers (material_inspection: a notice and a same-day survey, each trigger
for its own customer); a trigger that got no answer (connection refused or
reset, 503) is retried with the same idempotency key and body until it is
answered. Meanwhile the daemon is killed with SIGKILL at random moments and
started again on the same database (the test clock carries on where it
was). When every trigger has been answered and every message settled, the
daemon is stopped with SIGTERM (it must exit 0) and three views are
compared:

  - what the clients got 2xx for (the planned messages of each answer),
  - what the store holds (messages, attempts, surveys; orphan checks,
    PRAGMA integrity_check and foreign_key_check),
  - what the mock received (dedup ids hf-<message id>: WeChat
    client_msg_id, Aliyun OutId, Tencent SessionContext), with its own
    receive times, checked against each message's window and due time.

Then two short phases kill the daemon while SMS delivery receipts and
survey-page submissions are coming in; the provider's retry (the same
receipt again) and the customer's resubmission (the same form again) must
leave exactly one stored receipt / answer each.

Provider-side duplicates: WeChat deduplicates client_msg_id, so a repeat
there is absorbed (counted as "absorbed"). Aliyun and Tencent do not
deduplicate: a repeated OutId / SessionContext is an SMS delivered twice.
The mock pushes a delivery receipt for every accepted SMS (and pushes again
while huifangd is down), and huifangd keeps an SMS that a kill cut short
waiting dispatch.receipt_grace (5 s here): with Aliyun the receipt, which
names the OutId, settles it; Tencent's receipt names only its SerialNo, so
huifangd then pulls the number's statuses (PullSmsSendStatusByPhoneNumber,
answered by the mock from what it accepted) and the entry with our
SessionContext settles it. With either provider no SMS may arrive twice
(with --receipt-grace 0 repeats are allowed: the run then checks each is a
message a kill cut short, its attempt counted without an attempt row, and
that there are no more than the sends the daemon recovered from "sending"
at its starts, "recovered N messages"). With Aliyun every SMS must also
end delivered by its receipt; a Tencent push that overtakes the commit of
its send's SerialNo matches nothing, so there some stay "sent".

With --pg (or under the e2e suite's HUIFANG_TEST_PG=1) the daemon runs on
a PostgreSQL database instead of a SQLite file: --pg starts a throwaway
server with tests/pg_server.sh and stops it at the end. PostgreSQL has no
PRAGMA integrity_check / foreign_key_check: there the foreign keys are
enforced on every write, and the orphan checks below run as they are.

Usage (from the repository root, after `make all`):
    python3 tests/crash/crash_run.py --triggers 20000 --kills 50
    python3 tests/crash/crash_run.py --triggers 20000 --kills 50 --pg
    python3 tests/crash/crash_run.py --triggers 300 --kills 5 --sms tencent
    python3 tests/crash/crash_run.py --receipt-grace 0   # without the receipt wait
Exit status 0 when every check holds; the summary is printed as JSON.
tests/e2e/test_13_crash.py runs the CI size.
"""

import argparse
import datetime
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import harness  # noqa: E402
from harness import (CST, SLOW, TUESDAY_1505, Daemon, Mock, deep_merge, epoch,  # noqa: E402
                     trigger_body)
from test_06_channels import (CB_TOKEN, SECRETS_ENV, channel_overrides,  # noqa: E402
                              mock_config, survey_token)

ALIYUN_SEND = "/aliyun/"
TENCENT_SEND = "/tencent/"
WECHAT_SEND = "/wechat/cgi-bin/message/template/send"
# Survey and notice windows of the harness' config (the shipped defaults).
WINDOWS = {"survey": [("10:30", "11:40"), ("15:00", "18:00")], "notice": [("08:00", "21:00")]}
RECOVERED_RE = re.compile(r"recovered (\d+) messages that were in flight")
FINAL = ("sent", "delivered", "failed", "expired", "cancelled")


def log(msg):
    sys.stderr.write("[crash_run %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def free_port():
    """A port nothing listens on right now: huifangd is restarted on the
    same one, so the mock's receipt pushes keep their address."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def mobile_of(i):
    return "138%08d" % (10000000 + i)


class Run:
    """One crash run. @triggers, @kills, @clients: sizes; @sms: "aliyun" or
    "tencent"; @wechat_share: fraction of customers with an openid (WeChat),
    the others get SMS."""

    def __init__(self, triggers=300, kills=5, clients=4, sms="aliyun", wechat_share=0.5,
                 seed=None, phase_kills=2, verbose=True, receipt_grace=5):
        self.n = triggers
        self.kills = kills
        self.clients = clients
        self.sms = sms
        self.wechat_share = wechat_share
        self.phase_kills = phase_kills
        self.receipt_grace = receipt_grace
        self.seed = seed if seed is not None else random.randrange(1 << 30)
        self.rnd = random.Random(self.seed)
        self.verbose = verbose
        self.base_clock = epoch(TUESDAY_1505)  # a working day, both windows open
        self.t0 = None
        self.mock = None
        self.d = None
        self.lock = threading.Lock()
        self.up = threading.Event()      # set while the daemon is accepting
        self.answers = {}                # idempotency key -> (status, body)
        self.bad = []                    # unexpected answers (non-retryable)
        self.retries = 0
        self.progress = 0
        self.kill_log = []               # (phase, elapsed s, answered so far)
        self.recovered = 0
        self.problems = []

    def note(self, msg):
        if self.verbose:
            log(msg)

    # ---- processes -------------------------------------------------------

    def clock(self):
        """The test clock now: the base plus the wall time since the start,
        so every restart carries on where the killed run was."""
        t = self.base_clock + (time.monotonic() - self.t0)
        return datetime.datetime.fromtimestamp(int(t), CST).isoformat()

    def start(self):
        self.t0 = time.monotonic()
        port = free_port()
        cb = "http://127.0.0.1:%d/callbacks/%s" % (port, CB_TOKEN)
        # The providers push a delivery receipt for every accepted SMS, and
        # push again while huifangd is down (the mock retries for ~20 s).
        self.mock = Mock(clock=TUESDAY_1505, config=deep_merge(mock_config(), {
            "aliyun": {"receipt_url": cb + "/aliyun/report"},
            "tencent": {"status_url": cb + "/tencent/status"}}))
        over = deep_merge(channel_overrides(self.mock, self.sms), {
            # Clients and the mock's pushes all come from 127.0.0.1: the
            # per-address limit of public endpoints is not under test here.
            "listen": {"port": port, "public_rate": 0},
            # An SMS cut short by a kill waits this long for its receipt
            # before it is sent again (the default is 2 minutes).
            "dispatch": {"max_in_flight": 32, "max_attempts": 8, "batch_size": 256,
                         "receipt_grace": "%ds" % self.receipt_grace},
            "log_level": "info",
        })
        self.d = Daemon(mock=self.mock, clock=self.clock(), overrides=over, env=SECRETS_ENV,
                        start=False)
        self.d.start(clock=self.clock())
        self.up.set()

    def kill_and_restart(self, phase):
        self.up.clear()
        self.d.kill9()
        with self.lock:
            self.kill_log.append((phase, round(time.monotonic() - self.t0, 2), len(self.answers)))
        self.d.start(clock=self.clock())
        self.up.set()

    def stop(self):
        if self.d:
            self.d.cleanup()
        if self.mock:
            self.mock.stop()

    # ---- clients ---------------------------------------------------------

    def body(self, i):
        cust = {"id": "CR-%06d" % i, "name": "客户%d" % i, "title": "女士",
                "mobile": mobile_of(i)}
        if self.rnd_share[i]:
            cust["wechat_openid"] = "oCrash%010d" % i
        return trigger_body("material_inspection", occurred_at=self.clock(),
                            key="crash-%d-%06d" % (self.seed, i), customer=cust,
                            project={"id": "CRP-%06d" % i})

    def post(self, port, raw, headers, path="/v1/triggers"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10 * SLOW)
        try:
            conn.request("POST", path, body=raw, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def until_answered(self, raw, headers, path, ok):
        """POST @raw until an answer that is not a crash symptom arrives:
        connection refused/reset, no answer, or 503 are retried with the
        same body once the daemon is up again. Returns (status, body)."""
        while True:
            self.up.wait()
            port = self.d.port
            try:
                status, data = self.post(port, raw, headers, path)
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.retries += 1
                time.sleep(0.01)
                continue
            if status == 503 or (status not in ok and not self.up.is_set()):
                with self.lock:
                    self.retries += 1
                time.sleep(0.01)
                continue
            return status, data

    def client(self, queue):
        headers = {"Content-Type": "application/json",
                   "Authorization": "Bearer " + self.d_token}
        while True:
            with self.lock:
                if not queue:
                    return
                i = queue.pop()
            b = self.body(i)
            raw = json.dumps(b, ensure_ascii=False).encode()
            status, data = self.until_answered(raw, headers, "/v1/triggers", (200, 202))
            with self.lock:
                if status in (200, 202):
                    self.answers[b["idempotency_key"]] = (status, json.loads(data), i)
                else:
                    self.bad.append((b["idempotency_key"], status, data[:300]))
                self.progress += 1

    # ---- the main phase --------------------------------------------------

    def intake_phase(self):
        from harness import TRIGGER_TOKEN
        self.d_token = TRIGGER_TOKEN
        self.rnd_share = [self.rnd.random() < self.wechat_share for _ in range(self.n)]
        queue = list(range(self.n))
        self.rnd.shuffle(queue)
        # Most kills fall while triggers arrive (at random points of the
        # stream), the rest while the accepted messages are being sent.
        during = self.kills - self.kills // 5
        points = sorted(self.rnd.randrange(1, max(2, self.n)) for _ in range(during))
        threads = [threading.Thread(target=self.client, args=(queue,), daemon=True)
                   for _ in range(self.clients)]
        for t in threads:
            t.start()
        for p in points:
            while self.progress < p and any(t.is_alive() for t in threads):
                time.sleep(0.002)
            time.sleep(self.rnd.random() * 0.05)
            self.kill_and_restart("intake")
        for t in threads:
            t.join()
        for _ in range(self.kills - during):
            # While sends are in flight: wait for some to be pending still.
            time.sleep(self.rnd.random() * 0.3)
            self.kill_and_restart("sending")
        self.note("intake done: %d answered, %d retries, %d kills"
                  % (len(self.answers), self.retries, len(self.kill_log)))

    def wait_settled(self, timeout):
        deadline = time.monotonic() + timeout * SLOW
        while True:
            left = self.d.scalar("SELECT COUNT(*) FROM messages WHERE state NOT IN (%s)"
                                 % ",".join("'%s'" % s for s in FINAL))
            if left == 0:
                return
            if time.monotonic() > deadline:
                self.problems.append("%d messages not settled after %d s" % (left, timeout))
                return
            time.sleep(0.2)

    def wait_receipts(self, timeout):
        """Until every SMS is settled by its receipt (the mock pushes one
        per accepted request, ~200 ms after it)."""
        if self.sms != "aliyun":
            # Tencent's status push names only its SerialNo, which huifang
            # learns when it commits the send's answer: a push that
            # overtakes that commit (under load, or for a send a kill cut
            # short) matches nothing and is kept unmatched (README), so not
            # every Tencent SMS is settled by a receipt.
            time.sleep(1)
            return
        deadline = time.monotonic() + timeout * SLOW
        while True:
            left = self.d.scalar("SELECT COUNT(*) FROM messages WHERE channel = 'sms' AND "
                                 "state != 'delivered'")
            if left == 0:
                return
            if time.monotonic() > deadline:
                self.problems.append("%d SMS without a receipt after %d s" % (left, timeout))
                return
            time.sleep(0.2)

    # ---- receipts and survey submissions under kills --------------------

    def receipt_payload(self, row):
        if self.sms == "aliyun":
            return "/callbacks/%s/aliyun/report" % CB_TOKEN, [{
                "phone_number": row["mobile"], "send_time": "2026-11-24 15:05:00",
                "report_time": "2026-11-24 15:05:01", "success": True,
                "err_code": "DELIVERED", "err_msg": "用户接收成功(crash run)", "sms_size": "1",
                "biz_id": row["provider_id"], "out_id": "hf-%d" % row["id"]}]
        return "/callbacks/%s/tencent/status" % CB_TOKEN, [{
            "user_receive_time": "2026-11-24 15:05:01", "nationcode": "86",
            "mobile": row["mobile"], "report_status": "SUCCESS", "errmsg": "DELIVRD",
            "description": "用户短信送达成功(crash run)", "sid": row["provider_id"]}]

    def run_with_kills(self, jobs, phase):
        """Run callables @jobs on the client threads while killing the
        daemon @self.phase_kills times at random points."""
        queue = list(jobs)
        done = [0]

        def worker():
            while True:
                with self.lock:
                    if not queue:
                        return
                    job = queue.pop()
                job()
                with self.lock:
                    done[0] += 1
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.clients)]
        for t in threads:
            t.start()
        points = sorted(self.rnd.randrange(1, max(2, len(jobs))) for _ in range(self.phase_kills))
        for p in points:
            while done[0] < p and any(t.is_alive() for t in threads):
                time.sleep(0.001)
            self.kill_and_restart(phase)
        for t in threads:
            t.join()

    def receipts_phase(self, limit):
        rows = self.d.rows("SELECT m.id, m.provider_id, c.mobile FROM messages m "
                           "JOIN triggers t ON t.id = m.trigger_id "
                           "JOIN customers c ON c.id = t.customer_id "
                           "WHERE m.channel = 'sms' AND m.state IN ('sent', 'delivered') "
                           "ORDER BY m.id LIMIT ?", limit)
        before = self.receipt_counts()
        for row in rows:
            row["receipts_before"] = before.get(row["id"], 0)
        results = {}

        def job_for(row):
            path, payload = self.receipt_payload(row)
            raw = json.dumps(payload, ensure_ascii=False).encode()

            def job():
                # The provider repeats a push until it gets a 2xx.
                status, _ = self.until_answered(raw, {"Content-Type": "application/json"},
                                                path, (200,))
                with self.lock:
                    results[row["id"]] = status
            return job
        self.run_with_kills([job_for(r) for r in rows], "receipts")
        for mid, status in results.items():
            if status != 200:
                self.problems.append("receipt for message %d answered %d" % (mid, status))
        return rows

    def surveys_phase(self, limit):
        rows = self.d.rows("SELECT s.message_id AS id, s.expires_at FROM surveys s "
                           "JOIN messages m ON m.id = s.message_id "
                           "WHERE m.state IN ('sent','delivered') ORDER BY s.message_id LIMIT ?",
                           limit)
        results = {}

        def job_for(row):
            tok = survey_token(row["id"], row["expires_at"])

            def job():
                # The customer opens the page (the form carries its
                # submission id), answers and submits; a submit that gets
                # no page back is submitted again, as a browser would.
                while True:
                    self.up.wait()
                    try:
                        conn = http.client.HTTPConnection("127.0.0.1", self.d.port,
                                                          timeout=10 * SLOW)
                        conn.request("GET", "/s/" + tok)
                        resp = conn.getresponse()
                        page = resp.read().decode()
                        conn.close()
                    except (OSError, http.client.HTTPException):
                        time.sleep(0.01)
                        continue
                    if resp.status == 200:
                        break
                    time.sleep(0.01)
                m = re.search(r'name="n" value="([0-9a-f]+)"', page)
                form = "_=1&materials_ok=yes&usage_explained=yes&comment=%E5%BE%88%E5%A5%BD"
                if m:
                    form += "&n=" + m.group(1)
                status, _ = self.until_answered(
                    form.encode(), {"Content-Type": "application/x-www-form-urlencoded"},
                    "/s/" + tok, (200,))
                with self.lock:
                    results[row["id"]] = status
            return job
        self.run_with_kills([job_for(r) for r in rows], "surveys")
        for sid, status in results.items():
            if status != 200:
                self.problems.append("survey %d submission answered %d" % (sid, status))
        return rows

    # ---- checks ----------------------------------------------------------

    def receipt_counts(self):
        """{message id: receipts stored}, in one query (one psql run on
        PostgreSQL rather than one per message)."""
        return {r["message_id"]: r["n"] for r in self.d.rows(
            "SELECT message_id, COUNT(*) AS n FROM receipts WHERE message_id IS NOT NULL "
            "GROUP BY message_id")}

    def in_window(self, window, ts):
        lt = datetime.datetime.fromtimestamp(ts, CST)
        hm = lt.strftime("%H:%M")
        spans = WINDOWS.get(window)
        if spans is None:
            return True  # "any"
        # 2026-11-24 is a working day (Tuesday) and the run stays in it.
        return any(a <= hm < b for a, b in spans)

    def check(self, receipt_rows, survey_rows):
        d = self.d
        p = self.problems
        if self.bad:
            p.append("%d triggers got an unexpected answer, e.g. %r" % (len(self.bad),
                                                                        self.bad[:3]))
        planned = {}
        for key, (status, body, i) in self.answers.items():
            for m in body.get("messages", []):
                planned[m["id"]] = (key, m)
        msgs = {r["id"]: r for r in d.rows("SELECT id, trigger_id, kind, window, state, channel,"
                                           " due_at, expires_at, attempts FROM messages")}
        trig = {r["idem_key"]: r["id"] for r in d.rows("SELECT id, idem_key FROM triggers")}
        # Every trigger answered 2xx is stored, and nothing else is.
        missing_trig = [k for k in self.answers if k not in trig]
        extra_trig = [k for k in trig if k not in self.answers]
        if missing_trig:
            p.append("%d accepted triggers missing from the store, e.g. %s"
                     % (len(missing_trig), missing_trig[:3]))
        if extra_trig:
            p.append("%d stored triggers nobody got an answer for" % len(extra_trig))
        # Planned == stored messages.
        lost = sorted(set(planned) - set(msgs))
        unplanned = sorted(set(msgs) - set(planned))
        if lost:
            p.append("%d planned messages not in the store: %s" % (len(lost), lost[:5]))
        if unplanned:
            p.append("%d stored messages no answer planned: %s" % (len(unplanned), unplanned[:5]))
        # What the mock received.
        recs = self.mock.requests()
        self.pulls = 0
        if self.sms == "tencent":
            status, body = self.mock.request("GET", "/_mock/tencent/pulls")
            self.pulls = body["pulls"] if status == 200 else -1
        by_key = {}
        for r in recs:
            k = r.get("idempotency_key")
            if k and k.startswith("hf-"):
                by_key.setdefault(int(k[3:]), []).append(r)
        undelivered = [mid for mid in planned if mid not in by_key]
        if undelivered:
            p.append("%d accepted messages never reached the provider: %s"
                     % (len(undelivered), sorted(undelivered)[:5]))
        not_sent = [mid for mid, r in msgs.items() if r["state"] not in ("sent", "delivered")]
        if not_sent:
            p.append("%d messages not sent: %s" % (len(not_sent), [
                (mid, msgs[mid]["state"]) for mid in not_sent[:5]]))
        absorbed = sms_twice = 0
        twice_ids = []
        early = outside = 0
        for mid, rs in by_key.items():
            if mid not in msgs:
                p.append("the provider got hf-%d, which the store does not hold" % mid)
                continue
            extra = len(rs) - 1
            if extra:
                if rs[0]["path"].startswith("/wechat"):
                    absorbed += extra   # WeChat deduplicates client_msg_id
                else:
                    sms_twice += extra
                    twice_ids.append(mid)
            for r in rs:
                ts = int(r["ts_ms"]) / 1000.0
                if ts + 1.0 < msgs[mid]["due_at"]:
                    early += 1
                if not self.in_window(msgs[mid]["window"], ts):
                    outside += 1
        if early:
            p.append("%d sends before their due time" % early)
        if outside:
            p.append("%d sends outside their window" % outside)
        if sms_twice and self.receipt_grace > 0:
            p.append("%d %s SMS sent twice despite the receipt wait%s: %s"
                     % (sms_twice, self.sms, " and the status pull" if self.sms == "tencent"
                        else "", twice_ids[:5]))
        if sms_twice > self.recovered:
            p.append("%d SMS sent twice, more than the %d requests in flight at the kills"
                     % (sms_twice, self.recovered))
        # Every message the provider got more than once must be one whose
        # attempt a kill cut short: such an attempt is counted (messages.
        # attempts) but has no row in attempts. A repeat of any other
        # message would be a real bug (a resend of something committed).
        repeated = [mid for mid, rs in by_key.items() if len(rs) > 1 and mid in msgs]
        att_rows = {r["message_id"]: r["n"] for r in d.rows(
            "SELECT message_id, COUNT(*) AS n FROM attempts GROUP BY message_id")}
        not_cut = [mid for mid in repeated if msgs[mid]["attempts"] <= att_rows.get(mid, 0)]
        if not_cut:
            p.append("%d messages repeated at the provider without a cut attempt: %s"
                     % (len(not_cut), not_cut[:5]))
        # Orphans and integrity.
        orphan_sql = {
            "messages without trigger":
                "SELECT COUNT(*) FROM messages m LEFT JOIN triggers t ON t.id = m.trigger_id "
                "WHERE t.id IS NULL",
            "triggers without messages":
                "SELECT COUNT(*) FROM triggers t WHERE NOT EXISTS "
                "(SELECT 1 FROM messages m WHERE m.trigger_id = t.id)",
            "triggers without project/customer":
                "SELECT COUNT(*) FROM triggers t LEFT JOIN projects p ON p.id = t.project_id "
                "LEFT JOIN customers c ON c.id = t.customer_id WHERE p.id IS NULL OR c.id IS NULL",
            "attempts without message":
                "SELECT COUNT(*) FROM attempts a LEFT JOIN messages m ON m.id = a.message_id "
                "WHERE m.id IS NULL",
            "surveys without message":
                "SELECT COUNT(*) FROM surveys s LEFT JOIN messages m ON m.id = s.message_id "
                "WHERE m.id IS NULL",
            "survey messages without survey":
                "SELECT COUNT(*) FROM messages m WHERE m.kind = 'survey' AND m.survey_id IS NULL "
                "AND NOT EXISTS (SELECT 1 FROM surveys s WHERE s.message_id = m.id)",
            "answers without survey":
                "SELECT COUNT(*) FROM answers a WHERE a.message_id IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM surveys s WHERE s.message_id = a.message_id)",
            "receipts without message":
                "SELECT COUNT(*) FROM receipts r WHERE r.message_id IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM messages m WHERE m.id = r.message_id)",
            # A message whose send a kill cut short can be settled by the
            # provider's receipt alone; otherwise "sent" needs an attempt.
            "sent messages without attempt or receipt":
                "SELECT COUNT(*) FROM messages m WHERE m.state IN ('sent','delivered') AND NOT "
                "EXISTS (SELECT 1 FROM attempts a WHERE a.message_id = m.id) AND NOT EXISTS "
                "(SELECT 1 FROM receipts r WHERE r.message_id = m.id)",
            # An attempt cut short by a kill counts (store_requeue_inflight:
            # a message that kills the daemon every time must run out of
            # attempts) but has no row: more counted than recorded is fine.
            "attempts recorded but not counted":
                "SELECT COUNT(*) FROM messages m WHERE m.attempts < "
                "(SELECT COUNT(*) FROM attempts a WHERE a.message_id = m.id)",
        }
        orphans = {}
        for what, sql in orphan_sql.items():
            n = d.scalar(sql)
            orphans[what] = n
            if n:
                p.append("%d %s" % (n, what))
        if not d.pg_url:  # PostgreSQL checks its foreign keys on every write
            integrity = d.scalar("PRAGMA integrity_check")
            if integrity != "ok":
                p.append("integrity_check: %s" % integrity)
            fk = d.rows("PRAGMA foreign_key_check")
            if fk:
                p.append("foreign_key_check: %d rows, e.g. %r" % (len(fk), fk[:3]))
        # Receipts pushed by the provider (retried while huifangd was
        # down): every SMS delivered, one receipt per accepted request.
        sms_ids = [mid for mid, r in msgs.items() if r["channel"] == "sms"]
        phase_ids = {row["id"] for row in receipt_rows}  # got one more, below
        rcounts = self.receipt_counts()
        for mid in sms_ids:
            n = rcounts.get(mid, 0)
            want = len(by_key.get(mid, [])) + (mid in phase_ids)
            if self.sms == "aliyun" and (msgs[mid]["state"] != "delivered" or n != want):
                p.append("SMS %d: state %s, %d receipts for %d accepted requests"
                         % (mid, msgs[mid]["state"], n, want))
        # The receipts phase: each receipt, repeated by the "provider" until
        # answered across kills, is stored once.
        for row in receipt_rows:
            n = rcounts.get(row["id"], 0)
            st = msgs[row["id"]]["state"] if row["id"] in msgs else None
            if n != row["receipts_before"] + 1 or st != "delivered":
                p.append("message %d: %d receipts stored (%d before), state %s"
                         % (row["id"], n, row["receipts_before"], st))
        # Survey submissions: one answer per survey, the survey answered.
        acounts = {r["message_id"]: r["n"] for r in d.rows(
            "SELECT message_id, COUNT(*) AS n FROM answers WHERE message_id IS NOT NULL "
            "GROUP BY message_id")}
        sstates = {r["message_id"]: r["state"] for r in d.rows(
            "SELECT message_id, state FROM surveys")}
        for row in survey_rows:
            n = acounts.get(row["id"], 0)
            st = sstates.get(row["id"])
            if n != 1 or st != "answered":
                p.append("survey %d: %d answers stored, state %s" % (row["id"], n, st))
        return {
            "seed": self.seed, "sms": self.sms, "store": "postgresql" if d.pg_url else "sqlite",
            "triggers": self.n, "accepted": len(self.answers),
            "accepted_202": sum(1 for s, _, _ in self.answers.values() if s == 202),
            "answered_200_replay": sum(1 for s, _, _ in self.answers.values() if s == 200),
            "client_retries": self.retries,
            "kills": len(self.kill_log),
            "kills_by_phase": {ph: sum(1 for k in self.kill_log if k[0] == ph)
                               for ph in ("intake", "sending", "receipts", "surveys")},
            "messages_planned": len(planned), "messages_stored": len(msgs),
            "delivered": sum(1 for mid in planned if mid in by_key),
            "provider_requests": len(recs),
            "wechat_repeats_absorbed": absorbed,
            "sms_sent_twice": sms_twice, "sms_sent_twice_ids": twice_ids[:20],
            "repeats_without_cut_attempt": len(not_cut),
            "recovered_in_flight": self.recovered,
            "status_pulls": self.pulls,
            # SMS the provider took whose receipt never settled them (a push
            # lost while huifangd was down is not repeated by the mock)
            "sms_left_sent": sum(1 for r in msgs.values()
                                 if r["channel"] == "sms" and r["state"] == "sent"),
            "sends_early": early, "sends_outside_window": outside,
            "orphans": orphans,
            "receipts_checked": len(receipt_rows), "surveys_checked": len(survey_rows),
        }

    def run(self):
        t_start = time.monotonic()
        try:
            self.start()
            self.intake_phase()
            self.wait_settled(120 + self.n / 50)
            self.wait_receipts(60)
            receipts = self.receipts_phase(max(20, min(200, self.n // 10)))
            surveys = self.surveys_phase(max(20, min(200, self.n // 10)))
            self.wait_settled(60)
            self.wait_receipts(60)
            self.d.stop()  # SIGTERM: must exit 0
            self.recovered = sum(int(x) for x in RECOVERED_RE.findall(self.d.read_log()))
            summary = self.check(receipts, surveys)
        except BaseException:
            if self.d:
                sys.stderr.write(self.d.read_log()[-20000:])
            raise
        finally:
            log_text = self.d.read_log() if self.d else ""
            try:
                self.stop()
            except AssertionError as e:
                self.problems.append(str(e)[:2000])
        summary["seconds"] = round(time.monotonic() - t_start, 1)
        summary["problems"] = self.problems
        summary["log_bytes"] = len(log_text)
        self.log_text = log_text
        return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--triggers", type=int, default=300)
    ap.add_argument("--kills", type=int, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--sms", choices=("aliyun", "tencent"), default="aliyun")
    ap.add_argument("--wechat-share", type=float, default=0.5)
    ap.add_argument("--phase-kills", type=int, default=2,
                    help="kills during the receipts phase and again during the surveys phase")
    ap.add_argument("--receipt-grace", type=int, default=5,
                    help="dispatch.receipt_grace in seconds (0: resend cut-short SMS at once)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--pg", action="store_true",
                    help="run huifangd on PostgreSQL (a throwaway server, tests/pg_server.sh)")
    a = ap.parse_args()
    pg_dir = None
    if a.pg:
        script = os.path.join(HERE, "..", "pg_server.sh")
        out = subprocess.run([script, "start"], capture_output=True, text=True, check=True)
        pg_dir, url = out.stdout.split("\n")[:2]
        harness.PG_URL = url  # every Daemon gets its own database on it
        log("PostgreSQL at %s (%s)" % (url, pg_dir))
    try:
        r = Run(triggers=a.triggers, kills=a.kills, clients=a.clients, sms=a.sms,
                wechat_share=a.wechat_share, seed=a.seed, phase_kills=a.phase_kills,
                receipt_grace=a.receipt_grace)
        summary = r.run()
    finally:
        if pg_dir:
            subprocess.run([os.path.join(HERE, "..", "pg_server.sh"), "stop", pg_dir])
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0 if not summary["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
