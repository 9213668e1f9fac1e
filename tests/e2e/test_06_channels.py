"""Real channels end to end: huifangd talks WeChat, WeCom, Aliyun SMS and
Tencent SMS to the local mock provider over each provider's real protocol
(tokens, signatures, dedup ids, error codes), and the dispatcher's token
refresh, fallback, per-number limits and timeouts behave as issue 3 says.

The mock and the daemon share one HUIFANG_CLOCK_START (the Aliyun and
Tencent mocks judge signature timestamps on it). Expected message contents
are rendered here from templates/<milestone>/<message>.json, so the tests
follow template edits instead of copying their text.

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_06_channels.py'
"""

import datetime
import hashlib
import hmac
import json
import os
import re
import shutil
import unittest

from harness import (CATALOGUE, COMPANY_NAME, COMPANY_PHONE, CST, PUBLIC_URL, SLOW, SURVEY_SECRET,
                     VALGRIND,
                     TEMPLATES, TRIGGER_TOKEN, TUESDAY_1505, WEBHOOK_SECRET, E2ETestCase,
                     deep_merge, epoch, trigger_body, wait_until)

# ---- credentials shared by the daemon (through environment variables, as
# a deployment would) and the mock ------------------------------------------
WX_APPID = "wx0e2e0appid"
WX_SECRET = "e2e-wechat-appsecret-0123456789"
WC_CORPID = "ww0e2e0corp"
WC_SECRET = "e2e-wecom-corpsecret-0123456789"
WC_AGENTID = 1000002
ALI_KEY_ID = "LTAI0e2e0key"
ALI_SECRET = "e2e-aliyun-accesskey-secret-0123"
TC_SECRET_ID = "AKID0e2e0key"
TC_SECRET_KEY = "e2e-tencent-secret-key-0123"
TC_APP_ID = "1400006666"
CB_TOKEN = "e2e-callback-token-0123456789abcdef"
SIGN_NAME = COMPANY_NAME

SECRETS_ENV = {"HF_E2E_WECHAT_SECRET": WX_SECRET, "HF_E2E_WECOM_SECRET": WC_SECRET,
               "HF_E2E_ALIYUN_SECRET": ALI_SECRET, "HF_E2E_TENCENT_SECRET": TC_SECRET_KEY,
               "HF_E2E_CALLBACK_TOKEN": CB_TOKEN}
ALL_SECRETS = (WX_SECRET, WC_SECRET, ALI_SECRET, TC_SECRET_KEY, CB_TOKEN, SURVEY_SECRET,
               WEBHOOK_SECRET, TRIGGER_TOKEN)

MOBILE = "13812345678"            # trigger_body()'s customer
MASKED = "138****5678"
PM_PHONE = "13900001111"
UNDELIVERABLE = "13800000002"     # the mocks report this number undeliverable
OPENID = "oE2eOpenid0001"
# Another customer: at most one survey reaches a customer a day, so a test
# that needs a second survey sent at once sends it to someone else.
SECOND_CUSTOMER = {"id": "C-0043", "name": "周", "mobile": "13812340043",
                   "wechat_openid": "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}
UNSUB_OPENID = "oE2eNotAFollower"  # the WeChat mock answers 43004 for it

TEMPLATE_SEND = "/wechat/cgi-bin/message/template/send"
WECOM_SEND = "/wecom/cgi-bin/message/send"
ALIYUN_SEND = "/aliyun/"
TENCENT_SEND = "/tencent/"
V3 = "ACS3-HMAC-SHA256"
V1 = "HMAC-SHA1"
MSGID_BASE = 2 ** 62              # the WeChat mock's msgids: 2^62 + record seq

MILESTONE_NAMES = {k: v["name"] for k, v in
                   json.load(open(CATALOGUE, encoding="utf-8"))["milestones"].items()}
# Matches an access token of either mock (WeChat plain/stable, WeCom).
TOKEN_RE = re.compile(r"W[XC][AS]T_\d+_[0-9a-f]{16}")


# --------------------------------------------------------------------------
# Expected content: the templates rendered here
# --------------------------------------------------------------------------

def load_template(milestone, message, tdir=TEMPLATES):
    with open(os.path.join(tdir, milestone, message + ".json"), encoding="utf-8") as f:
        return json.load(f)


_SECTION = re.compile(r"\{\{#\s*([A-Za-z0-9_.]+)\s*\}\}(.*?)\{\{/\s*\1\s*\}\}", re.S)
_VAR = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")


def render(text, variables):
    """The daemon's template language: {{name}}, and {{#name}}...{{/name}}
    shown only when the variable is non-empty. An unknown name is an error
    here (KeyError), so a template using a variable this file does not
    model fails loudly rather than comparing against a guess."""
    prev = None
    while prev != text:
        prev = text
        text = _SECTION.sub(lambda m: m.group(2) if variables.get(m.group(1)) else "", text)
    return _VAR.sub(lambda m: variables[m.group(1)], text)


def month_day(t):
    d = datetime.datetime.fromtimestamp(t, CST)
    return "%d月%d日" % (d.month, d.day)


def survey_token(mid, expires_at):
    mac = hmac.new(SURVEY_SECRET.encode(), ("%d.%d" % (mid, expires_at)).encode(),
                   hashlib.sha256).hexdigest()[:32]
    return "%d.%d.%s" % (mid, expires_at, mac)


def survey_link(mid, expires_at):
    return "%s/s/%s" % (PUBLIC_URL, survey_token(mid, expires_at))


def variables(body, row):
    """Every template variable for trigger @body and message @row."""
    v = {"company.name": COMPANY_NAME, "company.phone": COMPANY_PHONE,
         "milestone.id": body["milestone"], "milestone.name": MILESTONE_NAMES.get(
             body["milestone"], "")}
    for k, val in body["customer"].items():
        v["customer." + k] = val
    for k, val in body["project"].items():
        if isinstance(val, str):
            v["project." + k] = val
    for role, member in body["project"].get("staff", {}).items():
        for k, val in member.items():
            v["staff.%s.%s" % (role, k)] = val
    for role in ("pm", "designer", "foreman", "supervisor"):
        for k in ("name", "phone", "wecom_id"):
            v.setdefault("staff.%s.%s" % (role, k), "")
    occurred = epoch(body["occurred_at"])
    v["occurred.date"] = month_day(occurred)
    v["occurred.time"] = datetime.datetime.fromtimestamp(occurred, CST).strftime("%H:%M")
    if row["kind"] == "survey":
        v["survey.link"] = survey_link(row["id"], row["expires_at"])
        v["survey.token"] = survey_token(row["id"], row["expires_at"])
        v["survey.expires"] = month_day(row["expires_at"])
    return v


def sms_params(tpl, v):
    """The SMS template's parameters, rendered, in template order."""
    return [(k, render(val, v)) for k, val in tpl["sms"]["params"].items()]


# --------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------

def mock_config():
    return {
        "wechat": {"appid": WX_APPID, "secret": WX_SECRET,
                   "unsubscribed_openids": [UNSUB_OPENID]},
        "wecom": {"corpid": WC_CORPID, "corpsecret": WC_SECRET, "agentid": WC_AGENTID},
        "aliyun": {"access_key_id": ALI_KEY_ID, "access_key_secret": ALI_SECRET,
                   "undeliverable_numbers": [UNDELIVERABLE]},
        "tencent": {"secret_id": TC_SECRET_ID, "secret_key": TC_SECRET_KEY,
                    "sdk_app_id": TC_APP_ID, "undeliverable_numbers": [UNDELIVERABLE]},
    }


def channel_overrides(mock, sms="aliyun"):
    """Daemon config: every real channel pointed at @mock, the webhook off,
    our own per-number SMS limits off (tests that want them set them)."""
    return {
        "channels": {
            "webhook": {"enabled": False},
            "wechat": {"enabled": True, "base_url": mock.base + "/wechat", "appid": WX_APPID,
                       "secret": {"env": "HF_E2E_WECHAT_SECRET"}},
            "wecom": {"enabled": True, "base_url": mock.base + "/wecom", "corpid": WC_CORPID,
                      "secret": {"env": "HF_E2E_WECOM_SECRET"}, "agentid": WC_AGENTID},
            "sms": {"provider": sms, "sign_name": SIGN_NAME, "per_number_minute": 0,
                    "per_number_hour": 0, "per_number_day": 0},
            "aliyun": {"base_url": mock.base + "/aliyun", "access_key_id": ALI_KEY_ID,
                       "access_key_secret": {"env": "HF_E2E_ALIYUN_SECRET"}},
            "tencent": {"base_url": mock.base + "/tencent", "secret_id": TC_SECRET_ID,
                        "secret_key": {"env": "HF_E2E_TENCENT_SECRET"},
                        "sdk_app_id": TC_APP_ID},
        },
        "callbacks": {"token": {"env": "HF_E2E_CALLBACK_TOKEN"}},
    }


def sms_customer(cid="C-0042", mobile=MOBILE, **over):
    c = {"id": cid, "name": "陈", "title": "女士", "mobile": mobile}
    c.update(over)
    return c


class ChannelCase(E2ETestCase):
    """Starts a mock + daemon pair speaking the real channels, and reads
    what the mock got."""

    def start_pair(self, sms="aliyun", clock=TUESDAY_1505, daemon=None, mock=None,
                   receipts=False):
        """@daemon, @mock: overrides deep-merged into the configs; @receipts:
        point the mock's Aliyun receipt_url / Tencent status_url at the
        daemon (known only once it listens)."""
        self.mcfg = deep_merge(mock_config(), mock or {})
        m = self.start_mock(clock=clock, config=self.mcfg)
        d = self.start_daemon(m, clock=clock, env=SECRETS_ENV,
                              overrides=deep_merge(channel_overrides(m, sms), daemon or {}))
        if receipts:
            self.mcfg = deep_merge(self.mcfg, {"aliyun": {"receipt_url": self.cb_url(d, "aliyun")},
                                               "tencent": {"status_url": self.cb_url(d, "tencent")}})
            m.set_config(self.mcfg)
        return m, d

    @staticmethod
    def cb_url(d, provider, token=CB_TOKEN):
        kind = "aliyun/report" if provider == "aliyun" else "tencent/status"
        return "http://127.0.0.1:%d/callbacks/%s/%s" % (d.port, token, kind)

    def post(self, d, body):
        """POST the trigger; returns {message name: id} (asserting 202)."""
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        return {m["message"]: m["id"] for m in resp["messages"]}

    @staticmethod
    def records(m, path=None):
        return [r for r in m.requests() if path is None or r["path"] == path]

    def wait_records(self, m, path, n, timeout=5.0):
        return wait_until(lambda: (lambda rs: len(rs) >= n and rs)(self.records(m, path)),
                          timeout, what="%d record(s) at %s" % (n, path))

    def wx_stats(self, m):
        status, body = m.request("GET", "/_mock/wechat/stats")
        self.assertEqual(status, 200, body)
        return body

    def assert_settled(self, d, timeout=5.0):
        """Nothing in flight and no message being sent."""
        wait_until(lambda: d.metric("huifang_in_flight") == 0 and
                   d.scalar("SELECT COUNT(*) FROM messages WHERE state = 'sending'") == 0,
                   timeout, what="the dispatcher to settle")

    def write_catalogue(self):
        """A copy of the catalogue and templates with one more milestone,
        complaint_escalation: a staff alert to the PM at any hour (text
        only, for WeCom). Returns (catalogue path, templates dir)."""
        root = self.tempdir()
        tdir = os.path.join(root, "templates")
        shutil.copytree(TEMPLATES, tdir)
        with open(CATALOGUE, encoding="utf-8") as f:
            cat = json.load(f)
        cat["milestones"]["complaint_escalation"] = {
            "name": "客户投诉升级",
            "messages": [{"id": "alert", "kind": "alert", "to": "pm", "window": "any"}]}
        cpath = os.path.join(root, "milestones.json")
        with open(cpath, "w", encoding="utf-8") as f:
            json.dump(cat, f, ensure_ascii=False, indent=2)
        os.mkdir(os.path.join(tdir, "complaint_escalation"))
        with open(os.path.join(tdir, "complaint_escalation", "alert.json"), "w",
                  encoding="utf-8") as f:
            json.dump({"text": "{{staff.pm.name}}您好：{{project.address}}的客户"
                               "{{customer.name}}{{customer.title}}（{{customer.mobile}}）"
                               "于{{occurred.time}}投诉升级，请尽快联系处理。"},
                      f, ensure_ascii=False)
        return cpath, tdir

    def assert_log_clean(self, log):
        for s in ALL_SECRETS:
            self.assertNotIn(s, log, "a secret is in the daemon log")
        self.assertEqual(TOKEN_RE.findall(log), [], "an access token is in the daemon log")
        for number in (MOBILE, PM_PHONE, UNDELIVERABLE):
            self.assertNotIn(number, log, "a full mobile number is in the daemon log")
        for sig in ("Signature=", "signature=", "ACS3-HMAC-SHA256 Credential",
                    "TC3-HMAC-SHA256 Credential", "access_token="):
            self.assertNotIn(sig, log)


class WeChatTest(ChannelCase):

    def test_wechat_template_messages_delivered(self):
        m, d = self.start_pair()
        body = trigger_body("material_inspection", customer={"wechat_openid": OPENID})
        ids = self.post(d, body)
        self.assertEqual(sorted(ids), ["notice", "survey"])
        rows = {name: d.wait_state(mid, ("sent", "failed", "expired")) for name, mid in ids.items()}
        recs = self.records(m, TEMPLATE_SEND)
        by_key = {r["idempotency_key"]: r for r in recs}
        self.assertEqual(len(recs), 2, recs)
        self.assertEqual(set(by_key), {"hf-%d" % i for i in ids.values()})
        for name, mid in ids.items():
            with self.subTest(message=name):
                row, rec = rows[name], by_key["hf-%d" % mid]
                tpl = load_template("material_inspection", name)["wechat"]
                v = variables(body, row)
                want = {"touser": OPENID, "template_id": tpl["template_id"],
                        "client_msg_id": "hf-%d" % mid,
                        "data": {k: {"value": render(t, v)} for k, t in tpl["data"].items()}}
                if "url" in tpl:
                    want["url"] = render(tpl["url"], v)
                self.assertEqual((rec["status"], rec["duplicate"]), (200, False))
                self.assertEqual(rec["body"], want)
                # The msgid is 2^62 + seq: above 2^53, kept exactly, as text.
                msgid = str(MSGID_BASE + int(rec["id"][len("mock-"):]))
                self.assertEqual((row["state"], row["channel"], row["attempts"], row["provider_id"],
                                  row["last_code"], row["last_error"], row["fallback_from"]),
                                 ("sent", "wechat", 1, msgid, "wechat_0", None, None))
                self.assertEqual(d.scalar("SELECT typeof(provider_id) FROM messages WHERE id = ?",
                                          mid), "text")
                att = d.attempts(mid)
                self.assertEqual([(a["attempt"], a["channel"], a["adapter"], a["http_status"],
                                   a["code"], a["provider_id"], a["error"]) for a in att],
                                 [(1, "wechat", "wechat", 200, "wechat_0", msgid, None)])
        # The survey carries the signed link, the notice none.
        s = rows["survey"]
        self.assertEqual(by_key["hf-%d" % ids["survey"]]["body"]["url"],
                         survey_link(ids["survey"], s["expires_at"]))
        self.assertNotIn("url", by_key["hf-%d" % ids["notice"]]["body"])
        # Two messages waited for one token.
        st = self.wx_stats(m)
        self.assertEqual((st["wechat_token_requests"], st["wechat_force_refreshes"],
                          st["wechat_delivered"]), (1, 0, 2))
        self.assertEqual(d.metric("huifang_token_fetches_total"), 1)
        ms = m.stats()
        self.assertEqual((ms["accepted"], ms["duplicates"], ms["rejected"], ms["faulted"]),
                         (2, 0, 0, 0))
        tok = d.rows("SELECT name, token FROM provider_tokens")
        self.assertEqual([t["name"] for t in tok], ["wechat:" + WX_APPID])

    def test_token_expiry_costs_one_refresh_and_no_message(self):
        m, d = self.start_pair()
        first = self.post(d, trigger_body(customer={"wechat_openid": OPENID}))
        for mid in first.values():
            d.wait_state(mid, "sent")
        self.assertEqual(self.wx_stats(m)["wechat_token_requests"], 1)

        status, body = m.request("POST", "/_mock/wechat/expire_tokens")
        self.assertEqual(status, 200, body)
        self.assertGreaterEqual(body["expired"], 1)
        second = self.post(d, trigger_body(customer=SECOND_CUSTOMER))
        rows = {mid: d.wait_state(mid, ("sent", "failed", "expired"))
                for mid in second.values()}
        self.assert_settled(d)

        # Every message delivered exactly once, none failed.
        recs = self.records(m, TEMPLATE_SEND)
        keys = sorted(r["idempotency_key"] for r in recs)
        self.assertEqual(keys, sorted("hf-%d" % i for i in list(first.values()) +
                                      list(second.values())))
        self.assertEqual([r for r in recs if r["duplicate"]], [])
        st = self.wx_stats(m)
        self.assertEqual((st["wechat_token_requests"], st["wechat_force_refreshes"],
                          st["wechat_delivered"]), (2, 0, 4))
        self.assertEqual(d.metric("huifang_token_fetches_total"), 2)
        self.assertEqual(d.metric('huifang_send_attempts_total{result="failed"}'), 0)
        for mid, row in rows.items():
            with self.subTest(message=mid):
                # Both went out with the expired token at once: one 42001
                # each, one resend each, the attempt counted once.
                att = d.attempts(mid)
                self.assertEqual([(a["attempt"], a["code"]) for a in att],
                                 [(1, "wechat_42001"), (1, "wechat_0")])
                self.assertEqual((row["state"], row["attempts"], row["last_code"]),
                                 ("sent", 1, "wechat_0"))
        for mid in first.values():
            self.assertEqual([a["code"] for a in d.attempts(mid)], ["wechat_0"])

    def test_stored_token_survives_a_restart(self):
        m, d = self.start_pair()
        first = self.post(d, trigger_body(customer={"wechat_openid": OPENID}))
        for mid in first.values():
            d.wait_state(mid, "sent")
        self.assertEqual(self.wx_stats(m)["wechat_token_requests"], 1)
        stored = d.rows("SELECT name, expires_at FROM provider_tokens")
        self.assertEqual([r["name"] for r in stored], ["wechat:" + WX_APPID])
        # Fetched at ~15:05 for 7200 s, less a safety margin.
        self.assertGreater(stored[0]["expires_at"], epoch(TUESDAY_1505) + 3600)

        d.restart()
        second = self.post(d, trigger_body(customer=SECOND_CUSTOMER))
        for mid in second.values():
            row = d.wait_state(mid, ("sent", "failed", "expired"))
            self.assertEqual((row["state"], row["attempts"]), ("sent", 1))
            self.assertEqual([a["code"] for a in d.attempts(mid)], ["wechat_0"])
        st = self.wx_stats(m)
        self.assertEqual((st["wechat_token_requests"], st["wechat_delivered"]), (1, 4))
        self.assertEqual(d.metric("huifang_token_fetches_total"), 0)
        self.assertIn("reusing stored token provider=wechat", d.read_log())

    def test_not_a_follower_falls_back_to_sms(self):
        m, d = self.start_pair()
        body = trigger_body(customer={"wechat_openid": UNSUB_OPENID})
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        self.assertEqual([x["channel"] for x in resp["messages"]], ["wechat", "wechat"])
        ids = {x["message"]: x["id"] for x in resp["messages"]}
        rows = {name: d.wait_state(mid, ("sent", "failed", "expired"))
                for name, mid in ids.items()}
        self.assertEqual(self.records(m, TEMPLATE_SEND), [])
        sms = {r["idempotency_key"]: r for r in self.records(m, ALIYUN_SEND)}
        self.assertEqual(set(sms), {"hf-%d" % i for i in ids.values()})
        for name, mid in ids.items():
            with self.subTest(message=name):
                row = rows[name]
                self.assertEqual((row["state"], row["channel"], row["fallback_from"],
                                  row["attempts"], row["last_code"]),
                                 ("sent", "sms", "wechat", 1, "OK"))
                att = d.attempts(mid)
                self.assertEqual([(a["channel"], a["adapter"], a["code"]) for a in att],
                                 [("wechat", "wechat", "wechat_43004"),
                                  ("sms", "aliyun_sms", "OK")])
                tpl = load_template("material_inspection", name)
                p = sms["hf-%d" % mid]["body"]["params"]
                self.assertEqual((p["PhoneNumbers"], p["TemplateCode"], p["SignName"]),
                                 (MOBILE, tpl["sms"]["template_code"], SIGN_NAME))
                self.assertEqual(list(p["TemplateParam"].items()),
                                 sms_params(tpl, variables(body, row)))
                self.assertEqual(row["provider_id"], sms["hf-%d" % mid]["body"]["biz_id"])
        self.assertEqual(d.metric('huifang_send_attempts_total{result="fallback"}'), 2)
        self.assertEqual(self.wx_stats(m)["wechat_delivered"], 0)


class SmsTest(ChannelCase):

    def aliyun_delivers(self, signature):
        over = {"channels": {"aliyun": {"signature": signature}}} if signature else None
        m, d = self.start_pair("aliyun", daemon=over)
        body = trigger_body("material_inspection")  # no openid: SMS
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        self.assertEqual([x["channel"] for x in resp["messages"]], ["sms", "sms"])
        ids = {x["message"]: x["id"] for x in resp["messages"]}
        rows = {name: d.wait_state(mid, ("sent", "failed", "expired"))
                for name, mid in ids.items()}
        recs = self.records(m, ALIYUN_SEND)
        by_key = {r["idempotency_key"]: r for r in recs}
        self.assertEqual(len(recs), 2, recs)
        self.assertEqual(set(by_key), {"hf-%d" % i for i in ids.values()})
        for name, mid in ids.items():
            with self.subTest(message=name):
                row, rec = rows[name], by_key["hf-%d" % mid]
                tpl = load_template("material_inspection", name)
                b = rec["body"]
                self.assertEqual((rec["status"], rec["duplicate"], b["action"], b["phone"],
                                  b["signature_method"]),
                                 (200, False, "SendSms", MOBILE, V1 if signature == "v1" else V3))
                api = {"PhoneNumbers": MOBILE, "SignName": SIGN_NAME,
                       "TemplateCode": tpl["sms"]["template_code"], "OutId": "hf-%d" % mid}
                params = dict(b["params"])
                tparam = params.pop("TemplateParam")
                self.assertEqual(list(tparam.items()), sms_params(tpl, variables(body, row)))
                if signature == "v1":
                    common = {k: params.pop(k) for k in
                              ("AccessKeyId", "Action", "Format", "SignatureMethod",
                               "SignatureNonce", "SignatureVersion", "Timestamp", "Version")}
                    self.assertEqual({k: v for k, v in common.items()
                                      if k not in ("SignatureNonce", "Timestamp")},
                                     {"AccessKeyId": ALI_KEY_ID, "Action": "SendSms",
                                      "Format": "JSON", "SignatureMethod": "HMAC-SHA1",
                                      "SignatureVersion": "1.0", "Version": "2017-05-25"})
                    # Signed on the test clock, not the host's.
                    ts = epoch(common["Timestamp"].replace("Z", "+00:00"))
                    self.assertTrue(epoch(TUESDAY_1505) <= ts <= epoch(TUESDAY_1505) + 60 * SLOW,
                                    common["Timestamp"])
                self.assertEqual(params, api)
                self.assertEqual((row["state"], row["channel"], row["attempts"], row["last_code"],
                                  row["provider_id"]), ("sent", "sms", 1, "OK", b["biz_id"]))
                att = d.attempts(mid)
                self.assertEqual([(a["adapter"], a["http_status"], a["code"], a["provider_id"])
                                  for a in att], [("aliyun_sms", 200, "OK", b["biz_id"])])
        ms = m.stats()
        self.assertEqual((ms["received"], ms["accepted"], ms["rejected"], ms["duplicates"]),
                         (2, 2, 0, 0))

    def test_aliyun_v3_signed_sms_delivered(self):
        self.aliyun_delivers(None)  # V3 is the default

    def test_aliyun_v1_signed_sms_delivered(self):
        self.aliyun_delivers("v1")

    def test_tencent_tc3_signed_sms_delivered(self):
        m, d = self.start_pair("tencent")
        body = trigger_body("material_inspection")
        ids = self.post(d, body)
        rows = {name: d.wait_state(mid, ("sent", "failed", "expired"))
                for name, mid in ids.items()}
        recs = self.records(m, TENCENT_SEND)
        by_key = {r["idempotency_key"]: r for r in recs}
        self.assertEqual(len(recs), 2, recs)
        for name, mid in ids.items():
            with self.subTest(message=name):
                row, rec = rows[name], by_key["hf-%d" % mid]
                tpl = load_template("material_inspection", name)
                self.assertEqual((rec["status"], rec["duplicate"]), (200, False))
                self.assertEqual(rec["body"], {
                    "PhoneNumberSet": ["+86" + MOBILE], "SmsSdkAppId": TC_APP_ID,
                    "SignName": SIGN_NAME, "TemplateId": tpl["sms"]["template_code"],
                    "TemplateParamSet": [v for _, v in sms_params(tpl, variables(body, row))],
                    "SessionContext": "hf-%d" % mid})
                self.assertEqual((row["state"], row["channel"], row["attempts"], row["last_code"]),
                                 ("sent", "sms", 1, "Ok"))
                self.assertRegex(row["provider_id"], r"^5000:\d+$")  # the SerialNo
                att = d.attempts(mid)
                self.assertEqual([(a["adapter"], a["http_status"], a["code"], a["provider_id"])
                                  for a in att],
                                 [("tencent_sms", 200, "Ok", row["provider_id"])])
        self.assertNotEqual(rows["notice"]["provider_id"], rows["survey"]["provider_id"])
        ms = m.stats()
        self.assertEqual((ms["received"], ms["accepted"], ms["rejected"]), (2, 2, 0))

    @unittest.skipIf(VALGRIND, "timing: under valgrind a send takes over a second, so sent_at "
                               "(the answer) is later than the start of the number's minute; "
                               "the normal and ASan runs check it")
    def test_our_per_number_limit_defers_then_sends(self):
        over = {"channels": {"sms": {"per_number_minute": 1, "per_number_hour": 5,
                                     "per_number_day": 10}}}
        m, d = self.start_pair("aliyun", daemon=over)
        ids = self.post(d, trigger_body("completion"))
        self.assertEqual(sorted(ids), ["notice", "rating_confirm", "survey"])
        now_ids = [ids["notice"], ids["survey"]]  # both due now; rating_confirm tomorrow
        # Both planned for the same instant (due_at never changes; the
        # dispatcher may already have moved next_attempt_at of one of them).
        self.assertEqual(d.message(now_ids[0])["due_at"], d.message(now_ids[1])["due_at"])
        wait_until(lambda: any(d.message(i)["state"] == "sent" for i in now_ids), 5,
                   what="the first SMS sent")
        self.assert_settled(d)
        rows = [d.message(i) for i in now_ids]
        self.assertEqual(sorted(r["state"] for r in rows), ["pending", "sent"],
                         "one SMS per number per minute: %r" % [(r["id"], r["state"], r["attempts"])
                                                                for r in rows])
        sent = next(r for r in rows if r["state"] == "sent")
        held = next(r for r in rows if r["state"] == "pending")
        self.assertGreaterEqual(held["next_attempt_at"], sent["sent_at"] + 60)
        self.assertEqual((held["attempts"], d.attempts(held["id"])), (0, []))
        self.assertEqual([r["idempotency_key"] for r in self.records(m, ALIYUN_SEND)],
                         ["hf-%d" % sent["id"]])

        # Two minutes later (daemon and provider clocks alike) it goes.
        d.stop()
        m.stop()
        later = "2026-11-24T15:07:00+08:00"
        m2 = self.start_mock(clock=later, config=self.mcfg)
        d.config["channels"]["aliyun"]["base_url"] = m2.base + "/aliyun"
        d.write_config()
        d.start(clock=later)
        row = d.wait_state(held["id"], ("sent", "failed", "expired"), timeout=10)
        self.assertEqual((row["state"], row["attempts"]), ("sent", 1))
        self.assert_settled(d)
        self.assertEqual([r["idempotency_key"] for r in self.records(m2, ALIYUN_SEND)],
                         ["hf-%d" % held["id"]])
        self.assertEqual(d.message(sent["id"])["attempts"], 1)
        self.assertEqual(d.message(ids["rating_confirm"])["state"], "pending")

    def test_provider_per_number_limit_defers_not_fails(self):
        m, d = self.start_pair("aliyun", mock={"aliyun": {"per_number_minute": 1}})
        ids = self.post(d, trigger_body("material_inspection"))
        wait_until(lambda: any(d.message(i)["state"] == "sent" for i in ids.values()), 5,
                   what="one SMS sent")
        self.assert_settled(d)
        rows = [d.message(i) for i in ids.values()]
        self.assertEqual(sorted(r["state"] for r in rows), ["pending", "sent"], rows)
        sent = next(r for r in rows if r["state"] == "sent")
        held = next(r for r in rows if r["state"] == "pending")
        att = d.attempts(held["id"])
        self.assertEqual([(a["attempt"], a["adapter"], a["http_status"], a["code"]) for a in att],
                         [(1, "aliyun_sms", 200, "isv.BUSINESS_LIMIT_CONTROL")])
        # An uncounted deferral: attempts back to 0, retried in about a minute.
        self.assertEqual((held["attempts"], held["last_code"], held["sent_at"]),
                         (0, "isv.BUSINESS_LIMIT_CONTROL", None))
        tried = att[0]["started_ms"] // 1000
        self.assertTrue(tried + 58 <= held["next_attempt_at"] <= tried + 62,
                        (tried, held["next_attempt_at"]))
        self.assertEqual([r["idempotency_key"] for r in self.records(m, ALIYUN_SEND)],
                         ["hf-%d" % sent["id"]])
        ms = m.stats()
        self.assertEqual((ms["received"], ms["accepted"], ms["rejected"]), (2, 1, 1))
        self.assertEqual(d.metric('huifang_send_attempts_total{result="failed"}'), 0)

    def test_hung_provider_times_out_and_is_retried(self):
        # A timed-out SMS first waits dispatch.receipt_grace for a receipt
        # (the provider may have taken it); this one never was: resent.
        m, d = self.start_pair("aliyun", daemon={"outbound": {"request_timeout": "1s"},
                                                 "dispatch": {"receipt_grace": "1s"}})
        m.faults({"hang": True, "count": 1, "path": "/aliyun"})
        ids = self.post(d, trigger_body("material_inspection"))
        rows = {mid: d.wait_state(mid, ("sent", "failed", "expired"), timeout=10)
                for mid in ids.values()}
        self.assert_settled(d)
        hung = [mid for mid in ids.values()
                if any(a["code"] == "timeout" for a in d.attempts(mid))]
        self.assertEqual(len(hung), 1, [(mid, d.attempts(mid)) for mid in ids.values()])
        for mid, row in rows.items():
            att = d.attempts(mid)
            if mid in hung:
                self.assertEqual([(a["attempt"], a["http_status"], a["code"]) for a in att],
                                 [(1, None, "timeout"), (2, 200, "OK")])
                self.assertGreaterEqual(att[0]["latency_ms"], 900)
                self.assertLess(att[0]["latency_ms"], 3000 * SLOW)
                self.assertEqual((row["state"], row["attempts"]), ("sent", 2))
            else:
                self.assertEqual([(a["attempt"], a["code"]) for a in att], [(1, "OK")])
                self.assertEqual((row["state"], row["attempts"]), ("sent", 1))
        # The hung request was never accepted: one accepted send per OutId.
        keys = [r["idempotency_key"] for r in self.records(m, ALIYUN_SEND)]
        self.assertEqual(sorted(keys), sorted("hf-%d" % i for i in ids.values()))
        ms = m.stats()
        self.assertEqual((ms["received"], ms["faulted"], ms["accepted"], ms["duplicates"]),
                         (3, 1, 2, 0))


class WeComTest(ChannelCase):

    def test_staff_alert_through_wecom_at_night(self):
        cpath, tdir = self.write_catalogue()
        night = "2026-11-24T23:30:00+08:00"
        m, d = self.start_pair("aliyun", clock=night,
                               daemon={"catalogue": cpath, "templates": tdir})
        body = trigger_body("complaint_escalation", occurred_at="2026-11-24T23:25:00+08:00",
                            project={"staff": {"pm": {"wecom_id": "ZhangWei"}}})
        status, resp, _ = d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        self.assertEqual([(x["message"], x["channel"]) for x in resp["messages"]],
                         [("alert", "wecom")])
        mid = resp["messages"][0]["id"]
        row = d.wait_state(mid, ("sent", "failed", "expired"))
        recs = self.records(m, WECOM_SEND)
        self.assertEqual(len(recs), 1, recs)
        text = render(load_template("complaint_escalation", "alert", tdir)["text"],
                      variables(body, row))
        self.assertIn(MOBILE, text)  # staff see the customer's number
        self.assertEqual(recs[0]["body"], {
            "touser": "ZhangWei", "msgtype": "text", "agentid": WC_AGENTID,
            # Every alert ends with its reference (wecom.c), which also keeps
            # two alerts of the same text apart for WeCom's duplicate check.
            "text": {"content": text + "\n编号：hf-%d" % mid}, "safe": 0, "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800})
        self.assertEqual((row["state"], row["channel"], row["recipient"], row["attempts"],
                          row["last_code"]), ("sent", "wecom", "pm", 1, "wecom_0"))
        self.assertEqual([(a["adapter"], a["code"]) for a in d.attempts(mid)],
                         [("wecom", "wecom_0")])
        st = self.wx_stats(m)
        self.assertEqual((st["wecom_token_requests"], st["wecom_delivered"],
                          st["wechat_token_requests"]), (1, 1, 0))
        d.stop()
        self.assert_log_clean(d.read_log())


class LogTest(ChannelCase):

    def test_logs_hold_no_secrets_tokens_or_numbers(self):
        cpath, tdir = self.write_catalogue()
        m, d = self.start_pair("aliyun", receipts=True,
                               daemon={"catalogue": cpath, "templates": tdir})
        done = ("sent", "delivered", "failed", "expired")
        # WeChat, a token refresh, a fallback to SMS with receipts, a
        # WeCom alert, and callbacks with a wrong token.
        for mid in self.post(d, trigger_body(customer={"wechat_openid": OPENID})).values():
            d.wait_state(mid, done)
        self.assertEqual(m.request("POST", "/_mock/wechat/expire_tokens")[0], 200)
        for mid in self.post(d, trigger_body(customer=SECOND_CUSTOMER)).values():
            d.wait_state(mid, done)
        third = {"id": "C-0044", "mobile": "13812340044", "wechat_openid": UNSUB_OPENID}
        for mid in self.post(d, trigger_body(customer=third)).values():
            d.wait_state(mid, ("delivered", "failed"))
        alert = trigger_body("complaint_escalation", project={"staff": {"pm": {"wecom_id": "ZW"}}})
        for mid in self.post(d, alert).values():
            d.wait_state(mid, done)
        status, _, _ = d.raw("POST", "/callbacks/not-the-token-0123456789/aliyun/report", "[]",
                             {"Content-Type": "application/json"})
        self.assertEqual(status, 404)
        self.assertEqual(self.wx_stats(m)["wechat_token_requests"], 2)
        d.stop()
        log = d.read_log()
        self.assertIn("to=" + MASKED, log)
        self.assert_log_clean(log)


if __name__ == "__main__":
    unittest.main()
