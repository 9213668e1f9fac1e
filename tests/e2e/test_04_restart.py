"""Durability across crashes and restarts: a 202 means the messages go out,
exactly once as far as the provider can tell, whatever instant the daemon
dies at (SPEC section 2)."""

import signal
import time
import unittest

from harness import (FRIDAY_1930, MONDAY_1031, CS_TOKEN, SLOW, E2ETestCase, epoch, trigger_body,
                     wait_until)

OCCURRED = "2026-11-27T19:00:00+08:00"
FRIDAY_1931 = "2026-11-27T19:31:00+08:00"


class RestartTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock()

    def post(self, d):
        status, resp, _ = d.post_trigger(trigger_body("material_inspection",
                                                      occurred_at=OCCURRED))
        self.assertEqual(status, 202, resp)
        ids = {m["message"]: m["id"] for m in resp["messages"]}
        self.assertEqual(sorted(ids), ["notice", "survey"])
        return ids["notice"], ids["survey"]

    def test_kill9_between_accept_and_send_sends_once_after_restart(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        notice, survey = self.post(d)
        d.wait_state(notice, "sent")
        self.assertEqual(d.message(survey)["state"], "pending")  # its window is closed
        self.assertEqual(d.kill9(), -signal.SIGKILL)
        self.assertEqual(self.mock.requests(key="hf-%d" % survey), [])

        d.start(clock=MONDAY_1031)
        row = d.wait_state(survey, ("sent", "failed", "expired"))
        self.assertEqual((row["state"], row["attempts"]), ("sent", 1))
        self.assertEqual(len(d.attempts(survey)), 1)
        self.assertEqual(d.message(notice)["attempts"], 1)  # not sent again
        for mid in (notice, survey):
            recs = self.mock.requests(key="hf-%d" % mid)
            self.assertEqual(len(recs), 1, recs)
            self.assertIs(recs[0]["duplicate"], False)
        st = self.mock.stats()
        self.assertEqual((st["received"], st["accepted"], st["duplicates"]), (2, 2, 0))
        s, m = d.get("/v1/messages/%d" % survey, CS_TOKEN)
        self.assertEqual((s, m["state"]), (200, "sent"))

    def test_kill9_with_request_in_flight_resent_with_same_dedup_key(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        # The provider takes 3 s to answer; the daemon dies meanwhile. The
        # provider still accepts the request: the answer is what is lost.
        self.mock.faults({"delay_ms": 3000, "count": 1})
        notice, _ = self.post(d)
        wait_until(lambda: self.mock.stats()["received"] == 1, 5, what="request at the mock")
        self.assertEqual(d.message(notice)["state"], "sending")
        self.assertEqual(d.kill9(), -signal.SIGKILL)
        key = "hf-%d" % notice
        first = wait_until(lambda: self.mock.requests(key=key), 6,
                           what="the provider to accept the orphaned request")
        self.assertEqual(len(first), 1)
        self.assertIs(first[0]["duplicate"], False)

        d.start(clock=FRIDAY_1931)
        self.assertIn("recovered 1 messages that were in flight", d.read_log())
        row = d.wait_state(notice, ("sent", "failed", "expired"))
        recs = self.mock.requests(key=key)
        self.assertEqual([r["duplicate"] for r in recs], [False, True], recs)
        self.assertEqual(recs[1]["id"], recs[0]["id"])  # provider-side dedup: one message
        self.assertEqual((row["state"], row["provider_id"], row["last_code"]),
                         ("sent", recs[0]["id"], "http_200"))
        self.assertEqual(self.mock.stats()["duplicates"], 1)

    def test_sigterm_with_request_in_flight_exits_0_and_keeps_the_message(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        self.mock.faults({"delay_ms": 2000, "count": 1})
        notice, survey = self.post(d)
        wait_until(lambda: self.mock.stats()["received"] == 1, 5, what="request at the mock")
        self.assertEqual(d.terminate(), 0, d.read_log())
        state = d.message(notice)["state"]
        self.assertIn(state, ("sent", "pending"))  # never lost, never stuck in "sending"
        self.assertEqual(d.message(survey)["state"], "pending")
        # Whatever state it was left in, a restart completes it exactly once.
        d.start(clock=FRIDAY_1931)
        row = d.wait_state(notice, "sent")
        recs = self.mock.requests(key="hf-%d" % notice)
        self.assertEqual([r["duplicate"] for r in recs],
                         [False] if state == "sent" else [False, True], recs)
        self.assertEqual(row["provider_id"], recs[0]["id"])

    def test_sigterm_with_provider_hanging_abandons_it_after_the_grace(self):
        # The provider never answers and curl would wait 60 s: shutdown gives
        # up after its grace period (10 s), exits 0, and the message stays
        # pending for the next start.
        d = self.start_daemon(self.mock, clock=FRIDAY_1930,
                              overrides={"outbound": {"request_timeout": "60s"}})
        self.mock.faults({"hang": True, "count": 1})
        notice, _ = self.post(d)
        wait_until(lambda: self.mock.stats()["received"] == 1, 5, what="request at the mock")
        t0 = time.monotonic()
        self.assertEqual(d.terminate(), 0, d.read_log())
        self.assertLess(time.monotonic() - t0, 14 * SLOW)
        self.assertIn("shutdown deadline", d.read_log())
        row = d.message(notice)
        self.assertEqual((row["state"], row["attempts"]), ("pending", 0))
        self.assertEqual(d.attempts(notice), [])
        d.start(clock=FRIDAY_1931)
        row = d.wait_state(notice, "sent")
        self.assertEqual(row["attempts"], 1)
        self.assertEqual(len(self.mock.requests(key="hf-%d" % notice)), 1)

    def test_replayed_trigger_after_restart_gets_the_first_answer(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        b = trigger_body("material_inspection", occurred_at=OCCURRED)
        s1, r1, raw1 = d.post_trigger(b)
        self.assertEqual(s1, 202, r1)
        d.wait_state(r1["messages"][0]["id"], "sent")
        d.kill9()  # a 202 means committed: nothing may depend on a clean exit
        d.start(clock=FRIDAY_1931)
        before = d.counts()
        s2, r2, raw2 = d.post_trigger(b)
        self.assertEqual((s2, raw2), (200, raw1), r2)
        self.assertEqual(d.counts(), before)
        self.assertEqual((before["triggers"], before["messages"]), (1, 2))
        self.assertEqual(len(self.mock.requests()), 1)  # the notice, once

    def test_survey_due_while_down_waits_for_the_next_window(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        notice, survey = self.post(d)
        d.wait_state(notice, "sent")
        d.stop()
        # Back on Monday at 12:00: the survey was due at 10:30, but the
        # window 10:30-11:40 has closed; it waits for 15:00.
        d.start(clock="2026-11-30T12:00:00+08:00")
        row = wait_until(lambda: (lambda r: r if r["next_attempt_at"] != r["due_at"] else None)(
            d.message(survey)), 5, what="the survey to be rescheduled")
        self.assertEqual((row["state"], row["attempts"]), ("pending", 0))
        self.assertEqual(row["next_attempt_at"], epoch("2026-11-30T15:00:00+08:00"))
        self.assertEqual(self.mock.requests(key="hf-%d" % survey), [])

    def test_survey_expired_while_down_is_not_sent(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930,
                              overrides={"survey": {"validity": "1h"}})
        notice, survey = self.post(d)
        d.wait_state(notice, "sent")
        self.assertEqual(d.message(survey)["expires_at"], epoch("2026-11-30T11:30:00+08:00"))
        d.stop()
        d.start(clock="2026-11-30T12:00:00+08:00")
        row = d.wait_state(survey, ("expired", "sent", "failed"))
        self.assertEqual((row["state"], row["last_code"], row["sent_at"]),
                         ("expired", "expired", None))
        self.assertEqual(d.attempts(survey), [])
        self.assertEqual(self.mock.requests(key="hf-%d" % survey), [])
        self.assertEqual(d.metric('huifang_send_attempts_total{result="expired"}'), 1)


if __name__ == "__main__":
    unittest.main()
