"""Retries: transient provider errors and timeouts are retried with backoff
and end "sent"; permanent errors fail at once with the provider's code.

The clock is Friday 19:30, so of a material_inspection trigger only the
notice is due (the survey waits for the next survey window): exactly one
message talks to the mock, and each queued fault hits that message.
"""

import unittest

from harness import FRIDAY_1930, E2ETestCase, trigger_body

OCCURRED = "2026-11-27T19:00:00+08:00"


class RetryTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock()

    def post_notice(self, d):
        status, resp, _ = d.post_trigger(trigger_body("material_inspection",
                                                      occurred_at=OCCURRED))
        self.assertEqual(status, 202, resp)
        notice = resp["messages"][0]
        self.assertEqual(notice["message"], "notice")
        return notice["id"]

    def test_http_500_retried_then_sent_once(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        self.mock.faults({"status": 500, "count": 1})
        mid = self.post_notice(d)
        row = d.wait_state(mid, ("sent", "failed", "expired"), timeout=10)
        self.assertEqual((row["state"], row["attempts"], row["last_code"]),
                         ("sent", 2, "http_200"))
        att = d.attempts(mid)
        self.assertEqual([(a["attempt"], a["http_status"], a["code"]) for a in att],
                         [(1, 500, "http_500"), (2, 200, "http_200")])
        self.assertEqual(att[0]["error"], "provider answered HTTP 500")
        self.assertIsNone(att[1]["error"])
        # Backoff: the retry did not go out at once (retry_base 100ms, the
        # daemon schedules in whole seconds).
        self.assertGreaterEqual(att[1]["started_ms"] - att[0]["started_ms"], 50)
        recs = self.mock.requests(key="hf-%d" % mid)
        self.assertEqual(len(recs), 1)  # the faulted answer is not a delivery
        self.assertIs(recs[0]["duplicate"], False)
        self.assertEqual(recs[0]["body"]["attempt"], 2)
        st = self.mock.stats()
        self.assertEqual((st["received"], st["faulted"], st["accepted"], st["duplicates"]),
                         (2, 1, 1, 0))
        self.assertGreaterEqual(d.metric('huifang_send_attempts_total{result="retry"}'), 1)
        self.assertEqual(d.metric('huifang_send_attempts_total{result="ok"}'), 1)
        self.assertEqual(d.metric('huifang_send_attempts_total{result="failed"}'), 0)

    def test_http_400_fails_without_retry(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        self.mock.faults({"status": 400, "count": 1, "body": {"code": "InvalidRecipient"}})
        mid = self.post_notice(d)
        row = d.wait_state(mid, ("sent", "failed", "expired"), timeout=10)
        # "failed" is final: the dispatcher only ever claims "pending" rows.
        self.assertEqual((row["state"], row["attempts"], row["last_code"], row["sent_at"]),
                         ("failed", 1, "http_400", None))
        att = d.attempts(mid)
        self.assertEqual([(a["attempt"], a["http_status"], a["code"]) for a in att],
                         [(1, 400, "http_400")])
        st = self.mock.stats()
        self.assertEqual((st["received"], st["faulted"], st["accepted"]), (1, 1, 0))
        self.assertEqual(self.mock.requests(), [])
        self.assertEqual(d.metric('huifang_send_attempts_total{result="retry"}'), 0)
        self.assertEqual(d.metric('huifang_send_attempts_total{result="failed"}'), 1)
        self.assertIn('huifang_messages{state="failed",channel="webhook"} 1',
                      d.metrics().splitlines())

    def test_retries_exhausted_fail_with_the_last_code(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930,
                              overrides={"dispatch": {"max_attempts": 2}})
        self.mock.faults({"status": 503, "count": 2})
        mid = self.post_notice(d)
        row = d.wait_state(mid, ("sent", "failed", "expired"), timeout=10)
        self.assertEqual((row["state"], row["attempts"], row["last_code"], row["sent_at"]),
                         ("failed", 2, "http_503", None))
        self.assertEqual([(a["attempt"], a["code"]) for a in d.attempts(mid)],
                         [(1, "http_503"), (2, "http_503")])
        st = self.mock.stats()
        self.assertEqual((st["received"], st["faulted"], st["accepted"]), (2, 2, 0))
        self.assertEqual(d.metric('huifang_send_attempts_total{result="retry"}'), 1)
        self.assertEqual(d.metric('huifang_send_attempts_total{result="failed"}'), 1)

    def test_provider_that_never_answers_times_out_then_sent(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930,
                              overrides={"outbound": {"request_timeout": "1s"}})
        self.mock.faults({"hang": True, "count": 1})
        mid = self.post_notice(d)
        row = d.wait_state(mid, ("sent", "failed", "expired"), timeout=10)
        self.assertEqual((row["state"], row["attempts"]), ("sent", 2))
        att = d.attempts(mid)
        self.assertEqual([(a["attempt"], a["http_status"], a["code"]) for a in att],
                         [(1, None, "timeout"), (2, 200, "http_200")])
        # curl gave up after request_timeout, not much earlier or later.
        self.assertGreaterEqual(att[0]["latency_ms"], 900)
        self.assertLess(att[0]["latency_ms"], 3000)
        self.assertEqual(len(self.mock.requests(key="hf-%d" % mid)), 1)
        self.assertGreaterEqual(d.metric('huifang_send_attempts_total{result="retry"}'), 1)


if __name__ == "__main__":
    unittest.main()
