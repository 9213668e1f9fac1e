"""Schedules without triggers (issue 5): a kickoff plans the day-7 and
day-15 surveys and the weekly check-ins from the project's kickoff date; a
second kickoff with another date re-plans what has not been sent;
completion ends the check-ins and plans the warranty follow-ups, which go
out in their own time with their own variables."""

import unittest

from harness import E2ETestCase, TUESDAY_1505, trigger_body, wait_until, epoch, iso_local


def by_milestone(resp):
    out = {}
    for m in resp["messages"] + resp.get("scheduled", []):
        out.setdefault(m.get("milestone", resp["milestone"]), []).append(m)
    return out


class SchedulesTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock(clock=TUESDAY_1505)
        self.d = self.start_daemon(self.mock, clock=TUESDAY_1505)

    def trigger(self, milestone, occurred="2026-11-24T09:00:00+08:00", kickoff="2026-11-24",
                project=None, **over):
        body = trigger_body(milestone, occurred_at=occurred,
                            project=dict(project or {}, kickoff_date=kickoff), **over)
        status, resp, _ = self.d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        return resp

    def pending(self, milestone):
        return self.d.rows("SELECT id, occurrence, due_at, vars FROM messages WHERE milestone = ?"
                           " AND state = 'pending' ORDER BY due_at, id", milestone)

    def test_kickoff_plans_the_construction_surveys(self):
        resp = self.trigger("kickoff")
        ms = by_milestone(resp)
        self.assertEqual([m["message"] for m in resp["messages"]], ["survey"])
        self.assertEqual(len(resp["scheduled"]), 28)
        self.assertEqual(ms["construction_day7"][0]["due_at"], "2026-12-01T10:30:00+08:00")
        self.assertEqual(ms["construction_day15"][0]["due_at"], "2026-12-09T10:30:00+08:00")
        weekly = ms["weekly_checkin"]
        self.assertEqual(len(weekly), 26)
        self.assertEqual([m["occurrence"] for m in weekly], list(range(1, 27)))
        self.assertEqual(weekly[0]["due_at"], "2026-12-01T10:30:00+08:00")
        self.assertEqual(weekly[1]["due_at"], "2026-12-08T10:30:00+08:00")
        # Stored as messages with survey instances of their own milestone.
        rows = self.d.rows("SELECT m.milestone, s.survey, m.occurrence FROM messages m"
                           " JOIN surveys s ON s.message_id = m.id"
                           " WHERE m.milestone = 'weekly_checkin' ORDER BY m.occurrence")
        self.assertEqual(len(rows), 26)
        self.assertEqual((rows[0]["survey"], rows[0]["occurrence"]), ("weekly_checkin", 1))
        # Today's kickoff survey goes now; nothing scheduled goes early.
        sid = ms["kickoff"][0]["id"]
        self.d.wait_state(sid, ("sent", "delivered"))
        self.assertEqual(len(self.mock.requests()), 1)

    def test_moved_kickoff_replans_what_was_not_sent(self):
        first = self.trigger("kickoff")
        kickoff_survey = by_milestone(first)["kickoff"][0]["id"]
        self.d.wait_state(kickoff_survey, ("sent", "delivered"))
        second = self.trigger("kickoff", occurred="2026-11-24T15:00:00+08:00",
                              kickoff="2026-12-01")
        ms = by_milestone(second)
        # The kickoff survey already went: it is not asked again.
        self.assertNotIn("kickoff", ms)
        self.assertEqual(ms["construction_day7"][0]["due_at"], "2026-12-08T10:30:00+08:00")
        self.assertEqual(ms["weekly_checkin"][0]["due_at"], "2026-12-08T10:30:00+08:00")
        # Everything the first kickoff planned and did not send is cancelled.
        old = self.d.rows("SELECT state, last_code FROM messages WHERE trigger_id = ?"
                          " AND id <> ?", first["trigger_id"], kickoff_survey)
        self.assertEqual(len(old), 28)
        self.assertEqual({(r["state"], r["last_code"]) for r in old}, {("cancelled", "replanned")})
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM surveys s JOIN messages m ON"
                                       " m.id = s.message_id WHERE m.trigger_id = ? AND"
                                       " s.state = 'open' AND m.state = 'cancelled'",
                                       first["trigger_id"]), 0)
        self.assertEqual(len(self.pending("weekly_checkin")), 26)
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM messages WHERE state = 'sent'"
                                       " OR state = 'delivered'"), 1)

    def test_completion_ends_the_checkins_and_plans_the_warranty(self):
        kickoff = self.trigger("kickoff", kickoff="2026-10-27")
        # Weeks 1-3 have passed; week 4 is today and goes with today's kickoff survey.
        weekly = by_milestone(kickoff)["weekly_checkin"]
        self.assertEqual([w["occurrence"] for w in weekly], list(range(4, 27)))
        self.d.wait_state(weekly[0]["id"], ("cancelled",))
        self.assertEqual(self.d.message(weekly[0]["id"])["last_code"], "merged")
        other = self.trigger("kickoff", kickoff="2026-11-01",
                             project={"id": "P-OTHER"}, customer={"id": "C-OTHER"})
        self.assertEqual(len(by_milestone(other)["weekly_checkin"]), 23)
        comp = self.trigger("completion", occurred="2026-11-24T15:00:00+08:00",
                            kickoff="2026-10-27")
        ended = self.d.rows("SELECT milestone, state, last_code, last_error FROM messages"
                            " WHERE trigger_id = ? AND milestone <> 'kickoff' AND id <> ?",
                            kickoff["trigger_id"], weekly[0]["id"])
        self.assertTrue(ended)
        for r in ended:
            self.assertEqual((r["state"], r["last_code"]), ("cancelled", "ended"), r)
            self.assertIn("completion", r["last_error"])
        # Another project's check-ins are not touched.
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM messages WHERE trigger_id = ?"
                                       " AND state = 'pending' AND milestone = 'weekly_checkin'",
                                       other["trigger_id"]), 23)
        warranty = by_milestone(comp)["warranty_followup"]
        self.assertEqual([w["due_at"][:10] for w in warranty],
                         ["2026-12-24", "2027-05-24", "2027-11-24", "2028-11-23", "2029-11-23",
                          "2030-11-25", "2031-11-24"])
        # A month later the first follow-up goes out, naming its scope.
        first = warranty[0]["id"]
        self.d.restart(clock="2026-12-24T10:29:58+08:00")
        self.d.wait_state(first, ("sent", "delivered"), timeout=20)
        rec = self.mock.requests(key="hf-%d" % first)[0]["body"]
        self.assertEqual(rec["milestone"], "warranty_followup")
        self.assertIn("整体装修", rec["text"])
        self.assertIn("/s/", rec["text"])

    def test_cancelled_project_ends_every_customer_message(self):
        kickoff = self.trigger("kickoff")
        other = self.trigger("kickoff", project={"id": "P-OTHER"}, customer={"id": "C-OTHER"})
        status, resp, _ = self.d.post_trigger(trigger_body(
            "project_cancelled", occurred_at="2026-11-24T15:00:00+08:00",
            variables={"reason": "客户退单"}))
        self.assertEqual(status, 202, resp)
        rows = self.d.rows("SELECT state, last_code, count(*) AS n FROM messages"
                           " WHERE trigger_id = ? GROUP BY state, last_code",
                           kickoff["trigger_id"])
        states = {(r["state"], r["last_code"]): r["n"] for r in rows}
        # Everything not sent yet is cancelled; what already went stays.
        self.assertEqual(states.get(("cancelled", "ended")), 28, states)
        self.assertEqual(sum(n for (st, _), n in states.items() if st == "pending"), 0, states)
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM messages WHERE trigger_id = ?"
                                       " AND state = 'pending' AND milestone = 'weekly_checkin'",
                                       other["trigger_id"]), 26)


if __name__ == "__main__":
    unittest.main()
