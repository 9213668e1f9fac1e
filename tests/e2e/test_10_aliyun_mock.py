"""End-to-end tests of the mock Aliyun SMS API (tools/mock/aliyun.c).

The requests are built and signed here in Python from the documented
algorithms (PROTOCOLS.md C6/C7) with hmac/hashlib only, independently of
the C signer the mock verifies with. A small HTTP server in this process
plays the daemon's receipt endpoint.

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_10_aliyun_mock.py'
"""

import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import queue
import threading
import time
import urllib.parse
import uuid

from harness import E2ETestCase, http_request, parse_json, wait_until

KEY_ID = "e2e-aliyun-key"
KEY_SECRET = "e2e-aliyun-secret-0123456789"
SIGN_NAME = "安居装饰"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def pct(s):
    """C6.2: RFC 3986 unreserved kept, everything else %XX upper-case."""
    return urllib.parse.quote(s, safe="-_.~")


def acs_date(t=None):
    t = time.time() if t is None else t
    return datetime.datetime.fromtimestamp(int(t), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def api_params(phone="13800138000", out_id=None, **over):
    p = {"PhoneNumbers": phone, "SignName": SIGN_NAME, "TemplateCode": "SMS_468170001",
         "TemplateParam": json.dumps({"name": "陈女士", "date": "11月24日"},
                                     ensure_ascii=False, separators=(",", ":")),
         "OutId": out_id or "hf-" + uuid.uuid4().hex[:8]}
    p.update(over)
    return {k: v for k, v in p.items() if v is not None}


def v3_request(port, params, secret=KEY_SECRET, key_id=KEY_ID, date=None, nonce=None,
               action="SendSms", version="2017-05-25"):
    """(path, headers) of a V3-signed POST /aliyun/ with @params in the query."""
    host = "127.0.0.1:%d" % port
    headers = {"host": host, "x-acs-action": action, "x-acs-version": version,
               "x-acs-date": date or acs_date(), "x-acs-signature-nonce": nonce or uuid.uuid4().hex,
               "x-acs-content-sha256": EMPTY_SHA256}
    cq = "&".join("%s=%s" % (k, pct(v)) for k, v in sorted(params.items()))
    names = sorted(headers)
    canon_headers = "".join("%s:%s\n" % (k, headers[k].strip()) for k in names)
    signed = ";".join(names)
    canonical = "\n".join(["POST", "/", cq, canon_headers, signed, EMPTY_SHA256])
    sts = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
    sig = hmac.new(secret.encode(), sts.encode(), hashlib.sha256).hexdigest()
    headers["Authorization"] = "ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s" % (
        key_id, signed, sig)
    query = "&".join("%s=%s" % (pct(k), pct(v)) for k, v in sorted(params.items()))
    return "/aliyun/?" + query, headers


def v1_request(params, secret=KEY_SECRET, key_id=KEY_ID, timestamp=None, nonce=None):
    """The path of a V1 (RPC HMAC-SHA1) signed POST /aliyun/."""
    p = dict(params)
    p.update({"AccessKeyId": key_id, "Action": "SendSms", "Format": "JSON",
              "SignatureMethod": "HMAC-SHA1", "SignatureNonce": nonce or str(uuid.uuid4()),
              "SignatureVersion": "1.0", "Timestamp": timestamp or acs_date(),
              "Version": "2017-05-25"})
    cq = "&".join("%s=%s" % (pct(k), pct(v)) for k, v in sorted(p.items()))
    sts = "POST&%2F&" + pct(cq)
    sig = base64.b64encode(hmac.new((secret + "&").encode(), sts.encode(),
                                    hashlib.sha1).digest()).decode()
    return "/aliyun/?" + cq + "&Signature=" + pct(sig)


class ReceiptServer:
    """The daemon's SmsReport endpoint: records every POSTed JSON body and
    answers {"code":0,"msg":"接收成功"} (C8)."""

    def __init__(self):
        self.bodies = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(n)
                outer.bodies.put((self.path, self.headers.get("Content-Type"), raw))
                out = json.dumps({"code": 0, "msg": "接收成功"}, ensure_ascii=False).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, fmt, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/callbacks/aliyun/report" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def next(self, timeout=5.0):
        """(path, content type, parsed body) of the next push."""
        path, ctype, raw = self.bodies.get(timeout=timeout * float(os.environ.get(
            "TEST_TIMEOUT_MULTIPLIER", "1") or "1"))
        return path, ctype, json.loads(raw)

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class AliyunMockTest(E2ETestCase):

    def start_aliyun(self, **cfg):
        section = {"access_key_id": KEY_ID, "access_key_secret": KEY_SECRET}
        section.update(cfg)
        return self.start_mock(config={"aliyun": section})

    def receipts(self):
        r = ReceiptServer()
        self.addCleanup(r.stop)
        return r

    def post(self, mock, path, headers=None):
        status, _, raw = http_request(mock.port, "POST", path, None, headers or {})
        return status, parse_json(raw)

    def send_v3(self, mock, params, **kw):
        path, headers = v3_request(mock.port, params, **kw)
        return self.post(mock, path, headers)

    # ---- authentication ---------------------------------------------------

    def test_v3_signed_request_accepted_and_recorded(self):
        mock = self.start_aliyun()
        params = api_params(out_id="hf-101")
        status, body = self.send_v3(mock, params)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["Code"], "OK", body)
        self.assertEqual(body["Message"], "OK")
        self.assertRegex(body["BizId"], r"^\d{18}\^0$")
        self.assertRegex(body["RequestId"],
                         r"^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")
        recs = mock.requests(key="hf-101")
        self.assertEqual(len(recs), 1, recs)
        rec = recs[0]
        self.assertFalse(rec["duplicate"])
        self.assertEqual(rec["path"], "/aliyun/")
        self.assertEqual(rec["body"]["signature_method"], "ACS3-HMAC-SHA256")
        self.assertEqual(rec["body"]["biz_id"], body["BizId"])
        self.assertEqual(rec["body"]["params"]["TemplateParam"], {"name": "陈女士", "date": "11月24日"})
        self.assertEqual(rec["body"]["params"]["SignName"], SIGN_NAME)
        self.assertEqual(rec["body"]["params"]["PhoneNumbers"], "13800138000")

        # Not idempotent, like the real API: the same OutId is sent again,
        # with a new BizId, and the record says so.
        status, again = self.send_v3(mock, params)
        self.assertEqual(again["Code"], "OK", again)
        self.assertNotEqual(again["BizId"], body["BizId"])
        recs = mock.requests(key="hf-101")
        self.assertEqual([r["duplicate"] for r in recs], [False, True])

    def test_v1_signed_request_accepted(self):
        mock = self.start_aliyun()
        status, body = self.post(mock, v1_request(api_params(out_id="hf-102")))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["Code"], "OK", body)
        rec = mock.requests(key="hf-102")[0]
        self.assertEqual(rec["body"]["signature_method"], "HMAC-SHA1")
        self.assertNotIn("Signature", rec["body"]["params"])
        self.assertEqual(rec["body"]["params"]["Action"], "SendSms")

    def test_wrong_signature_refused(self):
        mock = self.start_aliyun()
        status, body = self.send_v3(mock, api_params(out_id="hf-103"), secret="not-the-secret")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["Code"], "SignatureDoesNotMatch", body)
        self.assertIn("RequestId", body)
        self.assertIn("Message", body)
        status, body = self.post(mock, v1_request(api_params(out_id="hf-103"), secret="nope"))
        self.assertEqual(status, 400, body)
        self.assertEqual(body["Code"], "SignatureDoesNotMatch", body)
        # Tampering with a signed parameter after signing.
        path, headers = v3_request(mock.port, api_params(out_id="hf-103"))
        status, body = self.post(mock, path.replace("13800138000", "13800138001"), headers)
        self.assertEqual(body["Code"], "SignatureDoesNotMatch", body)
        status, body = self.send_v3(mock, api_params(), key_id="someone-else")
        self.assertEqual(status, 404, body)
        self.assertEqual(body["Code"], "InvalidAccessKeyId.NotFound", body)
        status, body = self.post(mock, "/aliyun/?" + "&".join(
            "%s=%s" % (pct(k), pct(v)) for k, v in api_params().items()))
        self.assertEqual(status, 400, body)
        self.assertEqual(body["Code"], "MissingSignature", body)
        self.assertEqual(mock.requests(), [])
        st = mock.stats()
        self.assertEqual((st["received"], st["accepted"], st["rejected"]), (5, 0, 5), st)

    def test_reused_nonce_and_stale_date_refused(self):
        mock = self.start_aliyun()
        nonce = uuid.uuid4().hex
        status, body = self.send_v3(mock, api_params(), nonce=nonce)
        self.assertEqual(body["Code"], "OK", body)
        status, body = self.send_v3(mock, api_params(), nonce=nonce)
        self.assertEqual(status, 400, body)
        self.assertEqual(body["Code"], "SignatureNonceUsed", body)
        v1nonce = str(uuid.uuid4())
        self.assertEqual(self.post(mock, v1_request(api_params(), nonce=v1nonce))[1]["Code"], "OK")
        status, body = self.post(mock, v1_request(api_params(), nonce=v1nonce))
        self.assertEqual(body["Code"], "SignatureNonceUsed", body)

        status, body = self.send_v3(mock, api_params(), date=acs_date(time.time() - 16 * 60))
        self.assertEqual(status, 400, body)
        self.assertEqual(body["Code"], "InvalidTimeStamp.Expired", body)
        status, body = self.post(mock, v1_request(api_params(),
                                                  timestamp=acs_date(time.time() + 16 * 60)))
        self.assertEqual(body["Code"], "InvalidTimeStamp.Expired", body)
        status, body = self.send_v3(mock, api_params(), date=acs_date(time.time() - 10 * 60))
        self.assertEqual(body["Code"], "OK", body)

    # ---- SendSms checks -----------------------------------------------------

    def test_business_checks(self):
        mock = self.start_aliyun(fail_codes={"13800000001": "isv.AMOUNT_NOT_ENOUGH"})
        status, body = self.send_v3(mock, api_params(phone="1380013800"))
        self.assertEqual((status, body["Code"]), (200, "isv.MOBILE_NUMBER_ILLEGAL"), body)
        status, body = self.send_v3(mock, api_params(phone="+8613800138000"))
        self.assertEqual(body["Code"], "OK", body)
        status, body = self.send_v3(mock, api_params(TemplateParam='{"code":1234}'))
        self.assertEqual((status, body["Code"]), (200, "isv.INVALID_JSON_PARAM"), body)
        status, body = self.send_v3(mock, api_params(TemplateParam="not json"))
        self.assertEqual(body["Code"], "isv.INVALID_JSON_PARAM", body)
        status, body = self.send_v3(mock, api_params(SignName=None))
        self.assertEqual((status, body["Code"]), (400, "MissingSignName"), body)
        status, body = self.send_v3(mock, api_params(phone="13800000001"))
        self.assertEqual((status, body["Code"]), (200, "isv.AMOUNT_NOT_ENOUGH"), body)
        status, body = self.send_v3(mock, api_params(), action="QuerySendDetails")
        self.assertEqual((status, body["Code"]), (404, "InvalidAction.NotFound"), body)

    def test_per_number_limit(self):
        mock = self.start_aliyun(per_number_minute=1, per_number_hour=5)
        status, body = self.send_v3(mock, api_params(phone="13900001111"))
        self.assertEqual(body["Code"], "OK", body)
        status, body = self.send_v3(mock, api_params(phone="13900001111"))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["Code"], "isv.BUSINESS_LIMIT_CONTROL", body)
        self.assertEqual(body["Message"], "触发分钟级流控Permits:1")
        # Another number has its own budget.
        status, body = self.send_v3(mock, api_params(phone="13900002222"))
        self.assertEqual(body["Code"], "OK", body)
        # A reset forgets the history.
        self.assertEqual(mock.request("POST", "/_mock/reset")[0], 200)
        status, body = self.send_v3(mock, api_params(phone="13900001111"))
        self.assertEqual(body["Code"], "OK", body)

    # ---- receipts -------------------------------------------------------------

    def test_receipt_pushed_after_send(self):
        rs = self.receipts()
        mock = self.start_aliyun(receipt_url=rs.url, receipt_delay_ms=50,
                                 undeliverable_numbers=["13700000000"])
        status, body = self.send_v3(mock, api_params(phone="13800138000", out_id="hf-201"))
        self.assertEqual(body["Code"], "OK", body)
        path, ctype, report = rs.next()
        self.assertEqual(path, "/callbacks/aliyun/report")
        self.assertEqual(ctype, "application/json")
        self.assertIsInstance(report, list)
        self.assertEqual(len(report), 1)
        r = report[0]
        self.assertEqual(set(r), {"phone_number", "send_time", "report_time", "success",
                                  "err_code", "err_msg", "sms_size", "biz_id", "out_id"})
        self.assertEqual(r["phone_number"], "13800138000")
        self.assertIs(r["success"], True)
        self.assertEqual(r["err_code"], "DELIVERED")
        self.assertEqual(r["err_msg"], "用户接收成功")
        self.assertEqual(r["sms_size"], "1")
        self.assertEqual(r["biz_id"], body["BizId"])
        self.assertEqual(r["out_id"], "hf-201")
        self.assertRegex(r["send_time"], r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")

        status, body = self.send_v3(mock, api_params(phone="13700000000", out_id="hf-202"))
        self.assertEqual(body["Code"], "OK", body)
        _, _, report = rs.next()
        self.assertIs(report[0]["success"], False)
        self.assertEqual(report[0]["err_code"], "MK:0001")
        self.assertEqual(report[0]["out_id"], "hf-202")

    def test_push_receipt_on_demand_twice(self):
        rs = self.receipts()
        mock = self.start_aliyun(receipt_url=rs.url, receipt_delay_ms=0)
        status, body = self.send_v3(mock, api_params(out_id="hf-301"))
        self.assertEqual(body["Code"], "OK", body)
        rs.next()  # the automatic one
        status, out = mock.request("POST", "/_mock/aliyun/push_receipt",
                                   {"out_id": "hf-301", "success": False, "err_code": "IC:0015",
                                    "times": 2})
        self.assertEqual(status, 200, out)
        self.assertEqual(out["pushed"], 2)
        first = rs.next()[2]
        second = rs.next()[2]
        self.assertEqual(first, second)
        self.assertEqual(first, out["receipt"])
        self.assertIs(first[0]["success"], False)
        self.assertEqual(first[0]["err_code"], "IC:0015")
        self.assertEqual(first[0]["biz_id"], body["BizId"])
        status, out = mock.request("POST", "/_mock/aliyun/push_receipt", {"out_id": "hf-nope"})
        self.assertEqual(status, 404, out)
        status, out = mock.request("POST", "/_mock/aliyun/push_receipt", {"times": 2})
        self.assertEqual(status, 400, out)


if __name__ == "__main__":
    import unittest
    unittest.main()
