"""End-to-end tests of the mock WeChat Official Account (/wechat) and WeCom
(/wecom) providers in tools/mock/wechat.c (PROTOCOLS.md A1, A2, B1, B2).

Each test starts its own mock_provider with a --config file, talks the
providers' real protocol to it over HTTP and stops it in a cleanup (exit
status 0 required: under BUILD=build/asan that is how a leak shows up).

Run from the repo root:
    python3 -m unittest tests/e2e/test_12_wechat_mock.py -v
"""

import json
import os
import time
import urllib.parse

from harness import E2ETestCase, http_request

APPID = "wx5d0c8a7f3e2b1c90"
SECRET = "e2e-wechat-secret-0123456789abcdef"
CORPID = "ww1234567890abcdef"
CORPSECRET = "e2e-wecom-secret-0123456789abcdef"
AGENTID = 1000002
OPENID = "oia2TjuEGTNoeX76QEjQNrcURxG8"
UNSUBSCRIBED = "oUNSUB00000000000000000000001"
REFUSED = "oREFUSED000000000000000000001"
TEMPLATE = "HF_TPL_SURVEY"
MSGID_BASE = 2 ** 62

DATA = {"first": {"value": "陈女士您好，您家水电隐蔽工程已完成验收。"},
        "keyword1": {"value": "水电隐蔽工程验收回访"},
        "keyword2": {"value": "2026-12-01前有效"},
        "remark": {"value": "点击填写，或直接回复“满意”/“不满意”。"}}


def mock_config(**over):
    cfg = {
        "wechat": {"appid": APPID, "secret": SECRET,
                   "unsubscribed_openids": [UNSUBSCRIBED],
                   "refused_openids": [REFUSED],
                   "template_ids": [TEMPLATE, "HF_TPL_MILESTONE"]},
        "wecom": {"corpid": CORPID, "corpsecret": CORPSECRET, "agentid": AGENTID,
                  "invalid_users": ["Ghost", "left.company"]},
    }
    for section, values in over.items():
        cfg[section].update(values)
    return cfg


class WeChatMockTest(E2ETestCase):

    def start(self, **over):
        path = os.path.join(self.tempdir(), "mock.json")
        with open(path, "w") as f:
            json.dump(mock_config(**over), f, ensure_ascii=False)
        self.mock = self.start_mock("--config", path, secret=None)
        return self.mock

    # ---- protocol helpers ------------------------------------------------

    def stable_token(self, force=None, appid=APPID, secret=SECRET):
        body = {"grant_type": "client_credential", "appid": appid, "secret": secret}
        if force is not None:
            body["force_refresh"] = force
        status, ans = self.mock.request("POST", "/wechat/cgi-bin/stable_token", body)
        self.assertEqual(status, 200, ans)
        return ans

    def plain_token(self, appid=APPID, secret=SECRET, grant="client_credential"):
        q = urllib.parse.urlencode({"grant_type": grant, "appid": appid, "secret": secret})
        status, ans = self.mock.request("GET", "/wechat/cgi-bin/token?" + q)
        self.assertEqual(status, 200, ans)
        return ans

    def send(self, token, touser=OPENID, template_id=TEMPLATE, client_msg_id="hf-1",
             data=None, url="https://hf.example.test/s/abc", raw=None):
        path = "/wechat/cgi-bin/message/template/send"
        if token is not None:
            path += "?access_token=" + urllib.parse.quote(token, safe="")
        if raw is not None:
            body = raw
        else:
            body = {"touser": touser, "template_id": template_id}
            if url:
                body["url"] = url
            if client_msg_id:
                body["client_msg_id"] = client_msg_id
            body["data"] = DATA if data is None else data
        status, ans = self.mock.request("POST", path, body)
        self.assertEqual(status, 200, ans)
        return ans

    def wecom_token(self, corpid=CORPID, secret=CORPSECRET):
        q = urllib.parse.urlencode({"corpid": corpid, "corpsecret": secret})
        status, ans = self.mock.request("GET", "/wecom/cgi-bin/gettoken?" + q)
        self.assertEqual(status, 200, ans)
        return ans

    def wecom_send(self, token, touser="ZhangWei", content="【告警】回访差评，请尽快联系客户。",
                   agentid=AGENTID, dup_check=1, body=None):
        if body is None:
            body = {"touser": touser, "msgtype": "text", "agentid": agentid,
                    "text": {"content": content}, "safe": 0,
                    "enable_duplicate_check": dup_check, "duplicate_check_interval": 1800}
        status, ans = self.mock.request(
            "POST", "/wecom/cgi-bin/message/send?access_token=" + urllib.parse.quote(token),
            body)
        self.assertEqual(status, 200, ans)
        return ans

    def wx_stats(self):
        status, ans = self.mock.request("GET", "/_mock/wechat/stats")
        self.assertEqual(status, 200, ans)
        return ans

    def expire_tokens(self):
        status, ans = self.mock.request("POST", "/_mock/wechat/expire_tokens", {})
        self.assertEqual(status, 200, ans)
        return ans

    def assertErrcode(self, ans, code):
        self.assertIsInstance(ans, dict, ans)
        self.assertEqual(ans.get("errcode"), code, ans)
        self.assertIsInstance(ans.get("errmsg"), str, ans)

    # ---- WeChat: tokens ----------------------------------------------------

    def test_stable_token_and_template_send(self):
        self.start()
        t1 = self.stable_token()
        self.assertEqual(set(t1), {"access_token", "expires_in"}, t1)
        self.assertEqual(t1["expires_in"], 7200)
        self.assertGreaterEqual(len(t1["access_token"]), 100)
        # normal mode: the same token while it is valid
        t2 = self.stable_token(force=False)
        self.assertEqual(t2["access_token"], t1["access_token"])
        self.assertLessEqual(t2["expires_in"], 7200)

        ans = self.send(t1["access_token"], client_msg_id="hf-41")
        self.assertErrcode(ans, 0)
        self.assertEqual(ans["errmsg"], "ok")
        recs = self.mock.requests()
        self.assertEqual(len(recs), 1, recs)
        rec = recs[0]
        # msgid above 2^53 (a double cannot hold it), tied to the record's seq
        self.assertGreater(ans["msgid"], 2 ** 53)
        self.assertEqual(ans["msgid"], MSGID_BASE + rec["seq"])
        self.assertEqual(rec["id"], "mock-%d" % rec["seq"])
        self.assertEqual(rec["path"], "/wechat/cgi-bin/message/template/send")
        self.assertEqual(rec["idempotency_key"], "hf-41")
        self.assertFalse(rec["duplicate"])
        self.assertEqual(rec["body"]["touser"], OPENID)
        self.assertEqual(rec["body"]["data"], DATA)
        # the token is never recorded or logged
        self.assertNotIn(t1["access_token"], json.dumps(rec))
        self.assertNotIn(t1["access_token"], self.mock.read_log())
        self.assertNotIn(SECRET, self.mock.read_log())

        st = self.wx_stats()
        self.assertEqual(st["wechat_token_requests"], 2)
        self.assertEqual(st["wechat_force_refreshes"], 0)
        self.assertEqual(st["wecom_token_requests"], 0)
        self.assertEqual(st["tokens_valid"], 1)
        self.assertEqual(st["wechat_delivered"], 1)

    def test_msgid_is_an_exact_int64_in_the_raw_answer(self):
        self.start()
        tok = self.stable_token()["access_token"]
        status, _, raw = http_request(
            self.mock.port, "POST",
            "/wechat/cgi-bin/message/template/send?access_token=" + tok,
            json.dumps({"touser": OPENID, "template_id": TEMPLATE, "data": DATA}),
            {"Content-Type": "application/json"})
        self.assertEqual(status, 200, raw)
        # a bare JSON integer, not a string and not in exponent form
        self.assertIn(b'"msgid":%d' % (MSGID_BASE + 1), raw)

    def test_plain_token_new_each_call_old_still_valid(self):
        self.start()
        a = self.plain_token()
        b = self.plain_token()
        self.assertEqual(a["expires_in"], 7200)
        self.assertNotEqual(a["access_token"], b["access_token"])
        # the old one overlaps for five minutes
        self.assertErrcode(self.send(a["access_token"], client_msg_id="hf-1"), 0)
        self.assertErrcode(self.send(b["access_token"], client_msg_id="hf-2"), 0)
        # plain and stable tokens are isolated from each other
        s = self.stable_token()
        self.assertNotEqual(s["access_token"], b["access_token"])
        self.assertErrcode(self.send(b["access_token"], client_msg_id="hf-3"), 0)
        self.assertEqual(self.wx_stats()["tokens_valid"], 3)

    def test_credentials_are_checked(self):
        self.start()
        self.assertErrcode(self.stable_token(secret="wrong"), 40001)
        self.assertErrcode(self.stable_token(appid="wx0000000000000000"), 40013)
        self.assertErrcode(self.plain_token(secret="wrong"), 40001)
        self.assertErrcode(self.plain_token(appid="wx0000000000000000"), 40013)
        self.assertErrcode(self.plain_token(grant="password"), 40002)
        self.assertErrcode(self.plain_token(secret=""), 41004)
        status, ans = self.mock.request("POST", "/wechat/cgi-bin/stable_token", "not json")
        self.assertEqual(status, 200)
        self.assertErrcode(ans, 47001)
        self.assertEqual(self.wx_stats()["tokens_valid"], 0)
        self.assertEqual(self.mock.stats()["rejected"], 7)

    def test_force_refresh_invalidates_and_is_rate_limited(self):
        self.start()
        old = self.stable_token()["access_token"]
        new = self.stable_token(force=True)["access_token"]
        self.assertNotEqual(new, old)
        self.assertErrcode(self.send(old), 40001)     # invalidated: "not latest"
        self.assertErrcode(self.send(new), 0)
        # a second force within 30 s refreshes nothing
        again = self.stable_token(force=True)["access_token"]
        self.assertEqual(again, new)
        self.assertEqual(self.stable_token()["access_token"], new)
        st = self.wx_stats()
        self.assertEqual(st["wechat_force_refreshes"], 1)
        self.assertEqual(st["wechat_token_requests"], 4)

    def test_tokens_really_expire(self):
        self.start(wechat={"token_ttl_s": 1}, wecom={"token_ttl_s": 1})
        t = self.stable_token()
        self.assertEqual(t["expires_in"], 1)
        w = self.wecom_token()
        self.assertErrcode(self.send(t["access_token"]), 0)
        time.sleep(1.3)
        self.assertErrcode(self.send(t["access_token"], client_msg_id="hf-2"), 42001)
        self.assertErrcode(self.wecom_send(w["access_token"]), 42001)
        # an expired stable token is replaced in normal mode
        t2 = self.stable_token()
        self.assertNotEqual(t2["access_token"], t["access_token"])
        self.assertErrcode(self.send(t2["access_token"], client_msg_id="hf-2"), 0)

    def test_expire_tokens_then_new_stable_token_works(self):
        self.start()
        tok = self.stable_token()["access_token"]
        wtok = self.wecom_token()["access_token"]
        self.assertErrcode(self.send(tok, client_msg_id="hf-1"), 0)
        self.assertEqual(self.wx_stats()["tokens_valid"], 2)
        self.assertEqual(self.expire_tokens(), {"expired": 2})
        self.assertEqual(self.wx_stats()["tokens_valid"], 0)
        self.assertErrcode(self.send(tok, client_msg_id="hf-2"), 42001)
        self.assertErrcode(self.wecom_send(wtok), 42001)
        fresh = self.stable_token()["access_token"]   # normal mode, no force needed
        self.assertNotEqual(fresh, tok)
        self.assertErrcode(self.send(fresh, client_msg_id="hf-2"), 0)
        wfresh = self.wecom_token()["access_token"]
        self.assertNotEqual(wfresh, wtok)
        self.assertErrcode(self.wecom_send(wfresh), 0)
        st = self.wx_stats()
        self.assertEqual(st["wechat_token_requests"], 2)
        self.assertEqual(st["wecom_token_requests"], 2)
        self.assertEqual(st["tokens_valid"], 2)

    # ---- WeChat: template send ----------------------------------------------

    def test_send_errors(self):
        self.start()
        tok = self.stable_token()["access_token"]
        self.assertErrcode(self.send(None), 41001)
        self.assertErrcode(self.send(""), 41001)
        self.assertErrcode(self.send("not-a-token"), 40001)
        self.assertErrcode(self.send(tok, raw="{not json"), 47001)
        self.assertErrcode(self.send(tok, raw=[1, 2]), 47001)
        self.assertErrcode(self.send(tok, raw={"touser": OPENID, "template_id": TEMPLATE}), 47003)
        self.assertErrcode(self.send(tok, raw={"template_id": TEMPLATE, "data": DATA}), 47003)
        self.assertErrcode(self.send(tok, raw={"touser": OPENID, "data": DATA}), 47003)
        self.assertErrcode(self.send(tok, data={"first": "not an object"}), 47003)
        self.assertErrcode(self.send(tok, template_id="HF_TPL_UNKNOWN"), 40037)
        self.assertErrcode(self.send(tok, touser=UNSUBSCRIBED), 43004)
        self.assertErrcode(self.send(tok, touser=REFUSED), 43101)
        self.assertEqual(self.mock.requests(), [])
        self.assertEqual(self.wx_stats()["wechat_delivered"], 0)
        # and a good one still goes through
        self.assertErrcode(self.send(tok), 0)

    def test_unsubscribed_openid_gets_43004(self):
        self.start()
        tok = self.stable_token()["access_token"]
        ans = self.send(tok, touser=UNSUBSCRIBED, client_msg_id="hf-7")
        self.assertEqual(ans, {"errcode": 43004, "errmsg": "require subscribe"})
        self.assertEqual(self.mock.requests(), [])
        self.assertErrcode(self.send(tok, touser=OPENID, client_msg_id="hf-8"), 0)

    def test_client_msg_id_duplicate_flagged(self):
        self.start()
        tok = self.stable_token()["access_token"]
        first = self.send(tok, client_msg_id="hf-77")
        second = self.send(tok, client_msg_id="hf-77")
        other = self.send(tok, client_msg_id="hf-78")
        self.assertErrcode(first, 0)
        self.assertEqual(second["msgid"], first["msgid"])
        self.assertNotEqual(other["msgid"], first["msgid"])
        recs = self.mock.requests()
        self.assertEqual([(r["idempotency_key"], r["duplicate"]) for r in recs],
                         [("hf-77", False), ("hf-77", True), ("hf-78", False)])
        self.assertEqual(self.mock.stats()["duplicates"], 1)
        self.assertEqual(self.wx_stats()["wechat_delivered"], 2)
        # without client_msg_id nothing is deduplicated
        a = self.send(tok, client_msg_id=None)
        b = self.send(tok, client_msg_id=None)
        self.assertNotEqual(a["msgid"], b["msgid"])
        self.assertEqual(self.mock.stats()["duplicates"], 1)

    def test_faults_apply_to_token_and_send_routes(self):
        self.start()
        self.mock.faults({"status": 500, "path": "/wechat/cgi-bin/stable_token"})
        status, _ = self.mock.request("POST", "/wechat/cgi-bin/stable_token",
                                      {"grant_type": "client_credential", "appid": APPID,
                                       "secret": SECRET})
        self.assertEqual(status, 500)
        tok = self.stable_token()["access_token"]
        # an errcode answer injected for one message only (matched in the body)
        self.mock.faults({"status": 200, "match": "hf-busy",
                          "body": {"errcode": -1, "errmsg": "system error"}})
        self.assertErrcode(self.send(tok, client_msg_id="hf-ok"), 0)
        self.assertErrcode(self.send(tok, client_msg_id="hf-busy"), -1)
        self.assertErrcode(self.send(tok, client_msg_id="hf-busy"), 0)

    def test_reset_forgets_tokens_and_counters(self):
        self.start()
        tok = self.stable_token()["access_token"]
        self.assertErrcode(self.send(tok), 0)
        status, _ = self.mock.request("POST", "/_mock/reset", {})
        self.assertEqual(status, 200)
        self.assertErrcode(self.send(tok), 40001)
        self.assertEqual(self.wx_stats(), {"wechat_token_requests": 0, "wechat_force_refreshes": 0,
                                           "wecom_token_requests": 0, "tokens_valid": 0,
                                           "wechat_delivered": 0, "wecom_delivered": 0})

    # ---- WeCom ----------------------------------------------------------------

    def test_wecom_gettoken_send_and_81013(self):
        self.start()
        t = self.wecom_token()
        self.assertEqual(t["errcode"], 0)
        self.assertEqual(t["errmsg"], "ok")
        self.assertEqual(t["expires_in"], 7200)
        # the same token while it is valid
        self.assertEqual(self.wecom_token()["access_token"], t["access_token"])
        tok = t["access_token"]

        ans = self.wecom_send(tok)
        self.assertEqual(ans["errcode"], 0, ans)
        self.assertEqual(ans["invaliduser"], "")
        self.assertIsInstance(ans["msgid"], str)
        recs = self.mock.requests()
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["path"], "/wecom/cgi-bin/message/send")
        self.assertEqual(recs[0]["body"]["agentid"], AGENTID)
        self.assertFalse(recs[0]["duplicate"])

        # the only recipient invalid: 81013, nothing recorded
        self.assertErrcode(self.wecom_send(tok, touser="ghost"), 81013)
        self.assertErrcode(self.wecom_send(tok, touser="Ghost|left.company"), 81013)
        # some invalid: accepted, listed lower-cased
        ans = self.wecom_send(tok, touser="LiSi|Ghost")
        self.assertErrcode(ans, 0)
        self.assertEqual(ans["invaliduser"], "ghost")
        self.assertEqual(len(self.mock.requests()), 2)
        self.assertEqual(self.wx_stats()["wecom_token_requests"], 2)

    def test_wecom_checks(self):
        self.start()
        self.assertErrcode(self.wecom_token(secret="wrong"), 40001)
        self.assertErrcode(self.wecom_token(corpid="ww0"), 40013)
        self.assertErrcode(self.wecom_token(corpid=""), 41002)
        tok = self.wecom_token()["access_token"]
        wx = self.stable_token()["access_token"]
        self.assertErrcode(self.wecom_send(wx), 40014)            # a WeChat token
        self.assertErrcode(self.wecom_send("nope"), 40014)
        status, ans = self.mock.request("POST", "/wecom/cgi-bin/message/send", {})
        self.assertErrcode(ans, 41001)
        self.assertErrcode(self.wecom_send(tok, agentid=1000003), 40056)
        self.assertErrcode(self.wecom_send(tok, agentid="1000002"), 40056)  # must be an integer
        self.assertErrcode(self.wecom_send(tok, content=""), 44004)
        self.assertErrcode(self.wecom_send(tok, content="a" * 2049), 45002)
        self.assertErrcode(self.wecom_send(tok, content="a" * 2048), 0)
        self.assertErrcode(self.wecom_send(tok, body={"touser": "x", "msgtype": "voice",
                                                      "agentid": AGENTID}), 40008)
        self.assertErrcode(self.wecom_send(tok, body="[broken"), 47001)
        self.assertErrcode(self.send(tok), 40001)                  # a WeCom token on WeChat

    def test_wecom_duplicate_check(self):
        self.start()
        tok = self.wecom_token()["access_token"]
        a = self.wecom_send(tok, content="same alert")
        b = self.wecom_send(tok, content="same alert")
        self.assertEqual(a["msgid"], b["msgid"])
        recs = self.mock.requests()
        self.assertEqual([r["duplicate"] for r in recs], [False, True])
        self.assertEqual(recs[0]["idempotency_key"], recs[1]["idempotency_key"])
        self.assertEqual(self.wx_stats()["wecom_delivered"], 1)   # not delivered twice
        # another text is another message
        c = self.wecom_send(tok, content="another alert")
        self.assertNotEqual(c["msgid"], a["msgid"])
        self.assertEqual(self.wx_stats()["wecom_delivered"], 2)
        # without the duplicate check a repeat is delivered again (and flagged)
        self.wecom_send(tok, content="unchecked", dup_check=0)
        self.wecom_send(tok, content="unchecked", dup_check=0)
        self.assertEqual(self.wx_stats()["wecom_delivered"], 4)
        self.assertEqual([r["duplicate"] for r in self.mock.requests()],
                         [False, True, False, False, True])


if __name__ == "__main__":
    import unittest
    unittest.main()
