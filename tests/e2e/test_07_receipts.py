"""Delivery receipts end to end: the Aliyun and Tencent mocks push SmsReport
and status callbacks to huifangd's callback URLs, which settle messages as
delivered or failed with the operator's code; repeats change nothing; a
wrong callback token is 404; a receipt nobody knows is accepted and logged.

Shares the channel setup of test_06_channels.py.

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_07_receipts.py'
"""

import unittest

from harness import wait_until, trigger_body
from test_06_channels import (ALIYUN_SEND, CB_TOKEN, MASKED, MOBILE, TENCENT_SEND, UNDELIVERABLE,
                              ChannelCase, sms_customer)

DONE = ("delivered", "failed", "expired")
UNKNOWN_LOG = "receipt for an unknown message"


def two_customers():
    """A trigger for the usual customer and one for a number the mocks
    report undeliverable (another customer and project)."""
    ok = trigger_body("material_inspection")
    bad = trigger_body("material_inspection", customer=sms_customer("C-0043", UNDELIVERABLE),
                       project={"id": "P-2026-0043"})
    return ok, bad


class ReceiptTest(ChannelCase):

    def receipts_of(self, d, mid):
        return d.rows("SELECT provider, message_id, delivered, code, detail FROM receipts"
                      " WHERE message_id = ? ORDER BY id", mid)

    def metric(self, d, result):
        return d.metric('huifang_receipts_total{result="%s"}' % result)

    def test_aliyun_reports_settle_messages(self):
        m, d = self.start_pair("aliyun", receipts=True)
        ok, bad = two_customers()
        good_ids, bad_ids = self.post(d, ok), self.post(d, bad)
        for mid in good_ids.values():
            row = d.wait_state(mid, DONE)
            with self.subTest(message=mid):
                self.assertEqual((row["state"], row["last_code"], row["last_error"],
                                  row["attempts"]), ("delivered", "DELIVERED", None, 1))
                self.assertIsNotNone(row["sent_at"])
                self.assertEqual(self.receipts_of(d, mid),
                                 [{"provider": "aliyun", "message_id": mid, "delivered": 1,
                                   "code": "DELIVERED", "detail": "用户接收成功"}])
        for mid in bad_ids.values():
            row = d.wait_state(mid, DONE)
            with self.subTest(message=mid):
                self.assertEqual((row["state"], row["last_code"], row["last_error"]),
                                 ("failed", "MK:0001", "用户接收失败"))
                self.assertIsNotNone(row["sent_at"])
                self.assertEqual(self.receipts_of(d, mid),
                                 [{"provider": "aliyun", "message_id": mid, "delivered": 0,
                                   "code": "MK:0001", "detail": "用户接收失败"}])
        self.assertEqual((self.metric(d, "delivered"), self.metric(d, "failed"),
                          self.metric(d, "duplicate"), self.metric(d, "unknown_message")),
                         (2, 2, 0, 0))
        self.assertEqual(len(self.records(m, ALIYUN_SEND)), 4)
        self.assertEqual(m.stats()["rejected"], 0)

    def test_tencent_status_settles_messages_by_sid(self):
        m, d = self.start_pair("tencent", receipts=True)
        ok, bad = two_customers()
        good_ids, bad_ids = self.post(d, ok), self.post(d, bad)
        for mid in good_ids.values():
            row = d.wait_state(mid, DONE)
            with self.subTest(message=mid):
                self.assertEqual((row["state"], row["last_code"], row["last_error"]),
                                 ("delivered", "DELIVRD", None))
                self.assertRegex(row["provider_id"], r"^5000:\d+$")
                self.assertEqual(self.receipts_of(d, mid),
                                 [{"provider": "tencent", "message_id": mid, "delivered": 1,
                                   "code": "DELIVRD", "detail": "用户短信送达成功"}])
        for mid in bad_ids.values():
            row = d.wait_state(mid, DONE)
            with self.subTest(message=mid):
                self.assertEqual((row["state"], row["last_code"]), ("failed", "MK:0001"))
                r = self.receipts_of(d, mid)
                self.assertEqual([(x["provider"], x["delivered"], x["code"]) for x in r],
                                 [("tencent", 0, "MK:0001")])
        self.assertEqual((self.metric(d, "delivered"), self.metric(d, "failed"),
                          self.metric(d, "duplicate")), (2, 2, 0))
        self.assertEqual(len(self.records(m, TENCENT_SEND)), 4)
        d.stop()
        log = d.read_log()
        self.assertIn(MASKED, log)
        self.assert_log_clean(log)

    def test_receipt_that_overtakes_the_send_answer_still_counts(self):
        # receipt_delay_ms 0: the mock pushes the report as it answers
        # SendSms, so it can reach huifangd before the answer is recorded.
        # The report proves the send; it must not be lost.
        m, d = self.start_pair("aliyun", receipts=True, mock={"aliyun": {"receipt_delay_ms": 0}})
        ids = []
        for i in range(5):
            body = trigger_body(customer=sms_customer("C-%d" % i, "1381234%04d" % i),
                                project={"id": "P-%d" % i})
            ids += list(self.post(d, body).values())
        wait_until(lambda: self.metric(d, "delivered") + self.metric(d, "duplicate") >= len(ids),
                   5, what="every report answered")
        self.assert_settled(d)
        states = {mid: d.message(mid)["state"] for mid in ids}
        self.assertEqual(sorted(set(states.values())), ["delivered"],
                         "%d of %d messages stay 'sent' although their report arrived: %r"
                         % (list(states.values()).count("sent"), len(ids), states))
        self.assertEqual((self.metric(d, "delivered"), self.metric(d, "duplicate")),
                         (len(ids), 0))

    def sent_without_receipts(self, sms):
        """One SMS notice sent with no automatic receipt; returns (mock,
        daemon, message row)."""
        m, d = self.start_pair(sms)
        ids = self.post(d, trigger_body("material_inspection"))
        row = d.wait_state(ids["notice"], ("sent", "failed", "expired"))
        self.assertEqual(row["state"], "sent")
        d.wait_state(ids["survey"], "sent")
        self.assert_settled(d)
        return m, d, row

    def assert_one_receipt_then_duplicate(self, d, mid, provider, code):
        wait_until(lambda: self.metric(d, "delivered") + self.metric(d, "duplicate") >= 2, 5,
                   what="both pushes answered")
        self.assertEqual((self.metric(d, "delivered"), self.metric(d, "duplicate"),
                          self.metric(d, "failed"), self.metric(d, "unknown_message")),
                         (1, 1, 0, 0))
        r = self.receipts_of(d, mid)
        self.assertEqual([(x["provider"], x["delivered"], x["code"]) for x in r],
                         [(provider, 1, code)])
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM receipts"), 1)
        row = d.message(mid)
        self.assertEqual((row["state"], row["last_code"], row["attempts"]),
                         ("delivered", code, 1))
        return row

    def test_duplicate_aliyun_report_is_harmless(self):
        m, d, row = self.sent_without_receipts("aliyun")
        mid = row["id"]
        status, body = m.request("POST", "/_mock/aliyun/push_receipt",
                                 {"out_id": "hf-%d" % mid, "times": 2,
                                  "url": self.cb_url(d, "aliyun")})
        self.assertEqual((status, body.get("pushed")), (200, 2), body)
        first = self.assert_one_receipt_then_duplicate(d, mid, "aliyun", "DELIVERED")
        # The repeat did not touch the message.
        self.assertEqual(d.message(mid), first)

    def test_duplicate_tencent_status_is_harmless(self):
        m, d, row = self.sent_without_receipts("tencent")
        mid = row["id"]
        status, body = m.request("POST", "/_mock/tencent/push_status",
                                 {"sid": row["provider_id"], "times": 2,
                                  "url": self.cb_url(d, "tencent")})
        self.assertEqual((status, body.get("pushed")), (200, 2), body)
        first = self.assert_one_receipt_then_duplicate(d, mid, "tencent", "DELIVRD")
        self.assertEqual(d.message(mid), first)

    def test_wrong_callback_token_is_not_found(self):
        m, d, row = self.sent_without_receipts("aliyun")
        report = [{"phone_number": MOBILE, "send_time": "2026-11-24 15:05:00",
                   "report_time": "2026-11-24 15:05:01", "success": True,
                   "err_code": "DELIVERED", "err_msg": "用户接收成功", "sms_size": "1",
                   "biz_id": row["provider_id"], "out_id": "hf-%d" % row["id"]}]
        status_list = [{"user_receive_time": "2026-11-24 15:05:01", "nationcode": "86",
                        "mobile": MOBILE, "report_status": "SUCCESS", "errmsg": "DELIVRD",
                        "description": "用户短信送达成功", "sid": "5000:1"}]
        wrong = "x" + CB_TOKEN[1:]
        for path, payload in (("/callbacks/%s/aliyun/report" % wrong, report),
                              ("/callbacks/%s/tencent/status" % wrong, status_list),
                              ("/callbacks/%s/aliyun/report" % CB_TOKEN[:-1], report),
                              ("/callbacks/aliyun/report", report),
                              ("/callbacks/%s/other/report" % CB_TOKEN, report)):
            with self.subTest(path=path.replace(CB_TOKEN, "<token>")):
                status, _ = d.request("POST", path, payload)
                self.assertEqual(status, 404)
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM receipts"), 0)
        self.assertEqual(d.message(row["id"])["state"], "sent")

    def test_receipt_for_unknown_message_is_accepted_and_logged(self):
        m, d = self.start_pair("aliyun")
        base = {"phone_number": MOBILE, "send_time": "2026-11-24 15:05:00",
                "report_time": "2026-11-24 15:05:01", "success": True, "err_code": "DELIVERED",
                "err_msg": "用户接收成功", "sms_size": "1"}
        cases = [
            ("an out_id of another system", dict(base, biz_id="900000000000^0",
                                                 out_id="crm-42")),
            ("our out_id form, no such message", dict(base, biz_id="900000000001^0",
                                                      out_id="hf-999999")),
        ]
        for what, rec in cases:
            with self.subTest(what):
                before = self.metric(d, "unknown_message")
                logged = d.read_log().count(UNKNOWN_LOG)
                status, body = d.request("POST", "/callbacks/%s/aliyun/report" % CB_TOKEN, [rec])
                self.assertEqual((status, body), (200, {"code": 0, "msg": "接收成功"}))
                self.assertEqual(self.metric(d, "unknown_message"), before + 1)
                self.assertEqual(d.read_log().count(UNKNOWN_LOG), logged + 1)
        with self.subTest("tencent sid nobody sent"):
            before = self.metric(d, "unknown_message")
            logged = d.read_log().count(UNKNOWN_LOG)
            status, body = d.request("POST", "/callbacks/%s/tencent/status" % CB_TOKEN,
                                     [{"user_receive_time": "2026-11-24 15:05:01",
                                       "nationcode": "86", "mobile": MOBILE,
                                       "report_status": "SUCCESS", "errmsg": "DELIVRD",
                                       "description": "用户短信送达成功", "sid": "5000:424242"}])
            self.assertEqual((status, body), (200, {"result": 0, "errmsg": "OK"}))
            self.assertEqual(self.metric(d, "unknown_message"), before + 1)
            self.assertEqual(d.read_log().count(UNKNOWN_LOG), logged + 1)
        self.assertEqual((self.metric(d, "delivered"), self.metric(d, "duplicate")), (0, 0))
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM messages"), 0)

    def test_known_receipt_settles_beside_an_unknown_one(self):
        # Aliyun pushes reports in batches: one unknown element must not
        # hold back (or make the provider repeat) the others.
        m, d, row = self.sent_without_receipts("aliyun")
        base = {"phone_number": MOBILE, "send_time": "2026-11-24 15:05:00",
                "report_time": "2026-11-24 15:05:01", "success": True, "err_code": "DELIVERED",
                "err_msg": "用户接收成功", "sms_size": "1"}
        batch = [dict(base, biz_id=row["provider_id"], out_id="hf-%d" % row["id"]),
                 dict(base, biz_id="900000000001^0", out_id="hf-999999")]
        status, body = d.request("POST", "/callbacks/%s/aliyun/report" % CB_TOKEN, batch)
        self.assertEqual((status, body), (200, {"code": 0, "msg": "接收成功"}))
        self.assertEqual((d.message(row["id"])["state"], d.message(row["id"])["last_code"]),
                         ("delivered", "DELIVERED"))
        self.assertEqual((self.metric(d, "delivered"), self.metric(d, "unknown_message")),
                         (1, 1))


if __name__ == "__main__":
    unittest.main()
