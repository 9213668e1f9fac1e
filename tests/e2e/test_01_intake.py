"""POST /v1/triggers end to end: validation, idempotency, auth, limits,
routing, and what /healthz and /metrics say about it.

The daemon's clock starts at Tuesday 2026-11-24 15:05 (+08:00) and the
triggers happened "at 15:30", so every planned message is due in the
future: nothing is sent while these tests run and the rows stay exactly as
intake wrote them.
"""

import http.client
import json
import socket
import threading
import time
import unittest

from harness import (CS_TOKEN, ADMIN_TOKEN, SLOW, TRIGGER_TOKEN, TUESDAY_1505, VALGRIND,
                     E2ETestCase, epoch, trigger_body)

OCCURRED = "2026-11-24T15:30:00+08:00"


def body(milestone="completion", occurred_at=OCCURRED, **over):
    return trigger_body(milestone, occurred_at=occurred_at, **over)


class IntakeTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock()
        self.d = self.start_daemon(self.mock, clock=TUESDAY_1505)

    def assertNothingStored(self):
        self.assertEqual(self.d.counts(), {"customers": 0, "projects": 0, "project_staff": 0,
                                           "triggers": 0, "messages": 0, "attempts": 0})

    # ---- accepted ------------------------------------------------------------

    def test_completion_trigger_202_with_three_planned_messages(self):
        b = body()
        status, resp, _ = self.d.post_trigger(b)
        self.assertEqual(status, 202, resp)
        self.assertEqual(resp, {
            "trigger_id": 1,
            "idempotency_key": b["idempotency_key"],
            "milestone": "completion",
            "messages": [
                {"id": 1, "message": "notice", "kind": "notice", "to": "customer",
                 "channel": "webhook", "due_at": "2026-11-24T15:30:00+08:00",
                 "expires_at": "2026-11-26T15:30:00+08:00"},
                {"id": 2, "message": "survey", "kind": "survey", "to": "customer",
                 "channel": "webhook", "due_at": "2026-11-24T15:30:00+08:00",
                 "expires_at": "2026-12-01T15:30:00+08:00"},
                # The day after, in the next survey window: Wednesday 10:30.
                {"id": 3, "message": "rating_confirm", "kind": "survey", "to": "customer",
                 "channel": "webhook", "due_at": "2026-11-25T10:30:00+08:00",
                 "expires_at": "2026-12-02T10:30:00+08:00"},
            ],
            # Warranty follow-ups: the whole works for two years, plumbing
            # and wiring for five (the catalogue's completion schedules).
            "scheduled": [
                {"id": 4 + i, "milestone": "warranty_followup", "occurrence": occ,
                 "message": "survey", "kind": "survey", "to": "customer", "channel": "webhook",
                 "due_at": due + "T10:30:00+08:00", "expires_at": exp + "T10:30:00+08:00"}
                for i, (occ, due, exp) in enumerate([
                    (1, "2026-12-24", "2026-12-31"), (2, "2027-05-24", "2027-05-31"),
                    (3, "2027-11-24", "2027-12-01"), (4, "2028-11-23", "2028-11-30"),
                    (1, "2029-11-23", "2029-11-30"), (2, "2030-11-25", "2030-12-02"),
                    (3, "2031-11-24", "2031-12-01")])
            ]})

        trig = self.d.rows("SELECT * FROM triggers")
        self.assertEqual(len(trig), 1)
        self.assertEqual(trig[0]["idem_key"], b["idempotency_key"])
        self.assertEqual(trig[0]["milestone"], "completion")
        self.assertEqual(trig[0]["project_id"], "P-2026-0042")
        self.assertEqual(trig[0]["customer_id"], "C-0042")
        self.assertEqual(trig[0]["occurred_at"], epoch(OCCURRED))
        self.assertEqual(trig[0]["token_name"], "erp")
        self.assertEqual(len(trig[0]["body_hash"]), 64)

        msgs = self.d.rows("SELECT id, trigger_id, milestone, message, kind, recipient, channel,"
                           " window, state, due_at, expires_at, next_attempt_at, attempts"
                           " FROM messages WHERE milestone = 'completion' ORDER BY id")
        self.assertEqual(msgs, [
            {"id": 1, "trigger_id": 1, "milestone": "completion", "message": "notice",
             "kind": "notice", "recipient": "customer", "channel": "webhook", "window": "notice",
             "state": "pending", "due_at": epoch("2026-11-24T15:30:00+08:00"),
             "expires_at": epoch("2026-11-26T15:30:00+08:00"),
             "next_attempt_at": epoch("2026-11-24T15:30:00+08:00"), "attempts": 0},
            {"id": 2, "trigger_id": 1, "milestone": "completion", "message": "survey",
             "kind": "survey", "recipient": "customer", "channel": "webhook", "window": "survey",
             "state": "pending", "due_at": epoch("2026-11-24T15:30:00+08:00"),
             "expires_at": epoch("2026-12-01T15:30:00+08:00"),
             "next_attempt_at": epoch("2026-11-24T15:30:00+08:00"), "attempts": 0},
            {"id": 3, "trigger_id": 1, "milestone": "completion", "message": "rating_confirm",
             "kind": "survey", "recipient": "customer", "channel": "webhook", "window": "survey",
             "state": "pending", "due_at": epoch("2026-11-25T10:30:00+08:00"),
             "expires_at": epoch("2026-12-02T10:30:00+08:00"),
             "next_attempt_at": epoch("2026-11-25T10:30:00+08:00"), "attempts": 0},
        ])
        cust = self.d.rows("SELECT id, name, title, mobile FROM customers")
        self.assertEqual(cust, [{"id": "C-0042", "name": "陈", "title": "女士",
                                 "mobile": "13812345678"}])
        staff = self.d.rows("SELECT role, name, phone FROM project_staff ORDER BY role")
        self.assertEqual([s["role"] for s in staff], ["designer", "foreman", "pm", "supervisor"])
        self.assertEqual(self.mock.stats()["received"], 0)

    def test_mobile_is_normalized(self):
        b = body(customer={"mobile": "+8613812345678"})
        status, resp, _ = self.d.post_trigger(b)
        self.assertEqual(status, 202, resp)
        self.assertEqual(self.d.scalar("SELECT mobile FROM customers WHERE id = 'C-0042'"),
                         "13812345678")

    def test_no_enabled_channel_422_cannot_plan(self):
        d = self.start_daemon(self.mock, clock=TUESDAY_1505,
                              overrides={"channels": {"webhook": {"enabled": False}}})
        s, r, _ = d.post_trigger(body())
        self.assertError(s, r, 422, "cannot_plan", "customer")
        self.assertEqual(d.counts()["triggers"], 0)

    # ---- idempotency ---------------------------------------------------------

    def test_same_key_same_body_200_identical_and_nothing_new(self):
        b = body()
        s1, r1, raw1 = self.d.post_trigger(b)
        self.assertEqual(s1, 202, r1)
        before = self.d.counts()
        s2, r2, raw2 = self.d.post_trigger(b)
        self.assertEqual(s2, 200, r2)
        self.assertEqual(raw2, raw1)
        self.assertEqual(self.d.counts(), before)
        self.assertEqual(before["triggers"], 1)
        self.assertEqual(before["messages"], 3 + 7)  # and the warranty follow-ups
        # The same document with other spacing is the same body.
        spaced = json.dumps(b, ensure_ascii=False, indent=4)
        s3, r3, raw3 = self.d.post_trigger(spaced)
        self.assertEqual((s3, raw3), (200, raw1), r3)
        self.assertEqual(self.d.counts(), before)

    def test_same_key_same_document_other_key_order_200(self):
        # JSON objects are unordered (RFC 8259 section 4): an ERP that
        # re-serializes its retry with another member order sends the same
        # trigger, and must get the first answer back, not a conflict.
        b = body()
        s1, r1, raw1 = self.d.post_trigger(b)
        self.assertEqual(s1, 202, r1)
        before = self.d.counts()
        reordered = dict(reversed(list(b.items())))
        reordered["customer"] = dict(reversed(list(b["customer"].items())))
        s2, r2, raw2 = self.d.post_trigger(reordered)
        self.assertEqual((s2, raw2), (200, raw1), r2)
        self.assertEqual(self.d.counts(), before)

    def test_concurrent_duplicates_accepted_once(self):
        # Eight clients send the same trigger at once (an ERP retrying
        # aggressively): one 202, seven 200 with the same body, one trigger.
        b = json.dumps(body(), ensure_ascii=False).encode()
        results = [None] * 8
        barrier = threading.Barrier(len(results))

        def send(i):
            barrier.wait()
            s, _, raw = self.d.post_trigger(b)
            results[i] = (s, raw)
        threads = [threading.Thread(target=send, args=(i,)) for i in range(len(results))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30 * SLOW)
        statuses = sorted(r[0] for r in results)
        self.assertEqual(statuses, [200] * 7 + [202], results)
        self.assertEqual(len({r[1] for r in results}), 1, results)
        self.assertEqual((self.d.counts()["triggers"], self.d.counts()["messages"]), (1, 3 + 7))

    def test_same_key_different_body_409(self):
        b = body()
        s1, r1, _ = self.d.post_trigger(b)
        self.assertEqual(s1, 202, r1)
        before = self.d.counts()
        b2 = dict(b, milestone="material_inspection")
        s2, r2, _ = self.d.post_trigger(b2)
        self.assertError(s2, r2, 409, "idempotency_conflict", "idempotency_key")
        self.assertEqual(self.d.counts(), before)

    # ---- validation --------------------------------------------------------------

    def test_malformed_json_400_invalid_json(self):
        for raw in (b'{"idempotency_key": "k1", "milestone": ', b"", b"[1, 2]", b"\xff\xfe{}"):
            s, r, _ = self.d.post_trigger(raw)
            self.assertError(s, r, 400, "invalid_json", None)
        self.assertNothingStored()

    def test_missing_field_400_names_it(self):
        cases = [
            ({"idempotency_key": None}, "idempotency_key"),
            ({"milestone": None}, "milestone"),
            ({"occurred_at": None}, "occurred_at"),
            ({"project": None}, "project"),
            ({"customer": None}, "customer"),
            ({"customer": {"mobile": None}}, "customer.mobile"),
            ({"customer": {"name": None}}, "customer.name"),
            ({"project": {"address": None}}, "project.address"),
        ]
        for over, field in cases:
            s, r, _ = self.d.post_trigger(body(**over))
            with self.subTest(field=field):
                self.assertError(s, r, 400, "missing_field", field)
        self.assertNothingStored()

    def test_unknown_milestone_400(self):
        s, r, _ = self.d.post_trigger(body(milestone="roof_party"))
        self.assertError(s, r, 400, "unknown_milestone", "milestone")
        self.assertNothingStored()

    def test_invalid_mobile_400(self):
        for mobile in ("12812345678", "1381234567", "138123456789", "1381234567x", "+1 555 0100"):
            s, r, _ = self.d.post_trigger(body(customer={"mobile": mobile}))
            with self.subTest(mobile=mobile):
                self.assertError(s, r, 400, "invalid_mobile", "customer.mobile")
        self.assertNothingStored()

    def test_unknown_field_and_bad_occurred_at_400(self):
        s, r, _ = self.d.post_trigger(body(customer={"nickname": "x"}))
        self.assertError(s, r, 400, "unknown_field", "customer.nickname")
        # More than a day ahead of the daemon's clock.
        s, r, _ = self.d.post_trigger(body(occurred_at="2026-11-26T15:30:00+08:00"))
        self.assertError(s, r, 400, "invalid_field", "occurred_at")
        s, r, _ = self.d.post_trigger(body(occurred_at="2026-11-24 15:30"))
        self.assertError(s, r, 400, "invalid_field", "occurred_at")
        self.assertNothingStored()

    def test_rejected_requests_store_nothing(self):
        ok = body()
        s, r, _ = self.d.post_trigger(ok)
        self.assertEqual(s, 202, r)
        before = self.d.counts()
        bad = [
            self.d.post_trigger(b"{")[0],
            self.d.post_trigger(body(milestone="nope"))[0],
            self.d.post_trigger(body(customer={"mobile": "123"}))[0],
            self.d.post_trigger(dict(ok, occurred_at="2026-11-24T15:31:00+08:00"))[0],
            self.d.post_trigger(body(), token=None)[0],
            self.d.post_trigger(body(), token=CS_TOKEN)[0],
            self.d.post_trigger(body(), headers={"Content-Type": "text/plain"})[0],
        ]
        self.assertEqual(bad, [400, 400, 400, 409, 401, 403, 415])
        self.assertEqual(self.d.counts(), before)

    # ---- size and media type -------------------------------------------------------

    def test_body_over_64k_413_answered_before_the_body(self):
        # Only the head, announcing 70 KiB: the answer must come anyway.
        head = (b"POST /v1/triggers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + TRIGGER_TOKEN.encode() + b"\r\n"
                b"Content-Length: 71680\r\n\r\n")
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=2 * SLOW) as s:
            s.sendall(head)
            answer = s.recv(65536)
        self.assertLess(time.monotonic() - t0, 2 * SLOW)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        self.assertIn(b'"code":"body_too_large"', answer)
        # The whole 70 KiB body sent with its Content-Length.
        big = b'{"idempotency_key":"' + b"k" * (70 * 1024) + b'"}'
        status, _, raw = self.d.raw("POST", "/v1/triggers", big,
                                    {"Content-Type": "application/json",
                                     "Authorization": "Bearer " + TRIGGER_TOKEN})
        self.assertEqual(status, 413, raw)
        self.assertNothingStored()

    def test_chunked_body_over_64k_413(self):
        # No Content-Length: the cap applies while the body is read.
        with socket.create_connection(("127.0.0.1", self.d.port), timeout=5 * SLOW) as s:
            s.sendall(b"POST /v1/triggers HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                      b"Authorization: Bearer " + TRIGGER_TOKEN.encode() + b"\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n")
            chunk = b"a" * 8192
            for _ in range(9):  # 72 KiB
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            answer = s.recv(65536)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413 "), answer)
        self.assertNothingStored()

    def test_413_and_415_counted_in_metrics(self):
        # /metrics has reasons too_large and media_type for these answers.
        big = b'{"idempotency_key":"' + b"k" * (70 * 1024) + b'"}'
        auth = {"Authorization": "Bearer " + TRIGGER_TOKEN}
        self.assertEqual(self.d.raw("POST", "/v1/triggers", big,
                                    dict(auth, **{"Content-Type": "application/json"}))[0], 413)
        self.assertEqual(self.d.raw("POST", "/v1/triggers", b"{}",
                                    dict(auth, **{"Content-Type": "text/plain"}))[0], 415)
        self.assertEqual(
            self.d.metric('huifang_triggers_total{outcome="rejected",reason="too_large"}'), 1)
        self.assertEqual(
            self.d.metric('huifang_triggers_total{outcome="rejected",reason="media_type"}'), 1)

    def test_text_plain_415(self):
        s, r, _ = self.d.post_trigger(body(), headers={"Content-Type": "text/plain"})
        self.assertError(s, r, 415, "unsupported_media_type", None)
        self.assertNothingStored()

    # ---- authentication ----------------------------------------------------------

    def test_no_token_401(self):
        s, r, _ = self.d.post_trigger(body(), token=None)
        self.assertError(s, r, 401, "unauthorized", "Authorization")
        s, r, _ = self.d.post_trigger(body(), headers={"Authorization": "Basic dXNlcjpwYXNz"})
        self.assertError(s, r, 401, "unauthorized", "Authorization")
        self.assertNothingStored()

    def test_wrong_token_401(self):
        s, r, _ = self.d.post_trigger(body(), token="not-a-token-of-this-gateway")
        self.assertError(s, r, 401, "unauthorized", "Authorization")
        self.assertNothingStored()

    def test_cs_token_on_triggers_403(self):
        s, r, _ = self.d.post_trigger(body(), token=CS_TOKEN)
        self.assertError(s, r, 403, "forbidden", "Authorization")
        self.assertNothingStored()

    def test_message_lookup_needs_cs_or_admin(self):
        s, r, _ = self.d.post_trigger(body())
        self.assertEqual(s, 202, r)
        self.assertEqual(self.d.get("/v1/messages/1")[0], 401)
        s, r = self.d.get("/v1/messages/1", TRIGGER_TOKEN)
        self.assertError(s, r, 403, "forbidden", "Authorization")
        for tok in (CS_TOKEN, ADMIN_TOKEN):
            s, r = self.d.get("/v1/messages/3", tok)
            self.assertEqual(s, 200, r)
            self.assertEqual((r["id"], r["message"], r["state"], r["due_at"]),
                             (3, "rating_confirm", "pending", "2026-11-25T10:30:00+08:00"))
        s, r = self.d.get("/v1/messages/99", CS_TOKEN)
        self.assertError(s, r, 404, "not_found", "id")
        s, r = self.d.get("/v1/messages/abc", CS_TOKEN)
        self.assertError(s, r, 404, "not_found", "id")

    # ---- routing -------------------------------------------------------------------

    def test_get_on_triggers_405(self):
        status, hdrs, raw = self.d.raw("GET", "/v1/triggers",
                                       headers={"Authorization": "Bearer " + TRIGGER_TOKEN})
        self.assertError(status, json.loads(raw), 405, "method_not_allowed", None)
        self.assertEqual(hdrs.get("allow"), "POST")

    def test_unknown_path_404(self):
        for path in ("/v1/trigger", "/v2/triggers", "/", "/healthz/x"):
            s, r = self.d.get(path, TRIGGER_TOKEN)
            with self.subTest(path=path):
                self.assertError(s, r, 404, "not_found", None)

    # ---- the event loop (STYLE.md item 23) ----------------------------------------

    def test_parked_trigger_answered_within_100ms(self):
        # A valid trigger is parked until its group commit, then resumed;
        # MHD 0.9.75 does not wake up for a resume by itself, so a daemon
        # that forgets to run MHD answers only at its next timeout.
        # Under valgrind (make valgrind), where a busy machine can take a
        # second or two for any request, the bound is half the 10 s
        # connection timeout: still far short of MHD's next timeout, when a
        # forgotten resume would be answered. The normal and ASan suites
        # hold it to 100 ms (x3).
        bound = 5.0 if VALGRIND else 0.1 * SLOW
        conn = http.client.HTTPConnection("127.0.0.1", self.d.port, timeout=10 * SLOW)
        self.addCleanup(conn.close)
        for i in range(5):
            raw = json.dumps(body(), ensure_ascii=False).encode()
            t0 = time.monotonic()
            conn.request("POST", "/v1/triggers", raw,
                         {"Content-Type": "application/json",
                          "Authorization": "Bearer " + TRIGGER_TOKEN})
            resp = conn.getresponse()
            resp.read()
            elapsed = time.monotonic() - t0
            self.assertEqual(resp.status, 202)
            self.assertLess(elapsed, bound, "trigger %d answered after %.3f s" % (i, elapsed))
        self.assertEqual(self.d.counts()["triggers"], 5)

    def test_idle_client_dropped_after_connection_timeout(self):
        d = self.start_daemon(self.mock, clock=TUESDAY_1505,
                              overrides={"listen": {"connection_timeout": "1s"}})
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", d.port), timeout=5 * SLOW) as s:
            s.sendall(b"POST /v1/triggers HTTP/1.1\r\nHost: t\r\n")  # and then nothing
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
        elapsed = time.monotonic() - t0
        self.assertEqual(data, b"")
        self.assertGreaterEqual(elapsed, 0.5)  # not at once: after the timeout
        self.assertLess(elapsed, 3 * SLOW)
        self.assertEqual(d.get("/healthz")[0], 200)  # and the daemon is fine

    # ---- health and metrics ----------------------------------------------------

    def test_healthz_200_json(self):
        status, hdrs, raw = self.d.raw("GET", "/healthz")
        self.assertEqual(status, 200, raw)
        self.assertTrue(hdrs["content-type"].startswith("application/json"), hdrs)
        h = json.loads(raw)
        cal = h["holiday_calendar"]
        # The calendar file ends with 2026: on 2026-11-24 fewer than 60 days
        # ahead are covered, which the gateway reports as "degraded".
        self.assertEqual(h["status"], "degraded" if cal["days_ahead_covered"] < 60 else "ok", h)
        # The version the store migrated to, as the file itself records it.
        self.assertEqual(h["schema_version"], self.d.scalar("PRAGMA user_version"))
        self.assertGreaterEqual(h["schema_version"], 2)
        self.assertEqual(h["database"], {"backend": "postgresql" if self.d.pg_url else "sqlite",
                                         "state": "ok"})
        self.assertEqual(h["in_flight"], 0)
        self.assertIsInstance(h["uptime_s"], (int, float))

    def test_metrics(self):
        for project in ("P-1", "P-2"):
            s, r, _ = self.d.post_trigger(body(project={"id": project}))
            self.assertEqual(s, 202, r)
        b = body("material_inspection")
        self.assertEqual(self.d.post_trigger(b)[0], 202)
        self.assertEqual(self.d.post_trigger(b)[0], 200)
        self.assertEqual(self.d.post_trigger(b"{")[0], 400)
        self.assertEqual(self.d.post_trigger(body(), token=None)[0], 401)
        status, hdrs, raw = self.d.raw("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"), hdrs)
        text = raw.decode()
        lines = text.splitlines()
        self.assertIn('huifang_triggers_total{outcome="accepted"} 3', lines)
        self.assertIn('huifang_triggers_total{outcome="replayed"} 1', lines)
        self.assertIn('huifang_triggers_total{outcome="rejected",reason="bad_request"} 1', lines)
        self.assertIn('huifang_triggers_total{outcome="rejected",reason="auth"} 1', lines)
        # 2 x (3 + 7 warranty follow-ups) + 2
        self.assertIn('huifang_messages{state="pending",channel="webhook"} 22', lines)
        self.assertIn('huifang_queue_depth 0', lines)  # all due at 15:30 or later
        self.assertIn('huifang_send_latency_seconds_bucket{le="+Inf"} 0', lines)
        self.assertIn('huifang_send_latency_seconds_count 0', lines)
        self.assertIn("# TYPE huifang_send_latency_seconds histogram", lines)


if __name__ == "__main__":
    unittest.main()
