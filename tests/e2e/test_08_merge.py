"""At most one survey message reaches a customer a day: surveys due the
same day go out as one message with one link, and its page leads to the
others (issue 4, "Survey fatigue")."""

import html
import json
import re
import unittest

import test_08_answers as base
from harness import trigger_body


class SameDaySurveysTest(base.AnswerCase):

    def test_two_surveys_due_today_go_as_one_message(self):
        m, d = self.start_webhook()
        ids1, sid1 = self.sent_survey(m, d, trigger_body("material_inspection"))
        ids2 = self.post(d, trigger_body("hidden_works_acceptance"))
        sid2 = ids2["survey"]
        # The second survey is not sent on its own: it goes with the first.
        row = d.wait_state(sid2, ("cancelled", "sent", "delivered"))
        self.assertEqual((row["state"], row["last_code"], row["attempts"]),
                         ("cancelled", "merged", 0))
        self.assertEqual(d.scalar("SELECT merged_into FROM surveys WHERE message_id = ?", sid2),
                         sid1)
        self.assertEqual(m.requests(key="hf-%d" % sid2), [])
        # Its notice still goes: only surveys are limited.
        d.wait_state(ids2["notice"], ("sent", "delivered"))
        # The page of the first survey links to the second.
        status, hdrs, page = self.get_page(d, self.page_token(m, sid1))
        self.assertEqual(status, 200)
        self.assertIn("您今天还有以下回访", page)
        hrefs = re.findall(r'href="(/s/[^"]+)"', page)
        self.assertEqual(len(hrefs), 1, hrefs)
        token2 = html.unescape(hrefs[0])[len("/s/"):]
        self.assertTrue(token2.startswith("%d." % sid2), token2)
        # The second survey is answered on its own page.
        status, _, page2 = self.get_page(d, token2)
        self.assertEqual(status, 200)
        self.assertIn("隐蔽工程", page2)
        status, _, _ = self.post_page(d, token2, {"_": "1", "acceptance_ok": "yes",
                                                   "standard_explained": "yes"})
        self.assertEqual(status, 200)
        s2 = self.survey(d, sid2)
        self.assertEqual((s2["state"], json.loads(s2["answers"])["acceptance_ok"]),
                         ("answered", "yes"))
        # And the first page now shows it answered.
        _, _, page = self.get_page(d, self.page_token(m, sid1))
        self.assertIn("已填写", page)


if __name__ == "__main__":
    unittest.main()
