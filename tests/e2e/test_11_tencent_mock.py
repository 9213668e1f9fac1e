"""End-to-end tests of the mock's Tencent Cloud SMS API (tools/mock/tencent.c).

The requests are built and TC3-HMAC-SHA256-signed here in Python (hashlib,
hmac), independently of the C signer, so the mock's verification is checked
against a second implementation. The signer itself is first checked against
the SDK-computed SendSms vector (PROTOCOLS.md D4, vector 2).

Covered: a correctly signed SendSms is answered "Ok" per number and
recorded (key = SessionContext; a repeat is sent again and flagged
duplicate); a wrong signature, a tampered body, an unknown SecretId and a
stale X-TC-Timestamp get Tencent's whole-request error JSON (HTTP 200); the
per-number 30 s / hour / day limits answer their LimitExceeded codes;
fail_codes and bad numbers; status callbacks arrive at a small Python HTTP
server standing in for the daemon, automatically after a send and on
demand through POST /_mock/tencent/push_status.

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_11_tencent_mock.py'
"""

import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import tempfile
import threading
import time
import unittest

from harness import E2ETestCase, MOCK, Mock, http_request, parse_json, wait_until

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"
SDK_APP_ID = "1400006666"
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def tc3_authorization(body, ts, host, content_type="application/json", secret_id=SECRET_ID,
                      secret_key=SECRET_KEY, service="sms", extra=None, canonical_uri="/"):
    """TC3-HMAC-SHA256 (PROTOCOLS.md D4). @extra: {name: value} of more
    signed headers (names and values lower-cased, as the doc says)."""
    date = datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%d")
    headers = {"content-type": content_type.lower(), "host": host.lower()}
    for k, v in (extra or {}).items():
        headers[k.lower()] = v.strip().lower()
    names = sorted(headers)
    canonical = "POST\n%s\n\n%s\n%s\n%s" % (
        canonical_uri, "".join("%s:%s\n" % (n, headers[n]) for n in names), ";".join(names),
        hashlib.sha256(body).hexdigest())
    scope = "%s/%s/tc3_request" % (date, service)
    to_sign = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (ts, scope,
                                                hashlib.sha256(canonical.encode()).hexdigest())
    k = hmac.new(("TC3" + secret_key).encode(), date.encode(), hashlib.sha256).digest()
    k = hmac.new(k, service.encode(), hashlib.sha256).digest()
    k = hmac.new(k, b"tc3_request", hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return "TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        secret_id, scope, ";".join(names), sig)


def send_body(numbers=("+8613800138000",), session="hf-42", params=("4370",), app=SDK_APP_ID):
    """The compact JSON the adapter sends, as bytes (raw UTF-8)."""
    doc = {"PhoneNumberSet": list(numbers), "SmsSdkAppId": app, "SignName": "腾讯云",
           "TemplateId": "1110", "TemplateParamSet": list(params), "SessionContext": session}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


class StatusReceiver:
    """A small HTTP server standing in for the daemon's Tencent status
    callback URL. Keeps every POSTed JSON body, answers as Tencent expects."""

    def __init__(self):
        self.bodies = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                with outer.lock:
                    outer.bodies.append((self.path, self.headers.get("Content-Type"),
                                         json.loads(raw)))
                out = b'{"result":0,"errmsg":"OK"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, fmt, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/callbacks/tencent/status" % self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self):
        with self.lock:
            return list(self.bodies)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class TencentMockTest(E2ETestCase):

    def setUp(self):
        # Only the mock is needed here, not huifangd.
        if not os.access(MOCK, os.X_OK):
            self.fail("%s not built (make %s)" % (MOCK, MOCK))
        self._procs = []

    def start_tencent_mock(self, **settings):
        cfg = {"secret_id": SECRET_ID, "secret_key": SECRET_KEY, "sdk_app_id": SDK_APP_ID}
        cfg.update(settings)
        fd, path = tempfile.mkstemp(prefix="hf_tencent_", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"tencent": cfg}, f)
        self.addCleanup(os.unlink, path)
        m = Mock("--config", path)
        self._procs.append(("mock_provider", m))
        self.addCleanup(m.stop)
        return m

    def send(self, mock, body, ts=None, host=None, auth=None, headers=None, drop=(),
             path="/tencent/", **sign):
        """POST a SendSms to the mock; returns (HTTP status, parsed JSON)."""
        ts = int(time.time()) if ts is None else ts
        host = host or "127.0.0.1:%d" % mock.port
        h = {"Content-Type": "application/json", "Host": host, "X-TC-Action": "SendSms",
             "X-TC-Version": "2021-01-11", "X-TC-Timestamp": str(ts),
             "X-TC-Region": "ap-guangzhou"}
        h["Authorization"] = auth or tc3_authorization(body, ts, host, **sign)
        h.update(headers or {})
        for name in drop:
            h.pop(name, None)
        status, _, raw = http_request(mock.port, "POST", path, body, h)
        return status, parse_json(raw)

    def assertTencentError(self, status, body, code):
        self.assertEqual(status, 200, body)
        self.assertEqual(set(body), {"Response"}, body)
        resp = body["Response"]
        self.assertEqual(set(resp), {"Error", "RequestId"}, body)
        self.assertEqual(resp["Error"]["Code"], code, body)
        self.assertIsInstance(resp["Error"]["Message"], str)
        self.assertTrue(resp["Error"]["Message"])
        self.assertRegex(resp["RequestId"], UUID_RE)

    def statuses(self, status, body):
        self.assertEqual(status, 200, body)
        self.assertNotIn("Error", body["Response"], body)
        self.assertRegex(body["Response"]["RequestId"], UUID_RE)
        return body["Response"]["SendStatusSet"]

    # ---- the signer used by these tests --------------------------------

    def test_python_signer_matches_sdk_vector(self):
        body = ('{"PhoneNumberSet":["+8613800138000"],"SmsSdkAppId":"1400006666",'
                '"SignName":"腾讯云","TemplateId":"1110","TemplateParamSet":["4370"],'
                '"SessionContext":"order-42"}').encode()
        self.assertEqual(
            tc3_authorization(body, 1700000000, "sms.tencentcloudapi.com"),
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2023-11-14/sms/"
            "tc3_request, SignedHeaders=content-type;host, "
            "Signature=892c0a6c1843be82e289b01a8d00d7dcb7f0d5456bd004da3576fc333586e030")
        self.assertEqual(send_body(session="order-42"), body)

    # ---- accepted ---------------------------------------------------------

    def test_signed_request_is_accepted_and_recorded(self):
        mock = self.start_tencent_mock()
        body = send_body()
        st = self.statuses(*self.send(mock, body))
        self.assertEqual(len(st), 1)
        s = st[0]
        self.assertEqual(set(s), {"SerialNo", "PhoneNumber", "Fee", "SessionContext", "Code",
                                  "Message", "IsoCode"})
        self.assertEqual(s["Code"], "Ok")
        self.assertEqual(s["Message"], "send success")
        self.assertEqual(s["PhoneNumber"], "+8613800138000")
        self.assertEqual(s["SessionContext"], "hf-42")
        self.assertEqual(s["Fee"], 1)
        self.assertEqual(s["IsoCode"], "CN")
        self.assertRegex(s["SerialNo"], r"^5000:\d+$")

        recs = mock.requests()
        self.assertEqual(len(recs), 1, recs)
        self.assertEqual(recs[0]["path"], "/tencent/")
        self.assertEqual(recs[0]["idempotency_key"], "hf-42")
        self.assertFalse(recs[0]["duplicate"])
        self.assertEqual(recs[0]["body"], json.loads(body))

        # Tencent does not dedup on SessionContext: a repeat goes out again
        # with a new SerialNo, and the record says so.
        st2 = self.statuses(*self.send(mock, body))
        self.assertEqual(st2[0]["Code"], "Ok")
        self.assertNotEqual(st2[0]["SerialNo"], s["SerialNo"])
        recs = mock.requests()
        self.assertEqual(len(recs), 2)
        self.assertTrue(recs[1]["duplicate"])
        self.assertEqual(mock.stats()["rejected"], 0)

    def test_newer_signing_with_x_tc_action_and_any_path(self):
        mock = self.start_tencent_mock()
        # x-tc-action signed as newer docs show; the canonical URI is "/"
        # even though the request goes to /tencent (no trailing slash).
        st = self.statuses(*self.send(mock, send_body(session="hf-7"), path="/tencent",
                                      extra={"X-TC-Action": "SendSms"}))
        self.assertEqual(st[0]["Code"], "Ok")
        # A client that put its real path into the canonical request is refused.
        self.assertTencentError(*self.send(mock, send_body(session="hf-8"),
                                           canonical_uri="/tencent/"),
                                "AuthFailure.SignatureFailure")
        self.assertEqual(len(mock.requests()), 1)

    # ---- whole-request errors ----------------------------------------------

    def test_wrong_signature_is_refused(self):
        mock = self.start_tencent_mock()
        body = send_body()
        ts = int(time.time())
        host = "127.0.0.1:%d" % mock.port
        good = tc3_authorization(body, ts, host)
        bad = good[:-1] + ("0" if good[-1] != "0" else "1")
        self.assertTencentError(*self.send(mock, body, ts=ts, auth=bad),
                                "AuthFailure.SignatureFailure")
        # Signed with another secret key.
        self.assertTencentError(*self.send(mock, body, secret_key="not-the-key"),
                                "AuthFailure.SignatureFailure")
        # The body changed after signing (one byte).
        self.assertTencentError(*self.send(mock, send_body(session="hf-43"), ts=ts, auth=good),
                                "AuthFailure.SignatureFailure")
        # Signed for another Host than the one sent.
        self.assertTencentError(*self.send(mock, body, ts=ts, host=host,
                                           auth=tc3_authorization(body, ts, "sms.tencentcloudapi.com")),
                                "AuthFailure.SignatureFailure")
        # Unknown SecretId; a header that is not TC3.
        self.assertTencentError(*self.send(mock, body, secret_id="AKIDother"),
                                "AuthFailure.SecretIdNotFound")
        self.assertTencentError(*self.send(mock, body, auth="Bearer abc"),
                                "AuthFailure.InvalidAuthorization")
        self.assertEqual(mock.requests(), [])
        stats = mock.stats()
        self.assertEqual(stats["rejected"], 6, stats)
        self.assertEqual(stats["accepted"], 0, stats)

    def test_stale_timestamp_is_refused(self):
        mock = self.start_tencent_mock()
        now = int(time.time())
        for ts in (now - 400, now + 400):
            self.assertTencentError(*self.send(mock, send_body(), ts=ts),
                                    "AuthFailure.SignatureExpire")
        # Inside the 5-minute window: fine.
        st = self.statuses(*self.send(mock, send_body(), ts=now - 240))
        self.assertEqual(st[0]["Code"], "Ok")
        self.assertEqual(mock.stats()["rejected"], 2)

    def test_headers_and_body_checks(self):
        mock = self.start_tencent_mock()
        body = send_body()
        self.assertTencentError(*self.send(mock, body, headers={"X-TC-Action": "SendSmsX"}),
                                "InvalidAction")
        self.assertTencentError(*self.send(mock, body, headers={"X-TC-Version": "2019-07-11"}),
                                "NoSuchVersion")
        self.assertTencentError(*self.send(mock, body, drop=("X-TC-Region",)),
                                "MissingParameter")
        self.assertTencentError(*self.send(mock, send_body(app="1400000000")),
                                "UnauthorizedOperation.SmsSdkAppIdVerifyFail")
        self.assertTencentError(*self.send(mock, send_body(numbers=())),
                                "MissingParameter.EmptyPhoneNumberSet")
        self.assertTencentError(*self.send(mock, b'{"PhoneNumberSet":'),
                                "FailedOperation.JsonParseFail")
        bad_params = json.dumps({"PhoneNumberSet": ["+8613800138000"], "SmsSdkAppId": SDK_APP_ID,
                                 "SignName": "腾讯云", "TemplateId": "1",
                                 "TemplateParamSet": [4370]}).encode()
        self.assertTencentError(*self.send(mock, bad_params), "InvalidParameter")
        self.assertEqual(mock.requests(), [])

    # ---- per number ---------------------------------------------------------

    def test_per_number_limits(self):
        mock = self.start_tencent_mock(per_number_30s=1, fail_codes={
            "13800000001": "FailedOperation.PhoneNumberInBlacklist"})
        st = self.statuses(*self.send(mock, send_body(session="hf-1")))
        self.assertEqual(st[0]["Code"], "Ok")
        st = self.statuses(*self.send(mock, send_body(session="hf-2")))
        self.assertEqual(st[0]["Code"], "LimitExceeded.PhoneNumberThirtySecondLimit")
        self.assertEqual(st[0]["SerialNo"], "")
        self.assertEqual(st[0]["Fee"], 0)
        self.assertEqual(st[0]["SessionContext"], "hf-2")
        # One entry per number: another number still goes out; a bad one and
        # a blacklisted one get their own codes.
        st = self.statuses(*self.send(mock, send_body(
            numbers=("+8613800138000", "+8613900139000", "+861380013800", "+8613800000001"),
            session="hf-3")))
        self.assertEqual([s["Code"] for s in st],
                         ["LimitExceeded.PhoneNumberThirtySecondLimit", "Ok",
                          "InvalidParameterValue.IncorrectPhoneNumber",
                          "FailedOperation.PhoneNumberInBlacklist"])
        self.assertEqual([r["idempotency_key"] for r in mock.requests()], ["hf-1", "hf-3"])

        # The hour and day limits (config replaced at run time).
        status, _ = mock.request("POST", "/_mock/config", {"tencent": {
            "secret_id": SECRET_ID, "secret_key": SECRET_KEY, "sdk_app_id": SDK_APP_ID,
            "per_number_hour": 2}})
        self.assertEqual(status, 200)
        self.assertEqual(mock.request("POST", "/_mock/reset", {})[0], 200)
        codes = [self.statuses(*self.send(mock, send_body(session="hf-h%d" % i)))[0]["Code"]
                 for i in range(3)]
        self.assertEqual(codes, ["Ok", "Ok", "LimitExceeded.PhoneNumberOneHourLimit"])
        status, _ = mock.request("POST", "/_mock/config", {"tencent": {
            "secret_id": SECRET_ID, "secret_key": SECRET_KEY, "sdk_app_id": SDK_APP_ID,
            "per_number_day": 2}})
        self.assertEqual(status, 200)
        self.assertEqual(mock.request("POST", "/_mock/reset", {})[0], 200)
        codes = [self.statuses(*self.send(mock, send_body(session="hf-d%d" % i)))[0]["Code"]
                 for i in range(3)]
        self.assertEqual(codes, ["Ok", "Ok", "LimitExceeded.PhoneNumberDailyLimit"])

    # ---- status callbacks -----------------------------------------------

    def test_status_callback_reaches_the_daemon(self):
        rx = StatusReceiver()
        self.addCleanup(rx.stop)
        mock = self.start_tencent_mock(status_url=rx.url, receipt_delay_ms=50,
                                       undeliverable_numbers=["13900139000"])
        st = self.statuses(*self.send(mock, send_body(numbers=("+8613800138000",
                                                               "+8613900139000"))))
        self.assertEqual([s["Code"] for s in st], ["Ok", "Ok"])
        got = wait_until(rx.received, 5.0, what="the status callback")
        self.assertEqual(len(got), 1, got)
        path, ctype, arr = got[0]
        self.assertEqual(path, "/callbacks/tencent/status")
        self.assertEqual(ctype, "application/json")
        self.assertIsInstance(arr, list)
        self.assertEqual(len(arr), 2)
        for item in arr:
            self.assertEqual(set(item), {"user_receive_time", "nationcode", "mobile",
                                         "report_status", "errmsg", "description", "sid"})
            self.assertRegex(item["user_receive_time"], TIME_RE)
            self.assertEqual(item["nationcode"], "86")
        ok, fail = arr
        self.assertEqual((ok["mobile"], ok["report_status"], ok["errmsg"], ok["description"],
                          ok["sid"]),
                         ("13800138000", "SUCCESS", "DELIVRD", "用户短信送达成功",
                          st[0]["SerialNo"]))
        self.assertEqual((fail["mobile"], fail["report_status"], fail["errmsg"], fail["sid"]),
                         ("13900139000", "FAIL", "MK:0001", st[1]["SerialNo"]))

        # On demand, twice (providers repeat receipts).
        status, body = mock.request("POST", "/_mock/tencent/push_status", {
            "sid": st[0]["SerialNo"], "report_status": "FAIL", "errmsg": "UNDELIV", "times": 2})
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"pushed": 2, "sid": st[0]["SerialNo"]})
        got = wait_until(lambda: len(rx.received()) >= 3 and rx.received(), 5.0,
                         what="two pushed callbacks")
        time.sleep(0.2)  # nothing more arrives
        got = rx.received()
        self.assertEqual(len(got), 3, got)
        self.assertEqual(got[1][2], got[2][2])
        item = got[1][2][0]
        self.assertEqual((item["sid"], item["mobile"], item["report_status"], item["errmsg"]),
                         (st[0]["SerialNo"], "13800138000", "FAIL", "UNDELIV"))

        # An unknown sid needs a mobile.
        status, body = mock.request("POST", "/_mock/tencent/push_status", {"sid": "5000:0"})
        self.assertEqual(status, 404, body)
        self.assertEqual(body["field"], "sid")
        status, body = mock.request("POST", "/_mock/tencent/push_status",
                                    {"sid": "5000:0", "mobile": "13700137000"})
        self.assertEqual(status, 200, body)
        got = wait_until(lambda: len(rx.received()) >= 4 and rx.received(), 5.0,
                         what="the unknown-sid callback")
        self.assertEqual(got[3][2][0]["sid"], "5000:0")
        self.assertEqual(got[3][2][0]["report_status"], "SUCCESS")
        status, body = mock.request("POST", "/_mock/tencent/push_status",
                                    {"sid": "x", "times": 0})
        self.assertEqual((status, body.get("field")), (400, "times"), body)

    def test_no_callback_without_status_url(self):
        mock = self.start_tencent_mock()
        st = self.statuses(*self.send(mock, send_body()))
        self.assertEqual(st[0]["Code"], "Ok")
        status, body = mock.request("POST", "/_mock/tencent/push_status",
                                    {"sid": st[0]["SerialNo"]})
        self.assertEqual((status, body.get("field")), (400, "url"), body)


if __name__ == "__main__":
    unittest.main()
