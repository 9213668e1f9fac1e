"""SMS replies carry the per-survey extension code (channels.sms
extend_code_digits): the reply joins the survey whose SMS it answers even
when the customer has a newer survey open."""

import json
import unittest

import test_08_answers as base
from harness import trigger_body
from test_06_channels import ALIYUN_SEND


class ExtendCodeTest(base.AnswerCase):

    def reply(self, d, elements):
        return d.request("POST", "/callbacks/%s/aliyun/reply" % base.CB_TOKEN, elements)

    def test_reply_joins_the_survey_its_extension_code_names(self):
        over = {"channels": {"sms": {"extend_code_digits": 4}},
                "callbacks": {"token": base.CB_TOKEN}}
        m, d = self.start_pair("aliyun", daemon=over)
        ids1, sid1 = self.sent_survey(m, d, trigger_body("material_inspection"))
        rec = [r for r in self.records(m, ALIYUN_SEND) if r["idempotency_key"] == "hf-%d" % sid1]
        self.assertEqual(rec[0]["body"]["params"]["SmsUpExtendCode"], "%04d" % sid1)
        # The next day (daemon and provider clocks alike) a second survey
        # reaches the same customer.
        d.stop()
        m.stop()
        day2 = "2026-11-25T15:05:00+08:00"
        m2 = self.start_mock(clock=day2, config=self.mcfg)
        d.config["channels"]["aliyun"]["base_url"] = m2.base + "/aliyun"
        d.write_config()
        d.start(clock=day2)
        ids2, sid2 = self.sent_survey(m2, d, trigger_body(
            "hidden_works_acceptance", occurred_at="2026-11-25T15:00:00+08:00"))
        self.assertNotEqual(sid1, sid2)
        # A reply to the first SMS (its extension code) answers the first
        # survey, not the newest one.
        push = [dict(base.smsup("是"), dest_code="106900%04d" % sid1)]
        self.assertEqual(self.reply(d, push), (200, {"code": 0, "msg": "接收成功"}))
        s1, s2 = self.survey(d, sid1), self.survey(d, sid2)
        self.assertEqual(json.loads(s1["answers"]), {"materials_ok": "yes"})
        self.assertIsNone(s2["answers"])
        # Without a code the reply joins the newest survey, as before.
        push = [dict(base.smsup("否", seq=2), dest_code="")]
        self.assertEqual(self.reply(d, push), (200, {"code": 0, "msg": "接收成功"}))
        self.assertEqual(json.loads(self.survey(d, sid2)["answers"]), {"acceptance_ok": "no"})


if __name__ == "__main__":
    unittest.main()
