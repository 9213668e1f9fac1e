"""Customers answer, end to end (issue 4): the survey page over HTTP, SMS
replies (Aliyun SmsUp, Tencent reply callback), the WeChat callback server
(plain and secure mode, events), callback results and complaint tickets
with their two clocks.

Surveys go out at once on the Tuesday 15:05 clock. Survey links are read
from what the mock received (the webhook's "survey_link") or computed like
gateway/survey_token.c does. WeChat's secure mode is built here with the
openssl command line (AES-256-CBC, no padding), no Python packages needed.

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_08_answers.py'
"""

import base64
import datetime
import hashlib
import html
import json
import os
import struct
import subprocess
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET

from harness import (ADMIN_TOKEN, COMPANY_NAME, CS_TOKEN, CST, PUBLIC_URL, TEMPLATES,
                     TRIGGER_TOKEN, TUESDAY_1505, deep_merge, epoch, iso_local, trigger_body,
                     wait_until)
from test_06_channels import (ALIYUN_SEND, CB_TOKEN, MOBILE, OPENID, SIGN_NAME, TEMPLATE_SEND,
                              WECOM_SEND, WX_APPID, ChannelCase, sms_customer, survey_link)

CS_MANAGER = {"name": "刘芳", "phone": "13900005555", "wecom_id": "LiuFang"}
PM_WECOM = "ZhangWei"
WX_CB_TOKEN = "e2eWxCallbackToken0123"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF0"  # 43 characters
GH = "gh_0e2e0account01"
UNKNOWN_MOBILE = "13700000001"

SURVEYS = os.path.join(TEMPLATES, "surveys")
DAY = 86400
DONE = ("sent", "delivered", "failed", "expired", "cancelled")

# A full, good completion answer (score added per test).
COMPLETION_FORM = {"_": "1", "materials_ok": "yes", "team_ok": "yes", "response": "很及时",
                   "wechat_report": "很方便", "suggestion": "整体不错，谢谢"}


def load_survey(sid):
    with open(os.path.join(SURVEYS, sid + ".json"), encoding="utf-8") as f:
        return json.load(f)


def month_day_time(t):
    d = datetime.datetime.fromtimestamp(t, CST)
    return "%d月%d日 %02d:%02d" % (d.month, d.day, d.hour, d.minute)


def in_survey_window(t):
    """The default survey window: 10:30-11:40 and 15:00-18:00."""
    d = datetime.datetime.fromtimestamp(t, CST)
    hm = d.hour * 60 + d.minute
    return 10 * 60 + 30 <= hm < 11 * 60 + 40 or 15 * 60 <= hm < 18 * 60


# --------------------------------------------------------------------------
# WeChat callback fixtures (PROTOCOLS A6, A7)
# --------------------------------------------------------------------------

def wx_sig(*parts):
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def wx_xml(**fields):
    out = ["<xml>"]
    for k, v in fields.items():
        if isinstance(v, int):
            out.append("<%s>%d</%s>" % (k, v, k))
        else:
            out.append("<%s><![CDATA[%s]]></%s>" % (k, v, k))
    out.append("</xml>")
    return "".join(out)


def aes_key():
    return base64.b64decode(AES_KEY + "=")


def openssl_aes(data, decrypt=False):
    key = aes_key()
    argv = ["openssl", "enc", "-aes-256-cbc", "-K", key.hex(), "-iv", key[:16].hex(), "-nopad"]
    if decrypt:
        argv.append("-d")
    return subprocess.run(argv, input=data, capture_output=True, check=True).stdout


def wx_encrypt(msg, appid=WX_APPID, random16=b"0123456789abcdef"):
    msg = msg.encode()
    plain = random16 + struct.pack(">I", len(msg)) + msg + appid.encode()
    n = 32 - len(plain) % 32
    plain += bytes([n]) * n
    return base64.b64encode(openssl_aes(plain)).decode()


def wx_decrypt(b64):
    """(message text, receive id)."""
    plain = openssl_aes(base64.b64decode(b64), decrypt=True)
    plain = plain[:-plain[-1]]
    n = struct.unpack(">I", plain[16:20])[0]
    return plain[20:20 + n].decode(), plain[20 + n:].decode()


def xml_fields(raw):
    root = ET.fromstring(raw)
    assert root.tag == "xml", raw
    return {c.tag: (c.text or "") for c in root}


class AnswerCase(ChannelCase):
    """Pairs of mock + daemon set up for answers, and helpers to read what
    the daemon stored."""

    # ---- setups -----------------------------------------------------------

    def start_webhook(self, daemon=None):
        """A mock webhook receiver and a daemon that sends everything there
        (the cs manager configured, replies accepted)."""
        m = self.start_mock(clock=TUESDAY_1505)
        over = {"staff": {"cs_manager": {"name": CS_MANAGER["name"],
                                         "phone": CS_MANAGER["phone"]}},
                "callbacks": {"token": CB_TOKEN}}
        if daemon:
            over = deep_merge(over, daemon)
        d = self.start_daemon(m, clock=TUESDAY_1505, overrides=over)
        return m, d

    def start_wechat(self, sms="aliyun", daemon=None):
        """Real channels with the WeChat callback server configured, the cs
        manager reachable on WeCom."""
        over = {"channels": {"wechat": {"callback_token": WX_CB_TOKEN,
                                        "encoding_aes_key": AES_KEY}},
                "staff": {"cs_manager": CS_MANAGER}}
        self.wall0 = time.time()
        m, d = self.start_pair(sms, daemon=deep_merge(over, daemon or {}))
        return m, d

    def daemon_now(self):
        return epoch(TUESDAY_1505) + int(time.time() - self.wall0)

    # ---- triggers and surveys ---------------------------------------------

    def sent_survey(self, m, d, body, name="survey"):
        """POST @body; wait until its survey message went out. Returns
        (message ids by name, survey id)."""
        ids = self.post(d, body)
        sid = ids[name]
        row = d.wait_state(sid, DONE)
        self.assertIn(row["state"], ("sent", "delivered"), row)
        return ids, sid

    def page_token(self, m, sid):
        """The token of the link the webhook receiver got for survey @sid."""
        rec = wait_until(lambda: m.requests(key="hf-%d" % sid), 5,
                         what="survey %d at the mock" % sid)[0]
        link = rec["body"]["survey_link"]
        prefix = PUBLIC_URL + "/s/"
        self.assertTrue(link.startswith(prefix), link)
        return link[len(prefix):]

    # ---- the page ---------------------------------------------------------

    @staticmethod
    def get_page(d, token):
        status, hdrs, raw = d.raw("GET", "/s/" + token)
        return status, hdrs, raw.decode()

    @staticmethod
    def post_page(d, token, values):
        body = urllib.parse.urlencode(values).encode()
        status, hdrs, raw = d.raw("POST", "/s/" + token, body,
                                  {"Content-Type": "application/x-www-form-urlencoded"})
        return status, hdrs, raw.decode()

    def assertHtml(self, status, hdrs, want_status):
        self.assertEqual(status, want_status)
        self.assertTrue(hdrs.get("content-type", "").startswith("text/html"), hdrs)
        self.assertIn("default-src 'none'", hdrs.get("content-security-policy", ""), hdrs)

    # ---- the store ---------------------------------------------------------

    @staticmethod
    def survey(d, sid):
        r = d.rows("SELECT * FROM surveys WHERE message_id = ?", sid)
        return r[0] if r else None

    @staticmethod
    def answers(d, sid=None):
        if sid is None:
            return d.rows("SELECT * FROM answers ORDER BY id")
        return d.rows("SELECT * FROM answers WHERE message_id = ? ORDER BY id", sid)

    @staticmethod
    def tickets(d):
        return d.rows("SELECT * FROM tickets ORDER BY id")

    @staticmethod
    def trigger_messages(d, idem_key):
        return {r["message"]: r for r in d.rows(
            "SELECT m.* FROM messages m JOIN triggers t ON t.id = m.trigger_id"
            " WHERE t.idem_key = ? ORDER BY m.id", idem_key)}

    def wait_survey_state(self, d, sid, state, timeout=5.0):
        return wait_until(lambda: (lambda r: r if r and r["state"] == state else None)(
            self.survey(d, sid)), timeout, what="survey %d %s" % (sid, state))

    def cs_get(self, d, path, token=CS_TOKEN):
        return d.get(path, token=token)

    def cs_post(self, d, path, body, token=CS_TOKEN):
        return d.request("POST", path, body, token=token)

    def assert_complaint_planned(self, d, key, channels=None):
        """The complaint trigger @key planned the acknowledgement and both
        alerts (and nothing else yet); returns its messages by name."""
        msgs = self.trigger_messages(d, key)
        self.assertEqual(sorted(msgs), ["ack", "alert_cs", "alert_pm"], msgs)
        self.assertEqual({n: (r["kind"], r["recipient"], r["milestone"]) for n, r in msgs.items()},
                         {"ack": ("notice", "customer", "complaint"),
                          "alert_pm": ("alert", "pm", "complaint"),
                          "alert_cs": ("alert", "cs_manager", "complaint")})
        if channels:
            self.assertEqual({n: r["channel"] for n, r in msgs.items()}, channels)
        return msgs


# ==========================================================================
# 1. The survey page
# ==========================================================================

class SurveyPageTest(AnswerCase):

    def test_page_shows_the_survey(self):
        m, d = self.start_webhook()
        _, sid = self.sent_survey(m, d, trigger_body("completion"))
        token = self.page_token(m, sid)
        self.assertEqual(PUBLIC_URL + "/s/" + token,
                         survey_link(sid, d.message(sid)["expires_at"]))
        status, hdrs, page = self.get_page(d, token)
        self.assertHtml(status, hdrs, 200)
        self.assertIn(html.escape(COMPANY_NAME), page)
        self.assertIn("陈女士，您好！", page)
        for q in load_survey("completion")["questions"]:
            with self.subTest(question=q["id"]):
                self.assertIn(html.escape(q["text"]), page)
                self.assertIn('name="%s"' % q["id"], page)
        self.assertIn('action="/s/%s"' % token, page)
        # Nothing was stored by looking.
        self.assertEqual((self.survey(d, sid)["state"], self.answers(d)), ("open", []))

    def test_page_answer_is_the_result_and_a_low_score_opens_a_ticket(self):
        m, d = self.start_webhook()
        body = trigger_body("completion")
        _, sid = self.sent_survey(m, d, body)
        token = self.page_token(m, sid)
        form = dict(COMPLETION_FORM, score="4")
        status, hdrs, page = self.post_page(d, token, form)
        self.assertHtml(status, hdrs, 200)
        self.assertIn("谢谢，您的回答已保存", page)

        want_answers = {k: v for k, v in form.items() if k != "_"}
        s = self.survey(d, sid)
        self.assertEqual((s["state"], s["score"], s["flagged"], s["survey"], s["milestone"]),
                         ("answered", 4, 0, "completion", "completion"))
        self.assertEqual(json.loads(s["answers"]), want_answers)
        self.assertIsNotNone(s["answered_at"])
        a = self.answers(d)
        self.assertEqual([(x["message_id"], x["channel"], x["score"], x["amendment"],
                           x["flagged"], x["customer_id"]) for x in a],
                         [(sid, "page", 4, 0, 0, "C-0042")])
        self.assertEqual(json.loads(a[0]["parsed"]), want_answers)

        # The ticket, through the API.
        status, resp = self.cs_get(d, "/v1/tickets")
        self.assertEqual(status, 200, resp)
        self.assertEqual(len(resp["items"]), 1, resp)
        t = resp["items"][0]
        opened = epoch(t["opened_at"])
        self.assertEqual((t["state"], t["survey_id"], t["project_id"], t["customer_id"],
                          t["report_due_at"], t["answer_due_at"], t["report_escalated"],
                          t["answer_escalated"]),
                         ("open", sid, "P-2026-0042", "C-0042", iso_local(opened + 2 * 3600),
                          iso_local(opened + 48 * 3600), 0, 0))
        self.assertIn("4分", "%s %s" % (t["reason"], t["detail"]))
        self.assertEqual(self.cs_get(d, "/v1/tickets/%d" % t["id"]), (200, t))

        # The complaint trigger: acknowledgement and alerts, sent.
        key = "survey-%d-complaint" % sid
        msgs = self.assert_complaint_planned(d, key, {"ack": "webhook", "alert_pm": "webhook",
                                                      "alert_cs": "webhook"})
        self.assertEqual(d.scalar("SELECT milestone FROM triggers WHERE idem_key = ?", key),
                         "complaint")
        recs = {}
        for name, row in msgs.items():
            d.wait_state(row["id"], ("sent", "delivered"))
            recs[name] = wait_until(lambda: m.requests(key="hf-%d" % row["id"]), 5,
                                    what=name)[0]["body"]
        self.assertEqual(recs["ack"]["recipient"]["mobile"], MOBILE)
        self.assertIn("48小时", recs["ack"]["text"])
        self.assertEqual(recs["alert_pm"]["recipient"]["name"], "张伟")
        self.assertEqual(recs["alert_cs"]["recipient"]["name"], CS_MANAGER["name"])
        for name in ("alert_pm", "alert_cs"):
            with self.subTest(alert=name):
                self.assertIn(month_day_time(opened + 48 * 3600), recs[name]["text"])
                self.assertIn(MOBILE, recs[name]["text"])
        self.assertIn(month_day_time(opened + 2 * 3600), recs["alert_pm"]["text"])

    def test_second_submit_is_an_amendment_and_opens_no_second_ticket(self):
        m, d = self.start_webhook()
        _, sid = self.sent_survey(m, d, trigger_body("completion"))
        token = self.page_token(m, sid)
        self.assertEqual(self.post_page(d, token, dict(COMPLETION_FORM, score="4"))[0], 200)
        first = self.survey(d, sid)
        wait_until(lambda: len(self.tickets(d)) == 1, 5, what="the ticket")
        status, hdrs, page = self.post_page(d, token, dict(COMPLETION_FORM, score="9"))
        self.assertHtml(status, hdrs, 200)
        self.assertIn("谢谢，您的回答已保存", page)
        s = self.survey(d, sid)
        self.assertEqual((s["state"], s["score"], json.loads(s["answers"])["score"],
                          s["answered_at"]), ("answered", 9, "9", first["answered_at"]))
        self.assertEqual([(x["channel"], x["score"], x["amendment"]) for x in self.answers(d, sid)],
                         [("page", 4, 0), ("page", 9, 1)])
        self.assertEqual(len(self.tickets(d)), 1)
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM triggers WHERE milestone = 'complaint'"), 1)
        # The page now shows the amended answers prefilled.
        status, _, page = self.get_page(d, token)
        self.assertEqual(status, 200)
        self.assertIn('name="score" value="9" checked', page)

    def test_missing_required_answer_is_refused_and_nothing_stored(self):
        m, d = self.start_webhook()
        _, sid = self.sent_survey(m, d, trigger_body("completion"))
        token = self.page_token(m, sid)
        form = dict(COMPLETION_FORM)  # no score
        status, hdrs, page = self.post_page(d, token, form)
        self.assertHtml(status, hdrs, 400)
        score_q = next(q for q in load_survey("completion")["questions"] if q["id"] == "score")
        self.assertIn("请回答：" + html.escape(score_q["text"]), page)
        self.assertIn('href="#q-score"', page)
        # Bad values name their question too.
        status, hdrs, page = self.post_page(d, token, dict(COMPLETION_FORM, score="11"))
        self.assertHtml(status, hdrs, 400)
        self.assertIn('href="#q-score"', page)
        s = self.survey(d, sid)
        self.assertEqual((s["state"], s["score"], s["answers"], s["answered_at"]),
                         ("open", None, None, None))
        self.assertEqual((self.answers(d), self.tickets(d)), ([], []))

    def test_tampered_link_is_not_found(self):
        m, d = self.start_webhook()
        _, sid = self.sent_survey(m, d, trigger_body("completion"))
        token = self.page_token(m, sid)
        sid_s, exp, mac = token.split(".")
        flipped = mac[:-1] + ("0" if mac[-1] != "0" else "1")
        other = str(int(sid_s) + 1)
        for bad in (".".join((sid_s, exp, flipped)),                 # another MAC
                    ".".join((other, exp, mac)),                     # another survey
                    ".".join((sid_s, str(int(exp) + DAY), mac)),     # a longer expiry
                    ".".join((sid_s, exp)), "nonsense", token + "0"):
            with self.subTest(token=bad):
                for method in ("GET", "POST"):
                    if method == "GET":
                        status, hdrs, page = self.get_page(d, bad)
                    else:
                        status, hdrs, page = self.post_page(d, bad, dict(COMPLETION_FORM,
                                                                         score="3"))
                    self.assertHtml(status, hdrs, 404)
                    self.assertIn(html.escape(COMPANY_NAME), page)
                    self.assertNotIn("陈女士", page)
                    self.assertNotIn(token, page)
        self.assertEqual((self.answers(d), self.tickets(d)), ([], []))
        self.assertEqual(self.survey(d, sid)["state"], "open")

    def test_expired_link_is_gone(self):
        m, d = self.start_webhook()
        _, sid = self.sent_survey(m, d, trigger_body("completion"))
        token = self.page_token(m, sid)
        d.restart(clock="2026-12-02T15:05:00+08:00")  # 8 days later; validity 7 days
        status, hdrs, page = self.get_page(d, token)
        self.assertHtml(status, hdrs, 410)
        self.assertNotIn("陈女士", page)
        status, hdrs, page = self.post_page(d, token, dict(COMPLETION_FORM, score="3"))
        self.assertHtml(status, hdrs, 410)
        self.assertEqual((self.answers(d), self.tickets(d)), ([], []))
        self.assertIsNone(self.survey(d, sid)["answered_at"])


# ==========================================================================
# 2. SMS replies
# ==========================================================================

def smsup(content, mobile=MOBILE, seq=1):
    return {"phone_number": mobile, "send_time": "2026-11-24 15:06:00", "content": content,
            "sign_name": SIGN_NAME, "dest_code": "", "sequence_id": seq}


class SmsReplyTest(AnswerCase):

    def reply(self, d, elements, provider="aliyun"):
        path = "/callbacks/%s/%s/reply" % (CB_TOKEN, provider)
        return d.request("POST", path, elements)

    def test_aliyun_reply_answers_the_survey_once(self):
        m, d = self.start_pair("aliyun")
        ids, sid = self.sent_survey(m, d, trigger_body("completion"))
        self.assertEqual(d.message(sid)["channel"], "sms")
        push = [smsup("9分 工长很负责")]
        self.assertEqual(self.reply(d, push), (200, {"code": 0, "msg": "接收成功"}))
        s = self.survey(d, sid)
        self.assertEqual((s["score"], s["flagged"]), (9, 0))
        self.assertEqual(json.loads(s["answers"]), {"score": "9", "suggestion": "工长很负责"})
        with self.subTest("the reply is the survey's result"):
            self.assertEqual(s["state"], "answered")
            self.assertIsNotNone(s["answered_at"])
        a = self.answers(d)
        self.assertEqual([(x["message_id"], x["channel"], x["raw"], x["score"], x["mobile"],
                           x["amendment"], x["flagged"]) for x in a],
                         [(sid, "sms", "9分 工长很负责", 9, MOBILE, 0, 0)])
        # Aliyun pushes again: nothing changes.
        self.assertEqual(self.reply(d, push), (200, {"code": 0, "msg": "接收成功"}))
        self.assertEqual(self.answers(d), a)
        self.assertEqual(self.survey(d, sid), s)
        self.assertEqual(self.tickets(d), [])

    def test_reply_from_unknown_number_is_kept_flagged(self):
        m, d = self.start_pair("aliyun")
        self.sent_survey(m, d, trigger_body("completion"))
        text = "你们的工人把我家门弄坏了"
        self.assertEqual(self.reply(d, [smsup(text, mobile=UNKNOWN_MOBILE)]),
                         (200, {"code": 0, "msg": "接收成功"}))
        a = self.answers(d)
        self.assertEqual([(x["message_id"], x["channel"], x["raw"], x["mobile"], x["flagged"])
                          for x in a], [(None, "sms", text, UNKNOWN_MOBILE, 1)])
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM surveys WHERE state != 'open'"), 0)

    def test_td_opts_out_and_the_next_survey_is_cancelled(self):
        m, d = self.start_pair("aliyun")
        self.sent_survey(m, d, trigger_body("material_inspection"))
        self.assertEqual(self.reply(d, [smsup("TD")]), (200, {"code": 0, "msg": "接收成功"}))
        self.assertEqual(d.scalar("SELECT opted_out FROM customers WHERE id = 'C-0042'"), 1)
        a = self.answers(d)
        self.assertEqual([(x["message_id"], x["channel"], x["raw"], x["mobile"]) for x in a],
                         [(None, "sms", "TD", MOBILE)])
        self.assertEqual(json.loads(a[0]["parsed"]), {"opt_out": True})
        # The next survey for that customer is not sent.
        before = len(self.records(m, ALIYUN_SEND))
        ids = self.post(d, trigger_body("completion"))
        row = d.wait_state(ids["survey"], DONE)
        self.assertEqual((row["state"], row["last_code"], row["attempts"],
                          d.attempts(ids["survey"])), ("cancelled", "opted_out", 0, []))
        d.wait_state(ids["notice"], ("sent", "delivered"))
        self.assert_settled(d)
        keys = [r["idempotency_key"] for r in self.records(m, ALIYUN_SEND)[before:]]
        self.assertEqual(keys, ["hf-%d" % ids["notice"]])

    def test_tencent_reply_answers_the_survey(self):
        m, d = self.start_pair("tencent")
        ids, sid = self.sent_survey(m, d, trigger_body("completion"))
        push = {"extend": "", "mobile": MOBILE, "nationcode": "86", "sign": SIGN_NAME,
                "text": "8", "time": epoch(TUESDAY_1505) + 60}
        self.assertEqual(self.reply(d, push, "tencent"), (200, {"result": 0, "errmsg": "OK"}))
        s = self.survey(d, sid)
        self.assertEqual(s["score"], 8)
        with self.subTest("the reply is the survey's result"):
            self.assertEqual(s["state"], "answered")
        a = self.answers(d)
        self.assertEqual([(x["message_id"], x["channel"], x["raw"], x["score"], x["mobile"])
                          for x in a], [(sid, "sms", "8", 8, MOBILE)])
        self.assertEqual(self.reply(d, push, "tencent"), (200, {"result": 0, "errmsg": "OK"}))
        self.assertEqual(self.answers(d), a)

    def test_reply_with_wrong_callback_token_is_not_found(self):
        m, d = self.start_pair("aliyun")
        _, sid = self.sent_survey(m, d, trigger_body("completion"))
        for path in ("/callbacks/x%s/aliyun/reply" % CB_TOKEN[1:],
                     "/callbacks/%s/tencent/reply" % CB_TOKEN[:-1]):
            status, _ = d.request("POST", path, [smsup("3")])
            self.assertEqual(status, 404)
        self.assertEqual((self.answers(d), self.survey(d, sid)["state"]), ([], "open"))


# ==========================================================================
# 3. The WeChat callback server
# ==========================================================================

class WeChatCallbackTest(AnswerCase):

    def wx_post(self, d, xml, ts=None, nonce="8812345", secure=False, signature=None,
                msg_signature=None, openid=OPENID):
        ts = str(ts if ts is not None else self.daemon_now())
        q = {"signature": signature or wx_sig(WX_CB_TOKEN, ts, nonce), "timestamp": ts,
             "nonce": nonce, "openid": openid}
        body = xml
        if secure:
            enc = wx_encrypt(xml)
            body = wx_xml(ToUserName=GH, Encrypt=enc)
            q["encrypt_type"] = "aes"
            q["msg_signature"] = msg_signature or wx_sig(WX_CB_TOKEN, ts, nonce, enc)
        status, hdrs, raw = d.raw("POST", "/wechat/callback?" + urllib.parse.urlencode(q),
                                  body.encode(), {"Content-Type": "text/xml"})
        return status, hdrs, raw.decode()

    def text_msg(self, content, msg_id, openid=OPENID):
        return wx_xml(ToUserName=GH, FromUserName=openid, CreateTime=self.daemon_now(),
                      MsgType="text", Content=content, MsgId=msg_id)

    def event_msg(self, event, **extra):
        return wx_xml(ToUserName=GH, FromUserName=extra.pop("openid", OPENID),
                      CreateTime=self.daemon_now(), MsgType="event", Event=event, **extra)

    def wechat_survey(self, m, d, pm_wecom=False):
        body = trigger_body("completion", customer={"wechat_openid": OPENID})
        if pm_wecom:
            body["project"]["staff"]["pm"]["wecom_id"] = PM_WECOM
        ids, sid = self.sent_survey(m, d, body)
        self.assertEqual(d.message(sid)["channel"], "wechat")
        return ids, sid

    def test_url_verification(self):
        m, d = self.start_wechat()
        ts, nonce, echo = str(self.daemon_now()), "1320562132", "5837397520665436492"
        good = {"signature": wx_sig(WX_CB_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
                "echostr": echo}
        status, _, raw = d.raw("GET", "/wechat/callback?" + urllib.parse.urlencode(good))
        self.assertEqual((status, raw), (200, echo.encode()))
        for what, q in (("bad signature", dict(good, signature=wx_sig("other", ts, nonce))),
                        ("signature of another nonce", dict(good, nonce="1")),
                        ("no signature", {k: v for k, v in good.items() if k != "signature"})):
            with self.subTest(what):
                status, _, raw = d.raw("GET", "/wechat/callback?" + urllib.parse.urlencode(q))
                self.assertEqual(status, 403, raw)
                self.assertNotIn(echo.encode(), raw)

    def test_plain_text_answer_passive_reply_ticket_and_dedup(self):
        m, d = self.start_wechat()
        ids, sid = self.wechat_survey(m, d, pm_wecom=True)
        xml = self.text_msg("4", "24000000000000101")
        status, hdrs, raw = self.wx_post(d, xml)
        self.assertEqual(status, 200, raw)
        r = xml_fields(raw)
        self.assertEqual((r["ToUserName"], r["FromUserName"], r["MsgType"]), (OPENID, GH, "text"))
        self.assertIn("4分", r["Content"])
        a = self.answers(d)
        self.assertEqual([(x["message_id"], x["channel"], x["raw"], x["score"], x["amendment"],
                           x["customer_id"]) for x in a], [(sid, "wechat", "4", 4, 0, "C-0042")])
        t = self.tickets(d)
        self.assertEqual([(x["survey_id"], x["state"]) for x in t], [(sid, "open")])
        # Acknowledgement by WeChat, both alerts on WeCom.
        msgs = self.assert_complaint_planned(d, "survey-%d-complaint" % sid,
                                             {"ack": "wechat", "alert_pm": "wecom",
                                              "alert_cs": "wecom"})
        recs = self.wait_records(m, WECOM_SEND, 2)
        # Every WeCom alert ends with its reference (wecom.c).
        self.assertEqual(sorted((x["body"]["text"]["content"].rsplit("编号：", 1)[-1],
                                 x["body"]["touser"]) for x in recs),
                         sorted([("hf-%d" % msgs["alert_pm"]["id"], PM_WECOM),
                                 ("hf-%d" % msgs["alert_cs"]["id"], CS_MANAGER["wecom_id"])]))
        ack = wait_until(lambda: [x for x in self.records(m, TEMPLATE_SEND)
                                  if x["idempotency_key"] == "hf-%d" % msgs["ack"]["id"]], 5,
                         what="the acknowledgement by WeChat")[0]
        self.assertEqual(ack["body"]["touser"], OPENID)
        # WeChat repeats the message (same MsgId): nothing new.
        status, _, raw2 = self.wx_post(d, xml, nonce="99887766")
        self.assertEqual(status, 200, raw2)
        self.assertEqual(self.answers(d), a)
        self.assertEqual(len(self.tickets(d)), 1)
        s = self.survey(d, sid)
        self.assertEqual(s["score"], 4)
        with self.subTest("the reply is the survey's result"):
            self.assertEqual(s["state"], "answered")

    def test_low_score_alerts_a_pm_without_wecom_by_sms(self):
        # The PM has a phone and no WeCom id: "WeCom, else SMS" (issue 4).
        m, d = self.start_wechat()
        ids, sid = self.wechat_survey(m, d)
        status, _, raw = self.wx_post(d, self.text_msg("4", "24000000000000111"))
        self.assertEqual(status, 200, raw)
        self.assertEqual([(x["channel"], x["score"]) for x in self.answers(d)], [("wechat", 4)])
        self.assertEqual(len(self.tickets(d)), 1)
        msgs = self.assert_complaint_planned(d, "survey-%d-complaint" % sid,
                                             {"ack": "wechat", "alert_pm": "sms",
                                              "alert_cs": "wecom"})
        rec = wait_until(lambda: [x for x in self.records(m, ALIYUN_SEND)
                                  if x["idempotency_key"] == "hf-%d" % msgs["alert_pm"]["id"]], 5,
                         what="the PM's SMS")[0]
        self.assertEqual(rec["body"]["phone"], "13900001111")

    def test_opt_out_by_wechat_text(self):
        m, d = self.start_wechat()
        self.wechat_survey(m, d)
        status, _, raw = self.wx_post(d, self.text_msg("退订", "24000000000000121"))
        self.assertEqual(status, 200, raw)
        self.assertIn("退订", xml_fields(raw)["Content"])
        self.assertEqual(d.scalar("SELECT opted_out FROM customers WHERE id = 'C-0042'"), 1,
                         "the customer was told they are unsubscribed")

    def test_text_without_open_survey_is_kept_for_customer_service(self):
        m, d = self.start_wechat()
        self.wechat_survey(m, d)
        other = "oE2eSomebodyElse"
        status, _, raw = self.wx_post(d, self.text_msg("厨房水龙头漏水", "24000000000000131",
                                                       openid=other), openid=other)
        self.assertEqual(status, 200, raw)
        r = xml_fields(raw)
        self.assertEqual(r["ToUserName"], other)
        self.assertIn("400-800-1234", r["Content"])
        self.assertEqual([(x["message_id"], x["channel"], x["raw"], x["flagged"])
                          for x in self.answers(d)], [(None, "wechat", "厨房水龙头漏水", 1)])

    def test_secure_mode_text_answer_and_encrypted_reply(self):
        m, d = self.start_wechat()
        ids, sid = self.wechat_survey(m, d)
        nonce = "1234567890"
        status, hdrs, raw = self.wx_post(d, self.text_msg("10分", "24000000000000202"),
                                         nonce=nonce, secure=True)
        self.assertEqual(status, 200, raw)
        env = xml_fields(raw)
        self.assertEqual(sorted(env), ["Encrypt", "MsgSignature", "Nonce", "TimeStamp"], raw)
        self.assertEqual(env["MsgSignature"],
                         wx_sig(WX_CB_TOKEN, env["TimeStamp"], env["Nonce"], env["Encrypt"]))
        inner, receive_id = wx_decrypt(env["Encrypt"])
        self.assertEqual(receive_id, WX_APPID)
        r = xml_fields(inner)
        self.assertEqual((r["ToUserName"], r["FromUserName"], r["MsgType"]), (OPENID, GH, "text"))
        self.assertIn("10分", r["Content"])
        self.assertEqual([(x["message_id"], x["channel"], x["raw"], x["score"])
                          for x in self.answers(d)], [(sid, "wechat", "10分", 10)])
        self.assertEqual(self.tickets(d), [])
        s = self.survey(d, sid)
        self.assertEqual(s["score"], 10)
        with self.subTest("the reply is the survey's result"):
            self.assertEqual(s["state"], "answered")

    def test_forged_or_stale_requests_are_refused_and_store_nothing(self):
        m, d = self.start_wechat()
        ids, sid = self.wechat_survey(m, d)
        xml = self.text_msg("8", "24000000000000303")
        now = self.daemon_now()
        cases = [
            ("forged signature", dict(signature=wx_sig("not-the-token", str(now), "1"),
                                      nonce="1")),
            ("forged signature, secure", dict(secure=True, signature="0" * 40)),
            ("forged msg_signature", dict(secure=True, msg_signature=wx_sig("x", "y", "z"))),
            ("stale timestamp", dict(ts=now - 3600)),
            ("future timestamp", dict(ts=now + 3600)),
            ("stale timestamp, secure", dict(ts=now - 3600, secure=True)),
        ]
        for what, kw in cases:
            with self.subTest(what):
                status, _, raw = self.wx_post(d, xml, **kw)
                self.assertEqual(status, 403, raw)
        # Ciphertext swapped under a valid msg_signature of another one.
        ts, nonce = str(now), "5551234"
        enc = wx_encrypt(xml)
        other = wx_encrypt(self.text_msg("1", "24000000000000304"))
        q = {"signature": wx_sig(WX_CB_TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
             "openid": OPENID, "encrypt_type": "aes",
             "msg_signature": wx_sig(WX_CB_TOKEN, ts, nonce, enc)}
        status, _, raw = d.raw("POST", "/wechat/callback?" + urllib.parse.urlencode(q),
                               wx_xml(ToUserName=GH, Encrypt=other).encode(),
                               {"Content-Type": "text/xml"})
        self.assertEqual(status, 403, raw)
        self.assertEqual((self.answers(d), self.tickets(d)), ([], []))
        self.assertEqual(self.survey(d, sid)["state"], "open")
        # The same message signed correctly is taken (the fixtures are right).
        status, _, raw = self.wx_post(d, xml, secure=True)
        self.assertEqual(status, 200, raw)
        self.assertEqual([(x["channel"], x["score"]) for x in self.answers(d)], [("wechat", 8)])

    def test_subscribe_and_unsubscribe_update_the_customer(self):
        m, d = self.start_wechat()
        self.post(d, trigger_body("material_inspection", customer={"wechat_openid": OPENID}))
        sub = "SELECT wechat_subscribed FROM customers WHERE id = 'C-0042'"
        self.assertIsNone(d.scalar(sub))
        status, _, raw = self.wx_post(d, self.event_msg("unsubscribe", EventKey=""))
        self.assertEqual((status, raw), (200, "success"))
        self.assertEqual(d.scalar(sub), 0)
        status, _, raw = self.wx_post(d, self.event_msg("subscribe", EventKey=""))
        self.assertEqual((status, raw), (200, "success"))
        self.assertEqual(d.scalar(sub), 1)
        self.assertEqual(self.answers(d), [])

    def test_template_send_job_finish_settles_or_falls_back_to_sms(self):
        m, d = self.start_wechat()
        ids = self.post(d, trigger_body("material_inspection", customer={"wechat_openid": OPENID}))
        rows = {n: d.wait_state(i, DONE) for n, i in ids.items()}
        for n, r in rows.items():
            self.assertEqual((r["state"], r["channel"]), ("sent", "wechat"), n)
        ok = self.event_msg("TEMPLATESENDJOBFINISH", MsgID=rows["notice"]["provider_id"],
                            Status="success")
        status, _, raw = self.wx_post(d, ok)
        self.assertEqual((status, raw), (200, "success"))
        row = d.message(ids["notice"])
        self.assertEqual((row["state"], row["channel"], row["fallback_from"]),
                         ("delivered", "wechat", None))
        self.assertEqual(d.rows("SELECT provider, message_id, delivered, code FROM receipts"),
                         [{"provider": "wechat", "message_id": ids["notice"], "delivered": 1,
                           "code": "success"}])

        bad = self.event_msg("TEMPLATESENDJOBFINISH", MsgID=rows["survey"]["provider_id"],
                             Status="failed: system failed")
        status, _, raw = self.wx_post(d, bad)
        self.assertEqual((status, raw), (200, "success"))
        sid = ids["survey"]
        row = wait_until(lambda: (lambda r: r if r["channel"] == "sms" and r["state"] in DONE
                                  else None)(d.message(sid)), 5, what="the SMS fallback sent")
        self.assertEqual((row["state"], row["channel"], row["fallback_from"]),
                         ("sent", "sms", "wechat"))
        sms = self.wait_records(m, ALIYUN_SEND, 1)
        self.assertEqual([r["idempotency_key"] for r in sms], ["hf-%d" % sid])
        # The same event again changes nothing.
        status, _, raw = self.wx_post(d, bad, nonce="424242")
        self.assertEqual((status, raw), (200, "success"))
        self.assert_settled(d)
        self.assertEqual(d.message(sid)["state"], "sent")
        self.assertEqual(len(self.records(m, ALIYUN_SEND)), 1)


# ==========================================================================
# 4. Ticket clocks and actions
# ==========================================================================

class TicketTest(AnswerCase):

    def open_ticket(self, m, d, score="2"):
        _, sid = self.sent_survey(m, d, trigger_body("completion"))
        token = self.page_token(m, sid)
        self.assertEqual(self.post_page(d, token, dict(COMPLETION_FORM, score=score))[0], 200)
        t = wait_until(lambda: self.tickets(d), 5, what="the ticket")
        self.assertEqual(len(t), 1)
        return sid, t[0]

    def escalations(self, d):
        return d.rows("SELECT * FROM messages WHERE milestone = 'complaint'"
                      " AND message = 'escalation' ORDER BY id")

    def test_overdue_clocks_escalate_once_each_across_restarts(self):
        m, d = self.start_webhook({"tickets": {"report_within": "1m", "answer_within": "3m"}})
        sid, t = self.open_ticket(m, d)
        self.assertEqual((t["report_due_at"] - t["opened_at"], t["answer_due_at"] - t["opened_at"]),
                         (60, 180))
        self.assertEqual(self.escalations(d), [])
        # Two minutes later: the report clock ran out, the answer clock not yet.
        d.restart(clock="2026-11-24T15:07:00+08:00")
        wait_until(lambda: self.tickets(d)[0]["report_escalated"] == 1, 5,
                   what="the report escalation")
        esc = self.escalations(d)
        self.assertEqual([(e["recipient"], e["kind"], e["channel"]) for e in esc],
                         [("cs_manager", "alert", "webhook")])
        rec = wait_until(lambda: m.requests(key="hf-%d" % esc[0]["id"]), 5,
                         what="the escalation at the mock")[0]["body"]
        self.assertEqual(rec["recipient"]["name"], CS_MANAGER["name"])
        self.assertIn("投诉超时", rec["text"])
        self.assertEqual(self.tickets(d)[0]["answer_escalated"], 0)
        # Five minutes later (another restart): the answer clock ran out too;
        # the report clock is not escalated a second time.
        d.restart(clock="2026-11-24T15:10:00+08:00")
        wait_until(lambda: self.tickets(d)[0]["answer_escalated"] == 1, 5,
                   what="the answer escalation")
        tk = self.tickets(d)[0]
        self.assertEqual((tk["report_escalated"], tk["answer_escalated"], tk["state"]),
                         (1, 1, "open"))
        self.assertEqual(len(self.escalations(d)), 2)
        status, resp = self.cs_get(d, "/v1/tickets/%d" % tk["id"])
        self.assertEqual((status, resp["report_overdue"], resp["answer_overdue"]), (200, 1, 1))

    def test_report_resolve_and_follow_up_survey(self):
        m, d = self.start_webhook()
        sid, t = self.open_ticket(m, d)
        tid = t["id"]
        status, resp = self.cs_post(d, "/v1/tickets/%d/report" % tid,
                                    {"note": "已联系工长，明天上午上门检查"})
        self.assertEqual(status, 200, resp)
        self.assertEqual((resp["id"], resp["state"], resp["report_note"]),
                         (tid, "reported", "已联系工长，明天上午上门检查"))
        self.assertIsNotNone(resp["reported_at"])
        status, resp = self.cs_post(d, "/v1/tickets/%d/report" % tid, {"note": "again"})
        self.assertError(status, resp, 409, "ticket_state", "id")

        status, resp = self.cs_post(d, "/v1/tickets/%d/resolve" % tid,
                                    {"resolution": "已返修，客户确认"})
        self.assertEqual(status, 200, resp)
        self.assertEqual((resp["state"], resp["resolution"]), ("resolved", "已返修，客户确认"))
        resolved = epoch(resp["resolved_at"])
        tk = self.tickets(d)[0]
        self.assertEqual((tk["state"], tk["resolved_at"]), ("resolved", resolved))
        # The follow-up survey: two days later, inside the survey window.
        f = self.trigger_messages(d, "survey-%d-complaint" % sid)["followup"]
        self.assertEqual((f["kind"], f["recipient"], f["state"]), ("survey", "customer", "pending"))
        self.assertEqual(f["due_at"], resolved + 2 * DAY)
        self.assertTrue(in_survey_window(f["due_at"]), iso_local(f["due_at"]))
        fs = self.survey(d, f["id"])
        self.assertEqual((fs["survey"], fs["state"], fs["milestone"]),
                         ("complaint_followup", "open", "complaint"))

        for action, body in (("report", {"note": "late"}), ("resolve", {"resolution": "x"})):
            with self.subTest("%s a resolved ticket" % action):
                status, resp = self.cs_post(d, "/v1/tickets/%d/%s" % (tid, action), body)
                self.assertError(status, resp, 409, "ticket_state", "id")
        self.assertEqual(len(self.trigger_messages(d, "survey-%d-complaint" % sid)), 4)

    def test_unsatisfied_follow_up_reopens_the_complaint(self):
        m, d = self.start_webhook()
        sid, t = self.open_ticket(m, d)
        status, resp = self.cs_post(d, "/v1/tickets/%d/resolve" % t["id"],
                                    {"resolution": "已返修"})
        self.assertEqual(status, 200, resp)
        fid = self.trigger_messages(d, "survey-%d-complaint" % sid)["followup"]["id"]
        d.restart(clock="2026-11-26T15:10:00+08:00")  # the follow-up is due
        d.wait_state(fid, ("sent", "delivered"))
        status, _, page = self.post_page(d, self.page_token(m, fid),
                                         {"_": "1", "resolved": "no", "handling_ok": "no",
                                          "comment": "还是漏水"})
        self.assertEqual(status, 200, page)
        fs = self.survey(d, fid)
        self.assertEqual((fs["state"], json.loads(fs["answers"])["resolved"]), ("answered", "no"))
        status, resp = self.cs_get(d, "/v1/tickets?state=open")
        self.assertEqual(status, 200, resp)
        self.assertEqual([(x["project_id"], x["customer_id"]) for x in resp["items"]],
                         [("P-2026-0042", "C-0042")], resp)
        # It is the same ticket, open again with fresh clocks: not a second one.
        self.assertEqual(resp["items"][0]["id"], t["id"])
        self.assertEqual(len(self.tickets(d)), 1)
        self.assertIn("重新打开", resp["items"][0]["detail"])

    def test_ticket_api_errors(self):
        m, d = self.start_webhook()
        sid, t = self.open_ticket(m, d)
        tid = t["id"]
        path = "/v1/tickets/%d/report" % tid
        status, resp = self.cs_post(d, "/v1/tickets/%d/report" % (tid + 1000), {"note": "x"})
        self.assertError(status, resp, 404, "not_found", "id")
        status, resp = self.cs_get(d, "/v1/tickets/%d" % (tid + 1000))
        self.assertError(status, resp, 404, "not_found", "id")
        status, resp = d.request("POST", path, {"note": "x"})
        self.assertError(status, resp, 401, "unauthorized", "Authorization")
        status, resp = d.request("GET", "/v1/tickets")
        self.assertError(status, resp, 401, "unauthorized", "Authorization")
        status, resp = self.cs_post(d, path, {"note": "x"}, token=TRIGGER_TOKEN)
        self.assertError(status, resp, 403, "forbidden", "Authorization")
        status, resp = self.cs_get(d, "/v1/tickets", token=TRIGGER_TOKEN)
        self.assertError(status, resp, 403, "forbidden", "Authorization")
        status, resp = self.cs_post(d, path, {"text": "x"})
        self.assertError(status, resp, 400, "invalid_field", "note")
        status, resp = self.cs_post(d, path, {"note": ""})
        self.assertError(status, resp, 400, "invalid_field", "note")
        # JSON that is not an object (the code was read from the freed
        # document: `make valgrind` found it).
        status, resp = self.cs_post(d, path, ["note", "x"])
        self.assertError(status, resp, 400, "invalid_json", "note")
        status, resp = self.cs_get(d, "/v1/tickets?state=closed")
        self.assertError(status, resp, 400, "invalid_field", "state")
        # The admin token may act too; the ticket was untouched until then.
        self.assertEqual(self.tickets(d)[0]["state"], "open")
        status, resp = self.cs_post(d, path, {"note": "ok"}, token=ADMIN_TOKEN)
        self.assertEqual((status, resp["state"]), (200, "reported"))

    def test_followup_after_config_sets_the_followup_delay(self):
        # tickets.followup_after is a documented config key (config.h:
        # "satisfaction follow-up after resolve").
        m, d = self.start_webhook({"tickets": {"followup_after": "3d"}})
        sid, t = self.open_ticket(m, d)
        status, resp = self.cs_post(d, "/v1/tickets/%d/resolve" % t["id"],
                                    {"resolution": "已处理"})
        self.assertEqual(status, 200, resp)
        f = self.trigger_messages(d, "survey-%d-complaint" % sid)["followup"]
        self.assertEqual(f["due_at"], epoch(resp["resolved_at"]) + 3 * DAY,
                         "follow-up due %s, resolved %s" % (iso_local(f["due_at"]),
                                                            resp["resolved_at"]))


# ==========================================================================
# 5. A complaint from the ERP
# ==========================================================================

class ComplaintTriggerTest(AnswerCase):

    def test_complaint_trigger_opens_a_ticket(self):
        m, d = self.start_webhook()
        reason = "卫生间墙面渗水，工长两天没回电话"
        body = trigger_body("complaint", variables={"reason": reason})
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        self.assertIsInstance(resp.get("ticket_id"), int, resp)
        tid = resp["ticket_id"]
        self.assertEqual(sorted(x["message"] for x in resp["messages"]),
                         ["ack", "alert_cs", "alert_pm"])
        msgs = self.assert_complaint_planned(d, body["idempotency_key"])
        tk = self.tickets(d)
        self.assertEqual([(x["id"], x["reason"], x["detail"], x["survey_id"], x["state"],
                           x["report_due_at"] - x["opened_at"], x["answer_due_at"] - x["opened_at"])
                          for x in tk], [(tid, "complaint", reason, None, "open", 7200, 172800)])
        ack = None
        for name, row in msgs.items():
            d.wait_state(row["id"], ("sent", "delivered"))
            rec = wait_until(lambda: m.requests(key="hf-%d" % row["id"]), 5, what=name)[0]
            if name == "ack":
                ack = rec["body"]
        self.assertIn(reason, ack["text"])
        # The ERP repeats the trigger: the same answer, no second ticket.
        status, again, _ = d.post_trigger(body)
        self.assertEqual((status, again), (200, resp))
        self.assertEqual(len(self.tickets(d)), 1)

    def test_repair_request_opens_a_ticket_with_a_48_hour_clock(self):
        m, d = self.start_webhook()
        reason = "厨房水龙头漏水"
        body = trigger_body("repair_request", variables={"reason": reason})
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        self.assertEqual(sorted(x["message"] for x in resp["messages"]),
                         ["ack", "alert_cs", "alert_pm"])
        tk = self.tickets(d)
        self.assertEqual([(x["id"], x["reason"], x["detail"], x["state"],
                           x["answer_due_at"] - x["opened_at"]) for x in tk],
                         [(resp["ticket_id"], "repair_request", reason, "open", 172800)])
        ack_id = next(x["id"] for x in resp["messages"] if x["message"] == "ack")
        d.wait_state(ack_id, ("sent", "delivered"))
        ack = wait_until(lambda: m.requests(key="hf-%d" % ack_id), 5, what="ack")[0]["body"]
        self.assertIn("48小时之内派人上门维修", ack["text"])
        self.assertIn(reason, ack["text"])

    def test_complaint_trigger_alerts_a_pm_without_wecom_by_sms(self):
        m, d = self.start_wechat()
        body = trigger_body("complaint", variables={"reason": "地砖空鼓"})
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        self.assertEqual({x["message"]: x["channel"] for x in resp["messages"]},
                         {"ack": "sms", "alert_pm": "sms", "alert_cs": "wecom"})

    def test_complaint_trigger_needs_a_reason(self):
        m, d = self.start_webhook()
        status, resp, _ = d.post_trigger(trigger_body("complaint"))
        self.assertError(status, resp, 400, "missing_field", "variables.reason")
        self.assertEqual(self.tickets(d), [])


# ==========================================================================
# 6. Callback results
# ==========================================================================

class ResultsTest(AnswerCase):

    def test_results_filters_and_pagination(self):
        m, d = self.start_webhook()
        a = self.post(d, trigger_body("completion"))
        b = self.post(d, trigger_body("completion", customer=sms_customer("C-0043", "13812340043"),
                                      project={"id": "P-2026-0043"}))
        c = self.post(d, trigger_body("material_inspection",
                                      customer=sms_customer("C-0044", "13812340044"),
                                      project={"id": "P-2026-0044"}))
        for ids in (a, b, c):
            d.wait_state(ids["survey"], ("sent", "delivered"))
        # a: score 4 (a ticket); b: score 8 with a complaint word (flagged);
        # c: unanswered; the rating confirmations wait for tomorrow.
        self.assertEqual(self.post_page(d, self.page_token(m, a["survey"]),
                                        dict(COMPLETION_FORM, score="4"))[0], 200)
        self.assertEqual(self.post_page(d, self.page_token(m, b["survey"]),
                                        dict(COMPLETION_FORM, score="8",
                                             suggestion="卫生间有点渗水，请派人看看"))[0], 200)
        # The rating confirmations (tomorrow) and the warranty follow-ups
        # (next month on) have not been asked yet: they are no results yet.
        all_ids = sorted([a["survey"], b["survey"], c["survey"]])

        def ids_of(query):
            status, resp = self.cs_get(d, "/v1/results" + query)
            self.assertEqual(status, 200, (query, resp))
            return [r["id"] for r in resp["items"]]

        self.assertEqual(ids_of(""), all_ids)
        self.assertEqual(ids_of("?milestone=completion"), sorted([a["survey"], b["survey"]]))
        self.assertEqual(ids_of("?milestone=material_inspection"), [c["survey"]])
        self.assertEqual(ids_of("?state=answered"), sorted([a["survey"], b["survey"]]))
        self.assertEqual(ids_of("?state=open"), [c["survey"]])
        self.assertEqual(ids_of("?score_max=6"), [a["survey"]])
        self.assertEqual(ids_of("?score_min=7"), [b["survey"]])
        self.assertEqual(ids_of("?flagged=1"), [b["survey"]])
        self.assertEqual(ids_of("?project=P-2026-0044"), [c["survey"]])
        self.assertEqual(ids_of("?customer=C-0043"), [b["survey"]])
        self.assertEqual(ids_of("?from=2026-11-24T00:00:00%2B08:00"), all_ids)
        self.assertEqual(ids_of("?to=2026-11-24T00:00:00%2B08:00"), [])
        self.assertEqual(ids_of("?milestone=completion&state=answered&score_max=6"), [a["survey"]])

        # One result in full.
        status, resp = self.cs_get(d, "/v1/results?score_max=6")
        r = resp["items"][0]
        self.assertEqual((r["survey"], r["milestone"], r["project_id"], r["customer_id"],
                          r["customer_name"], r["state"], r["score"], r["flagged"], r["channel"]),
                         ("completion", "completion", "P-2026-0042", "C-0042", "陈", "answered",
                          4, 0, "webhook"))
        self.assertEqual(r["answers"]["score"], "4")
        self.assertEqual([(h["channel"], h["score"], h["amendment"]) for h in r["history"]],
                         [("page", 4, 0)])
        self.assertEqual(r["staff"]["pm"], "张伟")

        # Cursor pagination, one at a time.
        seen, cursor, pages = [], None, 0
        while True:
            status, resp = self.cs_get(d, "/v1/results?limit=1" +
                                       ("&cursor=%d" % cursor if cursor is not None else ""))
            self.assertEqual(status, 200, resp)
            self.assertLessEqual(len(resp["items"]), 1)
            seen += [x["id"] for x in resp["items"]]
            pages += 1
            self.assertLess(pages, 10, "pagination does not end")
            if resp["next_cursor"] is None:
                break
            self.assertEqual(resp["next_cursor"], str(seen[-1]))
            cursor = int(resp["next_cursor"])
        self.assertEqual(seen, all_ids)
        status, resp = self.cs_get(d, "/v1/results?limit=2&cursor=%d" % all_ids[0])
        self.assertEqual(([x["id"] for x in resp["items"]], resp["next_cursor"]),
                         (all_ids[1:3], str(all_ids[2])))

    def test_results_bad_parameters_and_auth(self):
        m, d = self.start_webhook()
        for query, field in (("limit=0", "limit"), ("limit=abc", "limit"), ("limit=501", "limit"),
                             ("cursor=-1", "cursor"), ("cursor=x", "cursor"),
                             ("score_max=11", "score_max"), ("score_min=0", "score_min"),
                             ("score_max=", "score_max"), ("state=done", "state"),
                             ("from=yesterday", "from"), ("to=2026-11-31", "to")):
            with self.subTest(query):
                status, resp = self.cs_get(d, "/v1/results?" + query)
                self.assertError(status, resp, 400, "invalid_field", field)
        status, resp = d.get("/v1/results")
        self.assertError(status, resp, 401, "unauthorized", "Authorization")
        status, resp = d.get("/v1/results", token=TRIGGER_TOKEN)
        self.assertError(status, resp, 403, "forbidden", "Authorization")
        self.assertEqual(d.get("/v1/results", token=ADMIN_TOKEN),
                         (200, {"items": [], "next_cursor": None}))


if __name__ == "__main__":
    unittest.main()
