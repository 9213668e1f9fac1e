"""Praise verification (issue 5, item 6; seed 002 回访结点八): a banner or a
letter arrived in the customer's name; the customer is asked whether they
really sent it. "Yes" thanks them; "no" opens a ticket for customer
service (fake praise) and thanks nobody."""

import unittest

import test_08_answers as base
from harness import trigger_body, wait_until


class PraiseTest(base.AnswerCase):

    def asked(self, m, d):
        status, resp, _ = d.post_trigger(trigger_body("praise_received",
                                                      variables={"praise": "锦旗"}))
        self.assertEqual(status, 202, resp)
        self.assertEqual([x["message"] for x in resp["messages"]], ["survey"])
        sid = resp["messages"][0]["id"]
        d.wait_state(sid, ("sent", "delivered"))
        return resp["trigger_id"], sid

    def thanks(self, d, trigger_id):
        return d.rows("SELECT * FROM messages WHERE trigger_id = ? AND message = 'thanks'",
                      trigger_id)

    def test_yes_is_thanked_once(self):
        m, d = self.start_webhook()
        tid, sid = self.asked(m, d)
        token = self.page_token(m, sid)
        status, _, _ = self.post_page(d, token, {"_": "1", "praise_real": "yes",
                                                 "quality_ok": "yes"})
        self.assertEqual(status, 200)
        rows = wait_until(lambda: self.thanks(d, tid), 5, what="the thank-you message")
        self.assertEqual(len(rows), 1)
        d.wait_state(rows[0]["id"], ("sent", "delivered"))
        rec = m.requests(key="hf-%d" % rows[0]["id"])[0]["body"]
        self.assertIn("感谢", rec["text"])
        self.assertIn("锦旗", rec["text"])
        self.assertEqual(self.tickets(d), [])
        # An amendment later thanks nobody a second time.
        status, _, _ = self.post_page(d, self.page_token(m, sid),
                                      {"_": "2", "praise_real": "yes", "comment": "师傅们辛苦了"})
        self.assertEqual(status, 200)
        self.assertEqual(len(self.thanks(d, tid)), 1)

    def test_no_opens_a_ticket_and_thanks_nobody(self):
        m, d = self.start_webhook()
        tid, sid = self.asked(m, d)
        status, _, _ = self.post_page(d, self.page_token(m, sid), {"_": "1", "praise_real": "no"})
        self.assertEqual(status, 200)
        tickets = wait_until(lambda: self.tickets(d), 5, what="the fake-praise ticket")
        self.assertEqual(len(tickets), 1)
        self.assertEqual(tickets[0]["survey_id"], sid)
        self.assertIn("锦旗", tickets[0]["detail"])
        self.assertEqual(self.thanks(d, tid), [])


if __name__ == "__main__":
    unittest.main()
