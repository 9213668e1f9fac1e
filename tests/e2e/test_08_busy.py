"""A customer who answers "busy, later" gets the survey again when they
said (seed 000: ask when it suits them and call back then), inside the
follow-up windows; the reply is kept and the survey stays open."""

import json
import unittest

import test_08_answers as base
from harness import epoch as iso_to_epoch
from harness import trigger_body


class BusyReplyTest(base.AnswerCase):

    def reply(self, d, elements):
        return d.request("POST", "/callbacks/%s/aliyun/reply" % base.CB_TOKEN, elements)

    def test_busy_reply_resends_the_survey_when_asked(self):
        m, d = self.start_pair("aliyun")
        ids, sid = self.sent_survey(m, d, trigger_body("material_inspection"))
        self.assertEqual(self.reply(d, [base.smsup("现在不方便，明天下午三点再说")]),
                         (200, {"code": 0, "msg": "接收成功"}))
        s = self.survey(d, sid)
        self.assertEqual((s["state"], s["score"]), ("open", None))
        a = self.answers(d)
        self.assertEqual([(x["message_id"], x["channel"], json.loads(x["parsed"]))
                          for x in a], [(sid, "sms", {"busy": True})])
        # One new message that opens the same survey, tomorrow (Wednesday)
        # at 15:00, the hour the customer named.
        rows = d.rows("SELECT id, kind, message, survey_id, due_at FROM messages"
                      " WHERE survey_id = ?", sid)
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual((rows[0]["kind"], rows[0]["message"]), ("survey", "survey"))
        self.assertEqual(rows[0]["due_at"], iso_to_epoch("2026-11-25T15:00:00+08:00"))
        # The hour they named is their preferred time for the surveys to come.
        self.assertEqual(d.scalar("SELECT preferred_time FROM customers WHERE id = 'C-0042'"),
                         "15:00-17:00")
        # The same push again changes nothing.
        self.assertEqual(self.reply(d, [base.smsup("现在不方便，明天下午三点再说")]),
                         (200, {"code": 0, "msg": "接收成功"}))
        self.assertEqual(len(d.rows("SELECT id FROM messages WHERE survey_id = ?", sid)), 1)


if __name__ == "__main__":
    unittest.main()
