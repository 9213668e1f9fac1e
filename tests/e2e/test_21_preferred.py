"""A customer's own preferred contact time (issue 5, item 3): from the
trigger, from the API, or from a "busy, call me at 8 in the evening"
reply, it replaces the survey windows for that customer's surveys, and is
never at night."""

import unittest

import test_08_answers as base
from harness import (CS_TOKEN, FRIDAY_1930, MONDAY_1031, SLOW, TRIGGER_TOKEN, TUESDAY_1505,
                     epoch, trigger_body, wait_until)


class PreferredTimeTest(base.AnswerCase):

    def test_trigger_preference_moves_the_survey_not_the_notice(self):
        m, d = self.start_webhook()
        status, resp, _ = d.post_trigger(trigger_body(
            "material_inspection", customer={"preferred_time": "19:00-20:30"}))
        self.assertEqual(status, 202, resp)
        due = {x["message"]: x["due_at"] for x in resp["messages"]}
        self.assertEqual(due["survey"], "2026-11-24T19:00:00+08:00")
        # The notice goes now (the daemon's clock, started at 15:05:00, runs on).
        self.assertLessEqual(0, epoch(due["notice"]) - epoch(TUESDAY_1505))
        self.assertLessEqual(epoch(due["notice"]) - epoch(TUESDAY_1505), 30 * SLOW)
        self.assertEqual(d.scalar("SELECT preferred_time FROM customers WHERE id = 'C-0042'"),
                         "19:00-20:30")

    def test_trigger_preference_at_night_is_refused(self):
        m, d = self.start_webhook()
        for bad in ("22:00-23:00", "07:00-09:00", "19:00", "19:00-20:00,", "20:00-19:00"):
            with self.subTest(preferred_time=bad):
                status, resp, _ = d.post_trigger(trigger_body(
                    "material_inspection", customer={"preferred_time": bad}))
                self.assertError(status, resp, 400, "invalid_field", "customer.preferred_time")
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM triggers"), 0)

    def test_api_preference_holds_back_a_planned_survey(self):
        m = self.start_mock(clock=FRIDAY_1930)
        d = self.start_daemon(m, clock=FRIDAY_1930)
        # Friday evening: the survey waits for Monday's 10:30 window ...
        status, resp, _ = d.post_trigger(trigger_body(
            "hidden_works_acceptance", occurred_at="2026-11-27T19:00:00+08:00"))
        self.assertEqual(status, 202, resp)
        sid = {x["message"]: x["id"] for x in resp["messages"]}["survey"]
        self.assertEqual(d.message(sid)["due_at"], epoch(MONDAY_1031) - 60)
        # ... then customer service records "evenings, please".
        path = "/v1/customers/C-0042/preferences"
        status, body = d.request("POST", path, {"preferred_time": "19:30-20:30"}, token=CS_TOKEN)
        self.assertEqual((status, body), (200, {"customer": "C-0042",
                                                "preferred_time": "19:30-20:30"}))
        # On Monday morning the survey falls due and waits for 19:30.
        d.restart(clock=MONDAY_1031)
        want = epoch("2026-11-30T19:30:00+08:00")
        wait_until(lambda: d.message(sid)["next_attempt_at"] == want, 5,
                   what="the survey rescheduled to the customer's time")
        row = d.message(sid)
        self.assertEqual((row["state"], row["attempts"]), ("pending", 0))
        self.assertEqual(m.requests(key="hf-%d" % sid), [])
        # Errors name the field; unknown customers are 404; trigger tokens may set it too.
        status, body = d.request("POST", path, {"preferred_time": "23:00-23:30"}, token=CS_TOKEN)
        self.assertError(status, body, 400, "invalid_field", "preferred_time")
        status, body = d.request("POST", path, {"preferred": "19:00-20:00"}, token=CS_TOKEN)
        self.assertError(status, body, 400, "invalid_field", "preferred_time")
        status, body = d.request("POST", "/v1/customers/NOPE/preferences",
                                 {"preferred_time": None}, token=TRIGGER_TOKEN)
        self.assertError(status, body, 404, "not_found", "id")
        status, body = d.request("POST", path, {"preferred_time": None}, token=TRIGGER_TOKEN)
        self.assertEqual((status, body), (200, {"customer": "C-0042", "preferred_time": None}))
        status, body = d.request("POST", path, {"preferred_time": None})
        self.assertEqual(status, 401)
        self.assertIsNone(d.scalar("SELECT preferred_time FROM customers WHERE id = 'C-0042'"))

    def test_busy_evening_reply_becomes_the_preference(self):
        m, d = self.start_pair("aliyun")
        ids, sid = self.sent_survey(m, d, trigger_body("material_inspection"))
        status, body = d.request("POST", "/callbacks/%s/aliyun/reply" % base.CB_TOKEN,
                                 [base.smsup("在忙，晚上8点再联系吧")])
        self.assertEqual(status, 200, body)
        # 20:00 is after the survey windows but inside the notice hours: the
        # survey comes again tonight at 8, and later surveys keep that time.
        self.assertEqual(d.scalar("SELECT preferred_time FROM customers WHERE id = 'C-0042'"),
                         "20:00-21:00")
        rows = d.rows("SELECT due_at FROM messages WHERE survey_id = ?", sid)
        self.assertEqual([r["due_at"] for r in rows], [epoch("2026-11-24T20:00:00+08:00")])


if __name__ == "__main__":
    unittest.main()
