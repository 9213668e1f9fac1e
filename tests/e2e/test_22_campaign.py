"""Campaigns (issue 5, item 5; seed 002 三、公司新活动): one trigger names
known customers; those who opted out (TD/退订) are skipped, the others get
the notice with the opt-out line, and the answer says who was skipped and
why. Retries are idempotent like any trigger."""

import unittest

import test_08_answers as base
from harness import trigger_body, unique_key, wait_until


def campaign(customers, key=None, **over):
    body = {"idempotency_key": key or unique_key("campaign"), "milestone": "campaign",
            "occurred_at": "2026-11-24T15:00:00+08:00", "customers": customers,
            "variables": {"title": "冬季家装节", "detail": "老客户到店可领取保养礼包。",
                          "date": "12月5日至12月7日"}}
    body.update(over)
    return body


class CampaignTest(base.AnswerCase):

    def customer(self, d, cid, mobile, project):
        status, resp, _ = d.post_trigger(trigger_body(
            "hidden_works_acceptance", customer={"id": cid, "mobile": mobile},
            project={"id": project}))
        self.assertEqual(status, 202, resp)

    def test_campaign_skips_opted_out_and_unknown_customers(self):
        m, d = self.start_webhook()
        self.customer(d, "C-0042", base.MOBILE, "P-1")
        self.customer(d, "C-A", "13900000001", "P-2")
        self.customer(d, "C-B", "13900000002", "P-3")
        # C-0042 answers TD: no more marketing.
        status, body = d.request("POST", "/callbacks/%s/aliyun/reply" % base.CB_TOKEN,
                                 [base.smsup("TD")])
        self.assertEqual(status, 200, body)
        self.assertEqual(d.scalar("SELECT opted_out FROM customers WHERE id = 'C-0042'"), 1)
        # The three setup triggers' messages are all out before counting.
        wait_until(lambda: d.scalar("SELECT COUNT(*) FROM messages WHERE state IN"
                                    " ('pending', 'sending')") == 0, 10,
                   what="the setup messages sent")
        before = len(m.requests())

        body = campaign(["C-0042", "C-A", "C-NOPE", "C-A", "C-B"])
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        self.assertEqual((resp["accepted"], resp["skipped"]), (2, 3))
        self.assertEqual(resp["skipped_by_reason"],
                         {"opted_out": 1, "unknown_customer": 1, "duplicate": 1})
        self.assertEqual(resp["skipped_customers"],
                         [{"customer": "C-0042", "reason": "opted_out"},
                          {"customer": "C-NOPE", "reason": "unknown_customer"},
                          {"customer": "C-A", "reason": "duplicate"}])
        ids = {x["customer"]: x["id"] for x in resp["messages"]}
        self.assertEqual(sorted(ids), ["C-A", "C-B"])
        for cid, mid in ids.items():
            d.wait_state(mid, ("sent", "delivered"))
            rec = m.requests(key="hf-%d" % mid)[0]["body"]
            self.assertEqual(rec["milestone"], "campaign")
            self.assertIn("冬季家装节", rec["text"])
            self.assertTrue(rec["text"].endswith("回复TD退订"), rec["text"])
        self.assertEqual(len(m.requests()), before + 2)
        # Each reached customer has a trigger of their own on their project.
        rows = d.rows("SELECT customer_id, project_id FROM triggers WHERE milestone = 'campaign'"
                      " ORDER BY customer_id")
        self.assertEqual([(r["customer_id"], r["project_id"]) for r in rows],
                         [("C-A", "P-2"), ("C-B", "P-3")])

        # A retry gets the first answer and sends nothing more; another body
        # under the same key is a conflict.
        status2, resp2, _ = d.post_trigger(body)
        self.assertEqual((status2, resp2), (200, resp))
        status3, resp3, _ = d.post_trigger(dict(body, customers=["C-B"]))
        self.assertError(status3, resp3, 409, "idempotency_conflict", "idempotency_key")
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM messages WHERE milestone = 'campaign'"), 2)

    def test_customer_who_opts_out_before_the_send_gets_nothing(self):
        m, d = self.start_webhook(daemon={"windows": {"notice": ["08:00-09:00"]}})
        self.customer(d, "C-A", "13900000001", "P-2")
        status, resp, _ = d.post_trigger(campaign(["C-A"]))
        self.assertEqual(status, 202, resp)
        mid = resp["messages"][0]["id"]
        self.assertEqual(resp["messages"][0]["due_at"], "2026-11-25T08:00:00+08:00")
        status, body = d.request("POST", "/callbacks/%s/aliyun/reply" % base.CB_TOKEN,
                                 [base.smsup("退订", mobile="13900000001")])
        self.assertEqual(status, 200, body)
        d.restart(clock="2026-11-25T08:00:00+08:00")
        row = d.wait_state(mid, ("cancelled", "sent", "delivered"))
        self.assertEqual((row["state"], row["last_code"]), ("cancelled", "opted_out"))
        self.assertEqual(m.requests(key="hf-%d" % mid), [])

    def test_bad_campaigns_are_refused_naming_the_field(self):
        m, d = self.start_webhook()
        cases = [
            (campaign(["C-A"], project={"id": "P-1", "address": "x"}), "unknown_field", "project"),
            (campaign(None), "missing_field", "customers"),
            (campaign([]), "invalid_field", "customers"),
            (campaign(["C-A", "含 空格"]), "invalid_field", "customers[1]"),
            (campaign(["C-A"], variables={"title": "x", "detail": "y"}), "missing_field",
             "variables.date"),
        ]
        for body, code, field in cases:
            if body["customers"] is None:
                del body["customers"]
            with self.subTest(field=field):
                status, resp, _ = d.post_trigger(body)
                self.assertError(status, resp, 400, code, field)
        status, resp, _ = d.post_trigger(trigger_body("material_inspection", customers=["C-A"]))
        self.assertError(status, resp, 400, "unknown_field", "customers")
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM campaigns"), 0)


if __name__ == "__main__":
    unittest.main()
