"""Several huifangd instances on one PostgreSQL database (issue 9): a
trigger stream spread over three instances is sent exactly once at the
mock, an instance killed with SIGKILL while it holds claims has them sent
by the others once its lease ends (never twice), the same trigger key or
the same callback reaching two instances is stored once, and one instance
at a time runs the cron jobs.

Runs only on PostgreSQL (HUIFANG_TEST_PG=1, tests/run_tests.sh); on SQLite
there is one instance by design."""

import threading
import time
import unittest

from harness import (PG_URL, TUESDAY_1505, E2ETestCase, trigger_body, wait_until)

LEASE_S = 3          # store.lease: the smallest allowed, to keep the test short
CB_TOKEN = "e2e-cluster-callback-token-0123"


def body(i, key=None):
    """A material_inspection trigger (a notice and a survey, both due now)
    for customer and project number @i: one survey per customer per day."""
    return trigger_body("material_inspection", key=key,
                        project={"id": "P-CL-%04d" % i},
                        customer={"id": "C-CL-%04d" % i, "mobile": "1381000%04d" % i})


@unittest.skipUnless(PG_URL, "several instances need PostgreSQL (HUIFANG_TEST_PG=1)")
class ClusterTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock(clock=TUESDAY_1505)
        over = {"store": {"lease": "%ds" % LEASE_S}, "callbacks": {"token": CB_TOKEN},
                "dispatch": {"max_in_flight": 8},
                # A hung request is not given up before the instance is killed.
                "outbound": {"request_timeout": "30s"}}
        first = self.start_daemon(self.mock, clock=TUESDAY_1505, overrides=over)
        self.ds = [first] + [self.start_daemon(self.mock, clock=TUESDAY_1505, overrides=over,
                                               share_db=first) for _ in range(2)]

    def instance_id(self, d):
        status, h = d.get("/healthz")
        self.assertEqual(status, 200, h)
        return h["instance"]["id"]

    def post_ok(self, d, b):
        status, resp, _ = d.post_trigger(b)
        self.assertEqual(status, 202, resp)
        return [m["id"] for m in resp["messages"]]

    def assert_each_sent_once(self, ids):
        """Every id reached the mock exactly once, and the mock saw no
        repeat of any key."""
        d = self.ds[0]
        wait_until(lambda: d.scalar("SELECT COUNT(*) FROM messages WHERE state <> 'sent'") == 0,
                   20 + 2 * LEASE_S, what="every message sent")
        recs = self.mock.requests()
        keys = sorted(r["idempotency_key"] for r in recs)
        self.assertEqual(keys, sorted("hf-%d" % i for i in ids))
        self.assertEqual([r for r in recs if r["duplicate"]], [])
        self.assertEqual(self.mock.stats()["duplicates"], 0)

    def test_instances_have_ids_and_one_runs_the_cron(self):
        ids = [self.instance_id(d) for d in self.ds]
        self.assertEqual(len(set(ids)), 3, ids)
        for d, i in zip(self.ds, ids):
            self.assertIn("instance=%s" % i, d.read_log())
            self.assertRegex(d.metrics(), r'huifang_instance\{id="%s",cron_leader="(true|false)"\} 1'
                             % i.replace(".", r"\."))
        # Within a couple of ticks exactly one holds the cron lock.
        leaders = wait_until(lambda: (lambda ls: ls if len(ls) == 1 else None)(
            [d for d in self.ds if d.get("/healthz")[1]["instance"]["cron_leader"]]),
            5, what="one cron leader")
        rows = self.ds[0].rows("SELECT id FROM instances ORDER BY id")
        self.assertEqual(sorted(r["id"] for r in rows), sorted(ids))
        # The leader's connection dies with it: another takes the lock over.
        leader = leaders[0]
        leader.kill9()
        rest = [d for d in self.ds if d is not leader]
        wait_until(lambda: sum(d.get("/healthz")[1]["instance"]["cron_leader"] for d in rest) == 1,
                   5, what="a new cron leader")

    def test_stream_over_three_instances_with_one_killed_sends_each_once(self):
        d0, d1, d2 = self.ds
        victim_id = self.instance_id(d1)
        n = 30
        ids = []
        # The first part of the stream, round robin over the three.
        for i in range(12):
            ids += self.post_ok(self.ds[i % 3], body(i))
        wait_until(lambda: d0.scalar("SELECT COUNT(*) FROM messages WHERE state <> 'sent'") == 0,
                   10, what="the first part sent")
        # d1's next requests hang at the provider (never answered, never
        # accepted): it holds those claims when it is killed.
        self.mock.faults({"hang": True, "count": 4})
        for i in range(12, 14):
            ids += self.post_ok(d1, body(i))
        wait_until(lambda: self.mock.request("GET", "/_mock/faults")[1] == [], 5,
                   what="d1's four requests hanging at the mock")
        held = d0.rows("SELECT id FROM messages WHERE state = 'sending' AND claimed_by = ?",
                       victim_id)
        self.assertEqual(len(held), 4, held)
        d1.kill9()
        killed_at = time.monotonic()
        still = d0.scalar("SELECT COUNT(*) FROM messages WHERE state = 'sending'"
                          " AND claimed_by = ?", victim_id)
        if time.monotonic() - killed_at < LEASE_S - 1:
            # The lease has not ended: nobody else sends them yet.
            self.assertEqual(still, 4)
        # The rest of the stream, over the two left.
        for i in range(14, n):
            ids += self.post_ok((d0, d2)[i % 2], body(i))
        self.assertEqual(len(ids), 2 * n)
        self.assert_each_sent_once(ids)
        # The four were sent by the others, on their second attempt (the
        # cut-short one counts), after the lease.
        for r in held:
            m = d0.message(r["id"])
            self.assertEqual((m["state"], m["attempts"]), ("sent", 2), m)
            self.assertNotEqual(m["claimed_by"], victim_id)
        self.assertIn("on an instance whose lease ended", d0.read_log() + d2.read_log())
        # Everybody's work was shared: the survivors both sent some.
        owners = {r["claimed_by"] for r in d0.rows("SELECT claimed_by FROM messages")}
        self.assertTrue({self.instance_id(d0), self.instance_id(d2)} <= owners, owners)

    def test_an_instance_starting_leaves_the_live_ones_claims_alone(self):
        d0, d1, d2 = self.ds
        owner = self.instance_id(d0)
        # d0's requests are answered only after 3 s: its claims are live
        # while another instance starts on the same database.
        self.mock.faults({"delay_ms": 3000, "count": 2})
        ids = self.post_ok(d0, body(300))
        wait_until(lambda: self.mock.stats()["received"] >= 2, 5, what="d0's requests at the mock")
        d2.restart()
        self.assertNotIn("recovered", d2.read_log().split("---- run 2")[1])
        rows = d0.rows("SELECT state, claimed_by FROM messages WHERE id IN (?, ?)", *ids)
        self.assertTrue(all(r["state"] == "sending" and r["claimed_by"] == owner for r in rows)
                        or self.mock.stats()["accepted"] > 0, rows)
        self.assert_each_sent_once(ids)

    def test_same_trigger_key_at_two_instances_is_stored_once(self):
        d0, d1, d2 = self.ds
        results = {}
        bodies = [body(100 + i, key="cluster-same-%d" % i) for i in range(8)]

        def send(d, tag):
            results[tag] = [d.post_trigger(b)[:2] for b in bodies]
        ts = [threading.Thread(target=send, args=(d, t)) for d, t in ((d0, "a"), (d2, "b"))]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        ids = []
        for (sa, ra), (sb, rb) in zip(results["a"], results["b"]):
            # One stored it (202), the other answered the stored answer (200).
            self.assertEqual(sorted((sa, sb)), [200, 202], (ra, rb))
            self.assertEqual(ra, rb)
            ids += [m["id"] for m in ra["messages"]]
        self.assertEqual(d1.scalar("SELECT COUNT(*) FROM triggers WHERE idem_key LIKE"
                                   " 'cluster-same-%'"), 8)
        self.assert_each_sent_once(ids)

    def test_same_sms_reply_at_two_instances_is_one_answer(self):
        d0, d1, d2 = self.ds
        status, resp, _ = d0.post_trigger(body(200))
        self.assertEqual(status, 202, resp)
        ids = {m["message"]: m["id"] for m in resp["messages"]}
        self.assert_each_sent_once(ids.values())
        push = [{"phone_number": "13810000200", "send_time": "2026-11-24 15:06:00",
                 "content": "9分", "sign_name": "安居装饰", "dest_code": "", "sequence_id": 77}]
        path = "/callbacks/%s/aliyun/reply" % CB_TOKEN
        out = []
        ts = [threading.Thread(target=lambda d=d: out.append(d.request("POST", path, push)))
              for d in (d1, d2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        self.assertEqual(out, [(200, {"code": 0, "msg": "接收成功"})] * 2)
        rows = d0.rows("SELECT message_id, channel, raw FROM answers")
        self.assertEqual(rows, [{"message_id": ids["survey"], "channel": "sms", "raw": "9分"}])


if __name__ == "__main__":
    unittest.main()
