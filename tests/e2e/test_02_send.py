"""Sending: a trigger's messages reach the provider (the mock webhook) with
the right content and dedup id, only inside their send windows, and the
store records each attempt."""

import json
import unittest

from harness import (COMPANY_NAME, COMPANY_PHONE, CS_TOKEN, FRIDAY_1930, PUBLIC_URL,
                     TUESDAY_1505, SURVEY_SECRET, TRIGGER_TOKEN, WEBHOOK_SECRET, E2ETestCase, epoch, trigger_body, wait_until)


class SendTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock()

    def test_notice_and_survey_sent_in_the_tuesday_window(self):
        d = self.start_daemon(self.mock, clock=TUESDAY_1505)
        status, resp, _ = d.post_trigger(trigger_body("material_inspection",
                                                      occurred_at="2026-11-24T15:00:00+08:00"))
        self.assertEqual(status, 202, resp)
        ids = {m["message"]: m["id"] for m in resp["messages"]}
        self.assertEqual(sorted(ids), ["notice", "survey"])

        recs = wait_until(lambda: len(self.mock.requests()) == 2 and self.mock.requests(),
                          5, what="both messages at the mock")
        by_key = {r["idempotency_key"]: r for r in recs}
        self.assertEqual(set(by_key), {"hf-%d" % ids["notice"], "hf-%d" % ids["survey"]})
        for name, mid in ids.items():
            rec = by_key["hf-%d" % mid]
            b = rec["body"]
            with self.subTest(message=name):
                self.assertIs(rec["duplicate"], False)
                self.assertEqual(rec["path"], "/webhook")
                self.assertEqual(rec["status"], 200)
                self.assertEqual(b["id"], "hf-%d" % mid)
                self.assertEqual(b["message_id"], mid)
                self.assertEqual(b["attempt"], 1)
                self.assertEqual(b["kind"], name)
                self.assertEqual(b["milestone"], "material_inspection")
                self.assertEqual(b["message"], name)
                self.assertEqual(b["recipient"]["role"], "customer")
                self.assertEqual(b["recipient"]["mobile"], "13812345678")
                self.assertEqual(b["recipient"]["name"], "陈")
                self.assertEqual(b["project"], {"id": "P-2026-0042",
                                                "address": "上海市浦东新区锦绣路100弄3号1201室"})
                self.assertTrue(b["text"].startswith("陈女士您好"), b["text"])
                self.assertIn(COMPANY_NAME, b["text"])
                self.assertIn(COMPANY_PHONE, b["text"])
                self.assertIn("11月24日", b["text"])
                self.assertNotIn("{{", json.dumps(b, ensure_ascii=False))
        notice = by_key["hf-%d" % ids["notice"]]["body"]
        survey = by_key["hf-%d" % ids["survey"]]["body"]
        self.assertNotIn("survey_link", notice)
        link = survey["survey_link"]
        self.assertTrue(link.startswith(PUBLIC_URL + "/s/"), link)
        self.assertGreater(len(link), len(PUBLIC_URL + "/s/") + 16, link)
        self.assertIn(link, survey["text"])
        self.assertIn("12月1日", survey["text"])  # valid 7 days

        for name, mid in ids.items():
            row = d.wait_state(mid, "sent")
            rec = by_key["hf-%d" % mid]
            with self.subTest(message=name):
                self.assertEqual(row["attempts"], 1)
                self.assertEqual(row["provider_id"], rec["id"])
                self.assertEqual(row["last_code"], "http_200")
                self.assertIsNone(row["last_error"])
                self.assertIsNotNone(row["sent_at"])
                att = d.attempts(mid)
                self.assertEqual(len(att), 1, att)
                self.assertEqual((att[0]["attempt"], att[0]["channel"], att[0]["http_status"],
                                  att[0]["code"], att[0]["provider_id"], att[0]["error"]),
                                 (1, "webhook", 200, "http_200", rec["id"], None))
                s, m = d.get("/v1/messages/%d" % mid, CS_TOKEN)
                self.assertEqual(s, 200, m)
                self.assertEqual((m["id"], m["state"], m["attempts"], m["provider_id"],
                                  m["last_code"], m["channel"]),
                                 (mid, "sent", 1, rec["id"], "http_200", "webhook"))
        st = self.mock.stats()
        self.assertEqual((st["received"], st["accepted"], st["duplicates"], st["rejected"]),
                         (2, 2, 0, 0))

    def test_requests_carry_the_webhook_signature(self):
        # This mock checks X-Huifang-Signature with another secret than the
        # daemon's: every request is refused 401, a permanent failure. (The
        # other tests' mocks share the daemon's secret and accept, so the
        # signature they verify is the right one.)
        mock = self.start_mock(secret="some-other-secret-123")
        d = self.start_daemon(mock, clock=FRIDAY_1930)
        status, resp, _ = d.post_trigger(trigger_body("material_inspection",
                                                      occurred_at="2026-11-27T19:00:00+08:00"))
        self.assertEqual(status, 202, resp)
        notice = resp["messages"][0]
        self.assertEqual(notice["message"], "notice")
        row = d.wait_state(notice["id"], ("failed", "sent"))
        self.assertEqual((row["state"], row["last_code"]), ("failed", "http_401"))
        st = mock.stats()
        self.assertEqual((st["received"], st["rejected"], st["accepted"]), (1, 1, 0))

    def test_log_masks_mobiles_and_hides_secrets(self):
        d = self.start_daemon(self.mock, clock=TUESDAY_1505)
        status, resp, _ = d.post_trigger(trigger_body("material_inspection"))
        self.assertEqual(status, 202, resp)
        for m in resp["messages"]:
            d.wait_state(m["id"], "sent")
        self.assertEqual(d.post_trigger(trigger_body(), token="wrong-token-0123456789")[0], 401)
        d.stop()
        log = d.read_log()
        self.assertIn("to=138****5678", log)
        for secret in ("13812345678", "13900001111", SURVEY_SECRET, WEBHOOK_SECRET,
                       TRIGGER_TOKEN, "wrong-token-0123456789"):
            self.assertNotIn(secret, log)

    def test_friday_evening_survey_waits_for_monday(self):
        d = self.start_daemon(self.mock, clock=FRIDAY_1930)
        status, resp, _ = d.post_trigger(trigger_body("material_inspection",
                                                      occurred_at="2026-11-27T19:00:00+08:00"))
        self.assertEqual(status, 202, resp)
        ids = {m["message"]: m for m in resp["messages"]}
        notice_id, survey_id = ids["notice"]["id"], ids["survey"]["id"]

        # The notice window (08:00-21:00, any day) is open: sent now.
        d.wait_state(notice_id, "sent")
        recs = self.mock.requests()
        self.assertEqual([r["idempotency_key"] for r in recs], ["hf-%d" % notice_id])
        self.assertEqual(recs[0]["body"]["kind"], "notice")
        self.assertEqual(self.mock.stats()["received"], 1)

        # The survey window is closed: nothing sent, nothing attempted.
        row = d.message(survey_id)
        self.assertEqual((row["state"], row["attempts"], row["sent_at"]), ("pending", 0, None))
        self.assertEqual(d.attempts(survey_id), [])

        # ... until the next working day's first survey span: Saturday and
        # Sunday are rest days, so Monday 2026-11-30 10:30.
        monday = "2026-11-30T10:30:00+08:00"
        self.assertEqual((ids["survey"]["due_at"], ids["survey"]["expires_at"]),
                         (monday, "2026-12-07T10:30:00+08:00"))
        self.assertEqual((row["due_at"], row["next_attempt_at"]), (epoch(monday), epoch(monday)))
        s, m = d.get("/v1/messages/%d" % survey_id, CS_TOKEN)
        self.assertEqual(s, 200, m)
        self.assertEqual((m["state"], m["due_at"], m["sent_at"]), ("pending", monday, None))


if __name__ == "__main__":
    unittest.main()
