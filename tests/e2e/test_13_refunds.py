"""Refunds (退单 / 退定金), end to end (issue 5, item 4): a refund_request
trigger acknowledges the customer, alerts the customer-service manager and
opens the staff tasks of seed 002's 退单、退定金流程 with their deadlines;
customer service marks tasks done through the API (the paperwork starts
the two private-job checks); a task whose reminder time comes reminds its
role, an overdue one escalates once to the manager, a done one neither.

Time moves by restarting huifangd on the same database with a later
HUIFANG_CLOCK_START (the deadlines are the seed's real ones: 2 h, 48 h,
5 d, 7 d, 15 d and 40 d). Everything goes to the mock's webhook.

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_13_refunds.py'
"""

import datetime
import json
import time
import unittest

from harness import (CATALOGUE, CS_TOKEN, CST, SLOW, TRIGGER_TOKEN, epoch, iso_local,
                     trigger_body, wait_until)
from test_08_answers import CS_MANAGER, AnswerCase

HOUR = 3600
DAY = 86400
T0 = "2026-11-24T15:00:00+08:00"   # the refund was accepted (occurred_at); clock 15:05

with open(CATALOGUE, encoding="utf-8") as _f:
    REFUND = json.load(_f)["milestones"]["refund_request"]
TITLES = {t["id"]: t["title"] for t in REFUND["tasks"]}

# The seed's deadlines (seed 002 退单、退定金流程 6.4-6.8), counted from the
# acceptance, or from the refund taking effect (the paperwork done).
SEED = {
    "contact": ("cs_manager", 2 * HOUR, None),
    "handling_plan": ("cs_manager", 48 * HOUR, None),
    "site_verification": ("supervisor", 48 * HOUR, None),
    "paperwork": ("cs_manager", 5 * DAY, None),
    "refund_collected": ("cs_manager", 7 * DAY, None),
    "private_check_1": ("supervisor", 15 * DAY, "paperwork"),
    "private_check_2": ("supervisor", 40 * DAY, "paperwork"),
}


def refund_body(**over):
    return trigger_body("refund_request", occurred_at=T0,
                        variables={"reason": "家中变故，无法继续装修", "kind": "退单"}, **over)


def clock(t):
    return datetime.datetime.fromtimestamp(t, CST).isoformat()


class RefundCase(AnswerCase):

    def refund(self, d, body=None):
        """POST a refund trigger; returns the 202 answer."""
        status, resp, _ = d.post_trigger(body or refund_body())
        self.assertEqual(status, 202, resp)
        return resp

    @staticmethod
    def tasks(d):
        return {r["task"]: r for r in d.rows("SELECT * FROM tasks ORDER BY id")}

    @staticmethod
    def alerts(d, message):
        return d.rows("SELECT * FROM messages WHERE milestone = 'refund_request'"
                      " AND message = ? ORDER BY id", message)

    def done(self, d, task_id, body=None, token=None):
        return d.request("POST", "/v1/tasks/%d/done" % task_id, {} if body is None else body,
                         token=token or CS_TOKEN)

    @staticmethod
    def cron_passes(d):
        """Let the 1 s cron run at least twice (for asserting that it
        planned nothing), then wait until nothing is in flight."""
        time.sleep(2.2 * SLOW)

    def mock_text(self, m, mid):
        rec = wait_until(lambda: m.requests(key="hf-%d" % mid), 5,
                         what="message %d at the mock" % mid)[0]["body"]
        return rec


class RefundTasksTest(RefundCase):

    def test_refund_trigger_opens_the_seed_tasks(self):
        m, d = self.start_webhook()
        resp = self.refund(d)
        t0 = epoch(T0)
        # The trigger's own messages: the customer's acknowledgement and the
        # manager's alert; reminders and escalations wait for the clocks.
        self.assertEqual([(x["message"], x["to"]) for x in resp["messages"]],
                         [("ack", "customer"), ("alert_cs", "cs_manager")])
        got = {x["task"]: (x["to"], x["due_at"], x["after"]) for x in resp["tasks"]}
        want = {k: (role, None if after else iso_local(t0 + span), after)
                for k, (role, span, after) in SEED.items()}
        self.assertEqual(got, want)
        self.assertEqual({x["task"]: x["title"] for x in resp["tasks"]}, TITLES)
        rows = self.tasks(d)
        self.assertEqual({k: (r["role"], r["started_at"], r["due_at"], r["after"], r["done_at"])
                          for k, r in rows.items()},
                         {k: (role, None if after else t0, None if after else t0 + span, after,
                              None)
                          for k, (role, span, after) in SEED.items()})
        self.assertEqual({r["id"] for r in rows.values()}, {x["id"] for x in resp["tasks"]})
        # The customer is told customer service calls within 2 hours.
        ack = self.mock_text(m, resp["messages"][0]["id"])
        self.assertIn("2小时内", ack["text"])
        self.assertIn("退单", ack["text"])
        # A retry of the same trigger: the same answer, no second set of tasks.
        body = refund_body(key="erp-refund-1")
        first = self.refund(d, body)
        status, again, _ = d.post_trigger(body)
        self.assertEqual((status, again), (200, first))
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM tasks"), 14)
        # The list: five running, two waiting for the paperwork.
        status, lst = self.cs_get(d, "/v1/tasks?trigger=%d" % resp["trigger_id"])
        self.assertEqual(status, 200, lst)
        self.assertEqual(sorted((x["task"], x["state"], x["overdue"]) for x in lst["tasks"]),
                         sorted((k, "waiting" if a else "open", 0)
                                for k, (_, _, a) in SEED.items()))
        status, lst = self.cs_get(d, "/v1/tasks?state=waiting&project=P-2026-0042")
        self.assertEqual((status, len(lst["tasks"])), (200, 4))
        status, lst = self.cs_get(d, "/v1/tasks?state=open&project=P-OTHER")
        self.assertEqual((status, lst["tasks"]), (200, []))
        self.assertEqual(d.metric('huifang_tasks{state="open"}'), 10)
        self.assertEqual(d.metric('huifang_tasks{state="waiting"}'), 4)

    def test_paperwork_done_starts_the_private_checks(self):
        m, d = self.start_webhook()
        resp = self.refund(d)
        ids = {x["task"]: x["id"] for x in resp["tasks"]}
        # A check that waits for the paperwork cannot be marked done yet.
        status, err = self.done(d, ids["private_check_1"], {"note": "未发现私单"})
        self.assertError(status, err, 409, "task_not_started", "id")
        # The paperwork is done: the refund takes effect, the checks' clocks start.
        status, task = self.done(d, ids["paperwork"], {"note": "退单手续已办理，已报工程部、材料部备案"})
        self.assertEqual(status, 200, task)
        self.assertEqual((task["state"], task["done_by"], task["note"]),
                         ("done", "cs", "退单手续已办理，已报工程部、材料部备案"))
        rows = self.tasks(d)
        effective = rows["paperwork"]["done_at"]
        self.assertEqual(epoch(task["done_at"]), effective)
        for k in ("private_check_1", "private_check_2"):
            self.assertEqual((rows[k]["started_at"], rows[k]["due_at"]),
                             (effective, effective + SEED[k][1]), k)
        status, lst = self.cs_get(d, "/v1/tasks?state=waiting")
        self.assertEqual((status, lst["tasks"]), (200, []))
        # 6.7.3: the check's finding is reported when it is marked done.
        status, err = self.done(d, ids["private_check_1"])
        self.assertError(status, err, 400, "missing_field", "note")
        status, task = self.done(d, ids["private_check_1"], {"note": "工地已停工，未发现私单"})
        self.assertEqual((status, task["state"], task["note"]), (200, "done", "工地已停工，未发现私单"))
        # Twice: refused, the first record stays.
        status, err = self.done(d, ids["private_check_1"], {"note": "again"})
        self.assertError(status, err, 409, "task_done", "id")
        self.assertEqual(self.tasks(d)["private_check_1"]["note"], "工地已停工，未发现私单")
        status, lst = self.cs_get(d, "/v1/tasks?state=done")
        self.assertEqual(sorted(x["task"] for x in lst["tasks"]), ["paperwork", "private_check_1"])

    def test_refund_ends_the_projects_pending_customer_messages(self):
        """A refunded project ends everything ("ends": ["*"]): the pending
        customer messages of the project are cancelled, the refund's own
        acknowledgement and alert are not."""
        m, d = self.start_webhook()
        ids = self.post(d, trigger_body("completion"))
        self.assertEqual(d.message(ids["rating_confirm"])["state"], "pending")  # tomorrow
        resp = self.refund(d)
        row = d.message(ids["rating_confirm"])
        self.assertEqual((row["state"], row["last_code"]), ("cancelled", "ended"))
        for x in resp["messages"]:
            self.assertIn(d.wait_state(x["id"], ("sent", "delivered"))["state"],
                          ("sent", "delivered"))

    def test_bad_requests(self):
        m, d = self.start_webhook()
        resp = self.refund(d)
        tid = resp["tasks"][0]["id"]
        status, err = self.done(d, 999999, {"note": "x"})
        self.assertError(status, err, 404, "not_found", "id")
        status, err = self.cs_get(d, "/v1/tasks/999999")
        self.assertError(status, err, 404, "not_found", "id")
        status, err = self.done(d, tid, {"note": "x", "by": "me"})
        self.assertError(status, err, 400, "unknown_field", "by")
        status, err = self.done(d, tid, {"note": ""})
        self.assertError(status, err, 400, "invalid_field", "note")
        status, err = self.done(d, tid, {"note": 5})
        self.assertError(status, err, 400, "invalid_field", "note")
        status, err = self.cs_get(d, "/v1/tasks?state=late")
        self.assertError(status, err, 400, "invalid_field", "state")
        status, err = self.cs_get(d, "/v1/tasks?trigger=abc")
        self.assertError(status, err, 400, "invalid_field", "trigger")
        status, err = d.request("POST", "/v1/tasks/%d/close" % tid, {}, token=CS_TOKEN)
        self.assertError(status, err, 404, "not_found", None)
        # The ERP's trigger token may not mark tasks done, nor read them.
        status, err = self.done(d, tid, {"note": "x"}, token=TRIGGER_TOKEN)
        self.assertError(status, err, 403, "forbidden", "Authorization")
        status, err = d.get("/v1/tasks")
        self.assertError(status, err, 401, "unauthorized", "Authorization")
        # kind and reason are required trigger variables.
        body = refund_body()
        del body["variables"]["kind"]
        status, err, _ = d.post_trigger(body)
        self.assertError(status, err, 400, "missing_field", "variables.kind")
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM tasks"), 7)
        # Nothing was marked done by the refused requests.
        status, task = self.cs_get(d, "/v1/tasks/%d" % tid)
        self.assertEqual((status, task["state"], task["done_at"]), (200, "open", None))


class RefundClockTest(RefundCase):

    def test_reminders_and_escalations_fall_due_once_and_skip_done_tasks(self):
        m, d = self.start_webhook()
        resp = self.refund(d)
        ids = {x["task"]: x["id"] for x in resp["tasks"]}
        t0 = epoch(T0)
        # The handling plan is submitted at once: it must never remind or escalate.
        self.assertEqual(self.done(d, ids["handling_plan"], {"note": "方案已报总经理"})[0], 200)
        self.assertEqual(self.alerts(d, "task_reminder") + self.alerts(d, "task_escalation"), [])

        # 16:40: the contact task (due 17:00) reminds its role, the cs manager.
        d.restart(clock=clock(t0 + 100 * 60))
        rem = wait_until(lambda: self.alerts(d, "task_reminder"), 5, what="the contact reminder")
        self.assertEqual([(r["recipient"], r["kind"], r["channel"]) for r in rem],
                         [("cs_manager", "alert", "webhook")])
        body = self.mock_text(m, rem[0]["id"])
        self.assertEqual(body["recipient"]["name"], CS_MANAGER["name"])
        self.assertIn(TITLES["contact"], body["text"])
        self.assertIn("11月24日 17:00", body["text"])
        self.assertIn("任务号%d" % ids["contact"], body["text"])
        self.assertEqual(self.alerts(d, "task_escalation"), [])

        # 17:05: the contact task is overdue: one escalation to the manager.
        d.restart(clock=clock(t0 + 2 * HOUR + 5 * 60))
        esc = wait_until(lambda: self.alerts(d, "task_escalation"), 5, what="the escalation")
        self.assertEqual([(r["recipient"], r["channel"]) for r in esc],
                         [("cs_manager", "webhook")])
        body = self.mock_text(m, esc[0]["id"])
        self.assertIn("任务超时", body["text"])
        self.assertIn(TITLES["contact"], body["text"])
        self.assertEqual(len(self.alerts(d, "task_reminder")), 1)
        status, lst = self.cs_get(d, "/v1/tasks?state=overdue")
        self.assertEqual([x["task"] for x in lst["tasks"]], ["contact"])

        # t0 + 37 h: the site verification's reminder (12 h ahead) goes to the
        # project's supervisor; the done handling plan gets nothing.
        d.restart(clock=clock(t0 + 37 * HOUR))
        wait_until(lambda: len(self.alerts(d, "task_reminder")) == 2, 5,
                   what="the supervisor's reminder")
        rem = self.alerts(d, "task_reminder")[1]
        self.assertEqual(rem["recipient"], "supervisor")
        body = self.mock_text(m, rem["id"])
        self.assertEqual(body["recipient"]["name"], "赵敏")
        self.assertIn(TITLES["site_verification"], body["text"])

        # t0 + 49 h: the site verification is overdue; the contact task is not
        # escalated again and the done handling plan never is.
        d.restart(clock=clock(t0 + 49 * HOUR))
        wait_until(lambda: len(self.alerts(d, "task_escalation")) == 2, 5,
                   what="the second escalation")
        esc = self.alerts(d, "task_escalation")
        body = self.mock_text(m, esc[1]["id"])
        self.assertIn(TITLES["site_verification"], body["text"])
        self.assertIn("负责人监理", body["text"])
        rows = self.tasks(d)
        self.assertEqual({k: (r["reminded"], r["escalated"]) for k, r in rows.items()
                          if k in ("contact", "handling_plan", "site_verification")},
                         {"contact": (1, 1), "handling_plan": (0, 0), "site_verification": (1, 1)})
        self.assertEqual((rows["contact"]["escalation_message_id"],
                          rows["site_verification"]["escalation_message_id"]),
                         (esc[0]["id"], esc[1]["id"]))
        # Another pass of the cron changes nothing.
        d.restart(clock=clock(t0 + 49 * HOUR + 10 * 60))
        self.cron_passes(d)
        self.assert_settled(d)
        self.assertEqual(len(self.alerts(d, "task_escalation")), 2)
        self.assertEqual(len(self.alerts(d, "task_reminder")), 2)
        self.assertEqual(d.metric('huifang_task_alerts_total{kind="escalation"}'), 2)
        self.assertEqual(d.metric('huifang_task_alerts_total{kind="reminder"}'), 2)

    def test_a_check_counts_from_the_paperwork_not_the_trigger(self):
        """The 15-day check falls due 15 days after the refund took effect:
        not escalated at t0 + 16 d when the paperwork was done on day 3."""
        m, d = self.start_webhook()
        resp = self.refund(d)
        ids = {x["task"]: x["id"] for x in resp["tasks"]}
        t0 = epoch(T0)
        for k in ("contact", "handling_plan", "site_verification", "refund_collected"):
            self.assertEqual(self.done(d, ids[k], {"note": "已完成"})[0], 200)
        d.restart(clock=clock(t0 + 3 * DAY))
        self.assertEqual(self.done(d, ids["paperwork"], {"note": "已办理"})[0], 200)
        effective = self.tasks(d)["paperwork"]["done_at"]
        self.assertGreaterEqual(effective, t0 + 3 * DAY)
        d.restart(clock=clock(t0 + 16 * DAY))
        # The check's reminder (a day ahead of day 18) has not come yet either.
        self.cron_passes(d)
        self.assert_settled(d)
        self.assertEqual(self.alerts(d, "task_reminder"), [])
        self.assertEqual(self.alerts(d, "task_escalation"), [])
        d.restart(clock=clock(effective + 15 * DAY + 60))
        esc = wait_until(lambda: self.alerts(d, "task_escalation"), 5,
                         what="the private check's escalation")
        self.assertEqual(len(esc), 1)
        self.assertIn(TITLES["private_check_1"], self.mock_text(m, esc[0]["id"])["text"])
        self.assertEqual(self.tasks(d)["private_check_2"]["escalated"], 0)


if __name__ == "__main__":
    unittest.main()
