"""End-to-end tests of tools/mock_provider, the local stand-in for providers.

Each test starts its own mock on 127.0.0.1 port 0, reads the bound port
from a ready-file the mock writes once listening, talks real HTTP to it and
always stops it (SIGTERM, then SIGKILL) in a cleanup. A mock that does not
exit 0 on SIGTERM fails the test: under the ASan build (BUILD=build/asan)
that is how a leak or a sanitizer report shows up. When a test fails, the
mock's log is printed.

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_*.py'
"""

import hashlib
import hmac
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

# BUILD is relative to the repository root (as in harness.py), whatever the
# current directory: `cd tests/e2e && python3 -m unittest test_mock_provider`.
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
MOCK = os.path.join(BUILD, "mock_provider")
SLOW = float(os.environ.get("TEST_TIMEOUT_MULTIPLIER", "1"))
READY_TIMEOUT_S = 5.0 * SLOW
STOP_TIMEOUT_S = 10.0 * SLOW


class Mock:
    """One running mock_provider process."""

    def __init__(self, *args):
        self.dir = tempfile.TemporaryDirectory(prefix="mock_provider_")
        self.ready = os.path.join(self.dir.name, "ready")
        self.record = os.path.join(self.dir.name, "record.jsonl")
        self.log_path = os.path.join(self.dir.name, "mock.log")
        self.log_text = ""
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [MOCK, "--port", "0", "--ready-file", self.ready, "--record", self.record, *args],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        self.port = self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if os.path.exists(self.ready):
                with open(self.ready) as f:
                    text = f.read()
                if not text.endswith("\n"):
                    raise AssertionError("ready-file not written atomically: %r" % text)
                return int(text)
            if self.proc.poll() is not None:
                raise AssertionError("mock exited early with %d:\n%s"
                                     % (self.proc.returncode, self.read_log()))
            time.sleep(0.02)
        raise AssertionError("mock not ready after %.1f s:\n%s" % (READY_TIMEOUT_S, self.read_log()))

    def read_log(self):
        self._log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, timeout=10.0):
        """Returns (status, parsed JSON body or raw text)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout * SLOW)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        try:
            return resp.status, json.loads(data)
        except ValueError:
            return resp.status, data.decode(errors="replace")

    def webhook(self, body, key=None, path="/webhook", headers=None, timeout=10.0):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        h = {"Content-Type": "application/json"}
        if key is not None:
            h["Idempotency-Key"] = key
        h.update(headers or {})
        return self.request("POST", path, raw, h, timeout)

    def stats(self):
        status, body = self.request("GET", "/_mock/stats")
        assert status == 200, body
        return body

    def requests(self):
        status, body = self.request("GET", "/_mock/requests")
        assert status == 200, body
        return body

    def stop(self, sig=signal.SIGTERM):
        """Signal the mock and wait. Returns its exit status (None if it had
        to be killed). Idempotent."""
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(sig)
            try:
                rc = self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
        if not self._log.closed:
            self.log_text = self.read_log()
            self._log.close()
            self.dir.cleanup()
        return rc


def sign(secret, raw):
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


class MockProviderTest(unittest.TestCase):

    def setUp(self):
        if not os.access(MOCK, os.X_OK):
            self.fail("%s not built (make %s)" % (MOCK, MOCK))
        self.mocks = []

    def start(self, *args):
        m = Mock(*args)
        self.mocks.append(m)
        self.addCleanup(self._stop_checked, m)
        return m

    def _stop_checked(self, m):
        rc = m.stop()
        if rc != 0:
            self.fail("mock did not exit 0 on SIGTERM (rc=%r):\n%s" % (rc, m.log_text))

    def run(self, result=None):
        # Print the mocks' logs for a failed test (cleanups have run by now,
        # so the text was saved by Mock.stop()).
        bad = (lambda r: len(r.failures) + len(r.errors)) if result else (lambda r: 0)
        before = bad(result)
        out = super().run(result)
        if result is not None and bad(result) > before:
            for m in getattr(self, "mocks", []):
                sys.stderr.write("\n--- mock_provider log (%s) ---\n%s" % (self.id(), m.log_text))
        return out

    # ---- the webhook route ------------------------------------------

    def test_accepted_request_recorded(self):
        m = self.start()
        status, body = m.webhook({"text": "你好", "n": 1}, key="hf-12")
        self.assertEqual(status, 200)
        self.assertEqual(body, {"id": "mock-1", "status": "accepted"})

        recs = m.requests()
        self.assertEqual(len(recs), 1)
        rec = recs[0]
        self.assertEqual(rec["seq"], 1)
        self.assertEqual(rec["path"], "/webhook")
        self.assertEqual(rec["idempotency_key"], "hf-12")
        self.assertIs(rec["duplicate"], False)
        self.assertEqual(rec["status"], 200)
        self.assertEqual(rec["body"], {"text": "你好", "n": 1})
        self.assertAlmostEqual(rec["ts_ms"] / 1000.0, time.time(), delta=60)

        # The line is in the record file before the answer is sent.
        with open(m.record) as f:
            lines = [json.loads(l) for l in f.read().splitlines()]
        self.assertEqual(lines, recs)
        self.assertEqual(m.stats()["received"], 1)
        self.assertEqual(m.stats()["accepted"], 1)

    def test_duplicate_idempotency_key_flagged(self):
        m = self.start()
        s1, b1 = m.webhook({"n": 1}, key="hf-7")
        s2, b2 = m.webhook({"n": 1}, key="hf-7", path="/webhook/retry")
        s3, b3 = m.webhook({"n": 2}, key="hf-8")
        self.assertEqual((s1, s2, s3), (200, 200, 200))
        self.assertEqual(b1["id"], "mock-1")
        self.assertEqual(b2["id"], "mock-1")  # a real provider answers the same id
        self.assertEqual(b3["id"], "mock-3")
        recs = m.requests()
        self.assertEqual([r["duplicate"] for r in recs], [False, True, False])
        self.assertEqual(recs[1]["path"], "/webhook/retry")
        st = m.stats()
        self.assertEqual((st["received"], st["accepted"], st["duplicates"]), (3, 3, 1))

    def test_bad_json_400(self):
        m = self.start()
        for raw in (b'{"a":', b"", b'{"a":1} trailing'):
            status, body = m.webhook(raw, key="hf-1")
            self.assertEqual((status, body), (400, {"error": "bad json"}), raw)
        self.assertEqual(m.requests(), [])
        self.assertEqual(m.stats()["rejected"], 3)

    def test_bad_signature_401(self):
        secret = "s3cret"
        m = self.start("--webhook-secret", secret)
        raw = json.dumps({"n": 1}).encode()
        status, body = m.webhook(raw, key="hf-1", headers={"X-Huifang-Signature": sign(secret, raw)})
        self.assertEqual((status, body["status"]), (200, "accepted"))
        for sig in (sign("other", raw), sign(secret, raw + b" "), "sha256=", "md5=00", None):
            headers = {"X-Huifang-Signature": sig} if sig is not None else {}
            status, body = m.webhook(raw, key="hf-2", headers=headers)
            self.assertEqual((status, body), (401, {"error": "bad signature"}), sig)
        self.assertEqual(len(m.requests()), 1)
        st = m.stats()
        self.assertEqual((st["accepted"], st["rejected"]), (1, 5))

    def test_body_over_1mib_refused_413_before_read(self):
        m = self.start()
        # Declare 2 MiB and send none of it: the answer must come anyway.
        with socket.create_connection(("127.0.0.1", m.port), timeout=5 * SLOW) as s:
            s.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 2097152\r\n\r\n")
            head = s.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), head)
        # Exactly 1 MiB is still accepted.
        raw = b'{"p":"' + b"a" * (1024 * 1024 - 8) + b'"}'
        self.assertEqual(len(raw), 1024 * 1024)
        self.assertEqual(m.webhook(raw, key="hf-1")[0], 200)

    def test_unknown_path_404_and_wrong_method_405(self):
        m = self.start()
        self.assertEqual(m.request("GET", "/nope"), (404, {"error": "not found"}))
        self.assertEqual(m.request("POST", "/webhookx", b"{}")[0], 404)
        self.assertEqual(m.request("GET", "/webhook")[0], 405)

    # ---- fault injection --------------------------------------------

    def test_injected_500_then_success(self):
        m = self.start()
        status, body = m.request("POST", "/_mock/faults", {"status": 500, "count": 2})
        self.assertEqual(status, 200, body)
        for _ in range(2):
            self.assertEqual(m.webhook({"n": 1}, key="hf-3"), (500, {"error": "injected"}))
        status, body = m.webhook({"n": 1}, key="hf-3")
        self.assertEqual(status, 200)
        self.assertIs(m.requests()[0]["duplicate"], False)  # faulted answers do not count
        st = m.stats()
        self.assertEqual((st["received"], st["accepted"], st["faulted"]), (3, 1, 2))

    def test_probabilistic_fault(self):
        # "30% of requests answer 500": each request is faulted with that
        # chance, and only faulted ones use up the count.
        m = self.start()
        status, body = m.request("POST", "/_mock/faults",
                                 {"status": 500, "probability": 0.3, "count": 100000})
        self.assertEqual(status, 200, body)
        codes = [m.webhook({"n": i}, key="hf-p%d" % i)[0] for i in range(300)]
        self.assertEqual(set(codes), {200, 500})
        self.assertTrue(60 <= codes.count(500) <= 120, codes.count(500))
        st = m.stats()
        self.assertEqual((st["faulted"], st["accepted"]), (codes.count(500), codes.count(200)))
        for bad in (0, 1.5, "x"):
            status, body = m.request("POST", "/_mock/faults", {"status": 500, "probability": bad})
            self.assertEqual((status, body.get("field")), (400, "probability"), bad)

    def test_fault_match_and_queue_order(self):
        m = self.start()
        m.request("POST", "/_mock/faults", [{"status": 503, "match": "hf-9"},
                                            {"status": 429, "body": {"code": "Throttling"}}])
        self.assertEqual(m.webhook({}, key="hf-1"), (429, {"code": "Throttling"}))
        self.assertEqual(m.webhook({}, key="hf-2")[0], 200)
        self.assertEqual(m.webhook({}, key="hf-9"), (503, {"error": "injected"}))
        self.assertEqual(m.webhook({}, key="hf-9")[0], 200)
        # Bad fault specs are refused with the field named, and queue nothing.
        status, body = m.request("POST", "/_mock/faults", [{"status": 500}, {"bogus": 1}])
        self.assertEqual((status, body.get("field")), (400, "bogus"))
        status, body = m.request("POST", "/_mock/faults", {"count": 2})
        self.assertEqual(status, 400)
        m.request("POST", "/_mock/faults", {"status": 500, "count": 5})
        self.assertEqual(m.request("DELETE", "/_mock/faults"), (200, {"cleared": 1}))
        self.assertEqual(m.webhook({}, key="hf-4")[0], 200)

    def test_delay_then_normal_answer(self):
        m = self.start()
        m.request("POST", "/_mock/faults", {"delay_ms": 400, "count": 1})
        t0 = time.monotonic()
        status, _ = m.webhook({}, key="hf-1")
        self.assertEqual(status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.4)
        self.assertEqual(m.stats()["faulted"], 0)

    def test_hang_until_client_gives_up(self):
        m = self.start()
        m.request("POST", "/_mock/faults", {"hang": True})
        t0 = time.monotonic()
        with self.assertRaises((socket.timeout, TimeoutError)):
            m.webhook({}, key="hf-1", timeout=0.5)
        # gave up after its own timeout (0.5 s x TEST_TIMEOUT_MULTIPLIER)
        self.assertLess(time.monotonic() - t0, 0.5 * SLOW + 4.5)
        # The other connections are served meanwhile and afterwards.
        self.assertEqual(m.webhook({}, key="hf-1")[0], 200)
        deadline = time.monotonic() + 2 * SLOW
        while m.stats()["faulted"] != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(m.stats()["faulted"], 1)

    def test_fail_first_cli(self):
        m = self.start("--fail-first", "2", "--fail-status", "503")
        self.assertEqual(m.webhook({}, key="hf-1")[0], 503)
        self.assertEqual(m.webhook({}, key="hf-1")[0], 503)
        self.assertEqual(m.webhook({}, key="hf-1")[0], 200)

    def test_reset_clears_records_and_stats(self):
        m = self.start()
        m.webhook({}, key="hf-1")
        self.assertEqual(m.request("POST", "/_mock/reset")[0], 200)
        self.assertEqual(m.requests(), [])
        self.assertEqual(m.stats()["received"], 0)
        status, body = m.webhook({}, key="hf-1")
        self.assertEqual(body["id"], "mock-1")
        self.assertIs(m.requests()[0]["duplicate"], False)
        with open(m.record) as f:
            self.assertEqual(len(f.read().splitlines()), 2)  # the file is kept

    # ---- process lifecycle ------------------------------------------

    def test_sigterm_exits_0(self):
        m = self.start()
        m.webhook({"n": 1}, key="hf-1")
        self.assertEqual(m.stop(signal.SIGTERM), 0, m.log_text)

    def test_sigterm_during_hang_exits_promptly(self):
        m = self.start()
        m.request("POST", "/_mock/faults", {"hang": True})
        conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=30)
        self.addCleanup(conn.close)
        conn.request("POST", "/webhook", b"{}", {"Content-Type": "application/json"})
        deadline = time.monotonic() + 2 * SLOW
        while "fault hang" not in m.read_log() and time.monotonic() < deadline:
            time.sleep(0.02)
        t0 = time.monotonic()
        self.assertEqual(m.stop(signal.SIGTERM), 0, m.log_text)
        self.assertLess(time.monotonic() - t0, 3 * SLOW)

    def test_refuses_non_loopback_listen(self):
        p = subprocess.run([MOCK, "--listen", "0.0.0.0", "--port", "0"],
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"127.0.0.1", p.stderr)


if __name__ == "__main__":
    unittest.main()
