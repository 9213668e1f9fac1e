"""Shared machinery for huifangd's end-to-end tests (STYLE.md items 22-23).

Every test starts its own processes: a mock_provider on 127.0.0.1 port 0
(the far side of the webhook channel) and a huifangd with its own config,
database and ready-file in a fresh temp directory. Ports are read from the
ready-files the programs write once they listen; nothing waits by sleeping
except bounded polling (wait_until). Processes are always stopped in a
cleanup: SIGTERM, and the exit status must be 0 (under the ASan build that
is how a leak or a sanitizer report fails the test). When a test fails, the
logs of its daemons and mocks are printed.

Environment:
    BUILD                    where the binaries are (default "build")
    TEST_TIMEOUT_MULTIPLIER  integer factor for every wait (default 1)
    ASAN_OPTIONS etc.        passed through to the programs
    HUIFANG_VALGRIND=1       run every huifangd under valgrind memcheck
                             (`make valgrind`): an invalid access, an
                             uninitialised read or a leak makes it exit
                             99, which fails the test like any non-zero exit

Run from the repo root:
    python3 -m unittest discover -s tests/e2e -p 'test_*.py'
"""

import copy
import datetime
import hashlib
import http.client
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import shutil
import time
import unittest
import uuid

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(REPO, os.environ.get("BUILD", "build"))
HUIFANGD = os.path.join(BUILD, "huifangd")
MOCK = os.path.join(BUILD, "mock_provider")
SLOW = int(os.environ.get("TEST_TIMEOUT_MULTIPLIER", "1") or "1")
# The command prefix for huifangd (the mock is not under test here).
VALGRIND = (["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
             "--show-leak-kinds=definite,indirect,possible",
             "--errors-for-leak-kinds=definite,indirect,possible"]
            if os.environ.get("HUIFANG_VALGRIND") == "1" else [])

READY_TIMEOUT_S = 5.0 * SLOW
STOP_TIMEOUT_S = 15.0 * SLOW
HTTP_TIMEOUT_S = 10.0 * SLOW

CATALOGUE = os.path.join(REPO, "config", "milestones.json")
HOLIDAYS = os.path.join(REPO, "config", "holidays-cn.json")
TEMPLATES = os.path.join(REPO, "templates")

# Bearer tokens; the config holds their SHA-256.
TRIGGER_TOKEN = "e2e-trigger-token-0123456789abcdef"
CS_TOKEN = "e2e-cs-token-0123456789abcdef"
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef"
SURVEY_SECRET = "e2e-survey-secret-0123456789"
WEBHOOK_SECRET = "e2e-webhook-secret-0123456789"

COMPANY_NAME = "安居装饰"
COMPANY_PHONE = "400-800-1234"
PUBLIC_URL = "https://hf.example.test"

# Test clocks (HUIFANG_CLOCK_START). All in Asia/Shanghai.
TUESDAY_1505 = "2026-11-24T15:05:00+08:00"   # a working day, inside the survey window
FRIDAY_1930 = "2026-11-27T19:30:00+08:00"    # notice window open, survey window closed
MONDAY_1031 = "2026-11-30T10:31:00+08:00"    # the next survey window after FRIDAY_1930

CST = datetime.timezone(datetime.timedelta(hours=8))

# HUIFANG_TEST_PG=1 with HUIFANG_TEST_PG_URL (a server tests/pg_server.sh
# started): every Daemon gets its own PostgreSQL database on that server
# ("store": {"url": ...}) instead of a SQLite file; db()/rows()/scalar()
# read it through psql.
PG_URL = (os.environ.get("HUIFANG_TEST_PG_URL") or None) \
    if os.environ.get("HUIFANG_TEST_PG") == "1" else None


def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def _pg_url_db(url, name):
    """@url with its database replaced by @name."""
    base = url.rsplit("/", 1)[0]
    return base + "/" + name


def psql(url, sql):
    """Run @sql on @url; its stdout (unaligned, tuples only)."""
    out = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         capture_output=True, text=True, timeout=30 * SLOW)
    if out.returncode != 0:
        raise RuntimeError("psql: %s: %s" % (sql, out.stderr.strip()))
    return out.stdout


class _PgRow(dict):
    """A row by column name or, like sqlite3.Row, by position."""

    def __getitem__(self, k):
        if isinstance(k, int):
            return list(self.values())[k]
        return dict.__getitem__(self, k)


class _PgCursor:
    def __init__(self, rows):
        self._rows = rows

    def fetchall(self):
        return self._rows

    def fetchone(self):
        return self._rows[0] if self._rows else None


class PgConn:
    """Just enough of sqlite3.Connection for the tests' reads: execute()
    with ? parameters, rows typed through row_to_json."""

    def __init__(self, url):
        self.url = url

    def execute(self, sql, args=()):
        parts = sql.split("?")
        if len(parts) - 1 != len(args):
            raise ValueError("%d parameters for %r" % (len(args), sql))
        text = parts[0] + "".join(_pg_literal(a) + p for a, p in zip(args, parts[1:]))
        text = text.strip().rstrip(";")
        # The few SQLite-isms of the tests' reads.
        if text.upper() == "PRAGMA USER_VERSION":
            text = "SELECT MAX(version) FROM schema_version"
        text = re.sub(r"\bwindow\b", '"window"', text)
        out = psql(self.url, "SELECT row_to_json(t) FROM (%s) t" % text)
        return _PgCursor([_PgRow(json.loads(line, object_pairs_hook=lambda kv: dict(kv)))
                          for line in out.splitlines() if line.strip()])

    def close(self):
        pass


def sha256_hex(s):
    return hashlib.sha256(s.encode()).hexdigest()


def epoch(iso):
    """Unix seconds of an ISO-8601 time with offset."""
    return int(datetime.datetime.fromisoformat(iso).timestamp())


def iso_local(t):
    """The daemon's rendering of Unix seconds @t: local time with +08:00."""
    return datetime.datetime.fromtimestamp(t, CST).isoformat()


def wait_until(predicate, timeout=5.0, interval=0.02, what=None):
    """Poll @predicate until it returns something truthy, and return that.
    @timeout is multiplied by TEST_TIMEOUT_MULTIPLIER. Raises AssertionError
    naming @what on timeout."""
    deadline = time.monotonic() + timeout * SLOW
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s"
                                 % (timeout * SLOW, what or getattr(predicate, "__name__", "?")))
        time.sleep(interval)


def deep_merge(base, over):
    """Merge dict @over into a copy of @base. A value of None deletes the key."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def http_request(port, method, path, body=None, headers=None, timeout=None):
    """One request on a fresh connection. @body: bytes, str, or a JSON-able
    object. Returns (status, headers dict (lower-case names), raw bytes)."""
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body, ensure_ascii=False)
    if isinstance(body, str):
        body = body.encode()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout or HTTP_TIMEOUT_S)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, hdrs, data
    finally:
        conn.close()


def parse_json(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


# --------------------------------------------------------------------------
# Trigger bodies
# --------------------------------------------------------------------------

def unique_key(prefix="e2e"):
    return "%s-%s" % (prefix, uuid.uuid4().hex)


def trigger_body(milestone="material_inspection", occurred_at="2026-11-24T15:00:00+08:00",
                 key=None, **over):
    """A valid trigger body with a fresh idempotency key. Keyword arguments
    are deep-merged into it (None deletes a key)."""
    body = {
        "idempotency_key": key or unique_key(),
        "milestone": milestone,
        "occurred_at": occurred_at,
        "project": {
            "id": "P-2026-0042",
            "address": "上海市浦东新区锦绣路100弄3号1201室",
            "kickoff_date": "2026-10-08",
            "staff": {
                "pm": {"name": "张伟", "phone": "13900001111"},
                "designer": {"name": "李娜", "phone": "13900002222"},
                "foreman": {"name": "王强", "phone": "13900003333"},
                "supervisor": {"name": "赵敏", "phone": "13900004444"},
            },
        },
        "customer": {
            "id": "C-0042",
            "name": "陈",
            "title": "女士",
            "mobile": "13812345678",
        },
    }
    return deep_merge(body, over)


# --------------------------------------------------------------------------
# Processes
# --------------------------------------------------------------------------

def _wait_ready_file(path, proc, name, read_log):
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
            if not text.endswith("\n"):
                raise AssertionError("%s ready-file not written atomically: %r" % (name, text))
            return int(text)
        rc = proc.poll()
        if rc is not None:
            raise AssertionError("%s exited early with %d:\n%s" % (name, rc, read_log()))
        if time.monotonic() >= deadline:
            raise AssertionError("%s not ready after %.1f s:\n%s"
                                 % (name, READY_TIMEOUT_S, read_log()))
        time.sleep(0.01)


class Mock:
    """One running mock_provider (see tools/mock_provider.c)."""

    def __init__(self, *args, secret=WEBHOOK_SECRET, clock=None, config=None):
        """@clock: the daemon's HUIFANG_CLOCK_START, so provider signature
        timestamps are judged on the same clock; @config: provider settings
        (the mock's --config file)."""
        self.dir = tempfile.mkdtemp(prefix="hf_mock_")
        self.ready = os.path.join(self.dir, "ready")
        self.record = os.path.join(self.dir, "record.jsonl")
        self.log_path = os.path.join(self.dir, "mock.log")
        self.log_text = ""
        argv = [MOCK, "--port", "0", "--ready-file", self.ready, "--record", self.record]
        if secret:
            argv += ["--webhook-secret", secret]
        if config is not None:
            cfg_path = os.path.join(self.dir, "mock.json")
            with open(cfg_path, "w") as f:
                json.dump(config, f, ensure_ascii=False)
            argv += ["--config", cfg_path]
        env = dict(os.environ)
        env.pop("HUIFANG_CLOCK_START", None)
        if clock:
            env["HUIFANG_CLOCK_START"] = clock
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv + list(args), stdin=subprocess.DEVNULL, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        try:
            self.port = _wait_ready_file(self.ready, self.proc, "mock_provider", self.read_log)
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise
        self.url = "http://127.0.0.1:%d/webhook" % self.port
        self.base = "http://127.0.0.1:%d" % self.port

    def set_config(self, config):
        """Replace the provider settings (POST /_mock/config)."""
        status, body = self.request("POST", "/_mock/config", config)
        assert status == 200, body

    def read_log(self):
        if not self._log.closed:
            self._log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None):
        status, _, raw = http_request(self.port, method, path, body,
                                      {"Content-Type": "application/json"} if body is not None
                                      else {})
        return status, parse_json(raw)

    def requests(self, key=None):
        """The recorded (accepted) provider requests, optionally only those
        with Idempotency-Key @key."""
        status, body = self.request("GET", "/_mock/requests")
        assert status == 200, body
        if key is not None:
            body = [r for r in body if r.get("idempotency_key") == key]
        return body

    def stats(self):
        status, body = self.request("GET", "/_mock/stats")
        assert status == 200, body
        return body

    def faults(self, *specs):
        """Queue fault(s), e.g. faults({"status": 500, "count": 1})."""
        status, body = self.request("POST", "/_mock/faults",
                                    specs[0] if len(specs) == 1 else list(specs))
        assert status == 200, body
        return body

    def stop(self):
        """SIGTERM and wait; raises AssertionError unless the exit status is 0.
        Idempotent."""
        if self.proc is None:
            return 0
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = "timeout"
        self.proc = None
        self.log_text = self.read_log()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if rc != 0:
            raise AssertionError("mock_provider did not exit 0 on SIGTERM (rc=%r):\n%s"
                                 % (rc, self.log_text))
        return rc


class Daemon:
    """One huifangd with its own config, database and log in a temp dir.

    The process can be stopped and started again on the same database
    (restart()), with another test clock if wanted. @share_db: another
    Daemon on PostgreSQL whose database this one uses too (several
    instances of one deployment); that one drops it."""

    def __init__(self, mock=None, clock=TUESDAY_1505, overrides=None, env=None, start=True,
                 share_db=None):
        self.dir = tempfile.mkdtemp(prefix="huifangd_")
        self.db_path = os.path.join(self.dir, "huifang.db")
        self.pg_url = None
        self.owns_db = share_db is None
        if share_db is not None:
            assert share_db.pg_url, "sharing a database needs PostgreSQL (HUIFANG_TEST_PG=1)"
            self.pg_url = share_db.pg_url
        elif PG_URL:
            name = "hf_" + uuid.uuid4().hex[:16]
            psql(PG_URL, "CREATE DATABASE %s" % name)
            self.pg_url = _pg_url_db(PG_URL, name)
        self.ready = os.path.join(self.dir, "ready")
        self.config_path = os.path.join(self.dir, "huifang.json")
        self.log_path = os.path.join(self.dir, "huifangd.log")
        self.clock = clock
        self.proc = None
        self.port = None
        self.runs = 0
        self.log_text = ""
        self.env = dict(os.environ)
        self.env.update({"HUIFANG_SURVEY_SECRET": SURVEY_SECRET,
                         "HUIFANG_WEBHOOK_SECRET": WEBHOOK_SECRET})
        self.env.pop("HUIFANG_CONFIG", None)
        self.env.update(env or {})
        self.config = deep_merge(self.base_config(mock), overrides or {})
        self.write_config()
        if start:
            self.start()

    def base_config(self, mock):
        return {
            "listen": {"address": "127.0.0.1", "port": 0, "ready_file": self.ready,
                       "connection_timeout": "10s", "max_body": 65536},
            "public_url": PUBLIC_URL,
            "timezone": "Asia/Shanghai",
            "log_level": "info",
            # synchronous: the default, "full"
            "store": {"url": self.pg_url} if self.pg_url else {"path": self.db_path},
            "company": {"name": COMPANY_NAME, "phone": COMPANY_PHONE},
            "catalogue": CATALOGUE,
            "holidays": HOLIDAYS,
            "templates": TEMPLATES,
            "surveys": os.path.join(TEMPLATES, "surveys"),
            "api_tokens": [
                {"name": "erp", "roles": ["trigger"], "sha256": sha256_hex(TRIGGER_TOKEN)},
                {"name": "cs", "roles": ["cs"], "sha256": sha256_hex(CS_TOKEN)},
                {"name": "ops", "roles": ["admin"], "sha256": sha256_hex(ADMIN_TOKEN)},
            ],
            "survey": {"secret": {"env": "HUIFANG_SURVEY_SECRET"}, "validity": "7d"},
            "dispatch": {"max_in_flight": 16, "max_attempts": 5, "retry_base": "100ms",
                         "retry_max": "1s"},
            "outbound": {"connect_timeout": "1s", "request_timeout": "5s"},
            "channels": {"webhook": {
                "enabled": True,
                # Nothing listens on port 9: a daemon without a mock gets
                # "connection refused", never some other local service.
                "url": mock.url if mock else "http://127.0.0.1:9/webhook",
                "secret": {"env": "HUIFANG_WEBHOOK_SECRET"}}},
        }

    def write_config(self):
        with open(self.config_path, "w") as f:
            json.dump(self.config, f, ensure_ascii=False, indent=2)

    # ---- lifecycle ------------------------------------------------------

    def start(self, clock=None):
        assert self.proc is None, "already running"
        if clock is not None:
            self.clock = clock
        if os.path.exists(self.ready):
            os.unlink(self.ready)
        env = dict(self.env)
        if self.clock:
            env["HUIFANG_CLOCK_START"] = self.clock
        self.runs += 1
        with open(self.log_path, "ab") as f:
            f.write(("---- run %d (HUIFANG_CLOCK_START=%s) ----\n"
                     % (self.runs, self.clock)).encode())
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(VALGRIND + [HUIFANGD, "-c", self.config_path],
                                     stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env)
        try:
            self.port = _wait_ready_file(self.ready, self.proc, "huifangd", self.read_log)
        except BaseException:
            self._reap(kill=True)
            raise
        return self

    def _reap(self, kill=False):
        rc = self.proc.poll()
        if rc is None and kill:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        self._log.close()
        return rc

    def kill9(self):
        """SIGKILL: the process ends at an arbitrary instant, as in a crash."""
        assert self.proc is not None, "not running"
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        return self._reap()

    def terminate(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM and wait up to @timeout; returns the exit status (or
        'timeout' after killing it)."""
        assert self.proc is not None, "not running"
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._reap(kill=True)
            return "timeout"
        return self._reap()

    def stop(self):
        """Graceful stop; raises AssertionError unless huifangd exits 0 within
        15 s (x multiplier). A daemon that died by itself fails here too."""
        if self.proc is None:
            return 0
        rc = self.proc.poll()
        if rc is not None:
            self._reap()
            raise AssertionError("huifangd had exited by itself with %r:\n%s"
                                 % (rc, self.read_log()))
        rc = self.terminate()
        if rc != 0:
            raise AssertionError("huifangd did not exit 0 on SIGTERM (rc=%r):\n%s"
                                 % (rc, self.read_log()))
        return rc

    def restart(self, clock=None, kill=False):
        if self.proc is not None:
            if kill:
                self.kill9()
            else:
                self.stop()
        return self.start(clock)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        """For addCleanup: stop (asserting exit 0), keep the log text, remove
        the temp dir."""
        try:
            self.stop()
        finally:
            self.log_text = self.read_log()
            shutil.rmtree(self.dir, ignore_errors=True)
            if self.pg_url and self.owns_db:
                psql(PG_URL, "DROP DATABASE IF EXISTS %s WITH (FORCE)" % self.pg_url.rsplit("/", 1)[1])

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return self.log_text

    def wait_log(self, text, timeout=5.0):
        return wait_until(lambda: text in self.read_log(), timeout, what="log line %r" % text)

    # ---- HTTP -------------------------------------------------------------

    def raw(self, method, path, body=None, headers=None, timeout=None):
        """(status, headers, raw bytes)."""
        return http_request(self.port, method, path, body, headers, timeout)

    def request(self, method, path, body=None, token=None, headers=None):
        """(status, parsed JSON or text)."""
        h = {}
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        status, _, raw = self.raw(method, path, body, h)
        return status, parse_json(raw)

    def post_trigger(self, body, token=TRIGGER_TOKEN, headers=None):
        """POST /v1/triggers; returns (status, parsed JSON, raw bytes)."""
        h = {"Content-Type": "application/json"}
        if token:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        status, _, raw = self.raw("POST", "/v1/triggers", body, h)
        return status, parse_json(raw), raw

    def get(self, path, token=None):
        return self.request("GET", path, token=token)

    def metrics(self):
        status, hdrs, raw = self.raw("GET", "/metrics")
        assert status == 200, raw
        return raw.decode()

    def metric(self, line_prefix):
        """The value of the metrics line starting with @line_prefix + ' '."""
        for line in self.metrics().splitlines():
            if line.startswith(line_prefix + " "):
                return float(line[len(line_prefix) + 1:])
        return None

    # ---- the database ------------------------------------------------------

    def db(self):
        """A read-only connection to the daemon's SQLite file (rows as
        sqlite3.Row). Close it when done; rows()/scalar() do that for you."""
        if self.pg_url:
            return PgConn(self.pg_url)
        conn = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=5 * SLOW)
        conn.row_factory = sqlite3.Row
        return conn

    def rows(self, sql, *args):
        conn = self.db()
        try:
            return [dict(r) for r in conn.execute(sql, args).fetchall()]
        finally:
            conn.close()

    def scalar(self, sql, *args):
        conn = self.db()
        try:
            return conn.execute(sql, args).fetchone()[0]
        finally:
            conn.close()

    def counts(self):
        """Row counts of the tables a trigger writes."""
        return {t: self.scalar("SELECT COUNT(*) FROM %s" % t)
                for t in ("customers", "projects", "project_staff", "triggers", "messages",
                          "attempts")}

    def message(self, mid):
        r = self.rows("SELECT * FROM messages WHERE id = ?", mid)
        return r[0] if r else None

    def attempts(self, mid):
        return self.rows("SELECT * FROM attempts WHERE message_id = ? ORDER BY id", mid)

    def wait_state(self, mid, states, timeout=10.0):
        """Wait until message @mid is in one of @states (str or tuple);
        returns the row."""
        if isinstance(states, str):
            states = (states,)

        def done():
            m = self.message(mid)
            return m if m and m["state"] in states else None
        return wait_until(done, timeout, what="message %d in state %s (now %r)"
                          % (mid, "/".join(states), (self.message(mid) or {}).get("state")))


def run_huifangd(argv, env=None, timeout=20.0):
    """Run huifangd to completion (config checks); returns CompletedProcess
    with text stdout/stderr."""
    e = dict(os.environ)
    e.update({"HUIFANG_SURVEY_SECRET": SURVEY_SECRET, "HUIFANG_WEBHOOK_SECRET": WEBHOOK_SECRET})
    e.pop("HUIFANG_CONFIG", None)
    e.update(env or {})
    return subprocess.run(VALGRIND + [HUIFANGD] + list(argv), stdin=subprocess.DEVNULL,
                          capture_output=True,
                          text=True, errors="replace", env=e, timeout=timeout * SLOW)


# --------------------------------------------------------------------------
# The test case base
# --------------------------------------------------------------------------

class E2ETestCase(unittest.TestCase):
    """Starts processes with cleanups and prints their logs when a test
    fails."""

    def setUp(self):
        for b in (HUIFANGD, MOCK):
            if not os.access(b, os.X_OK):
                self.fail("%s not built (make %s)" % (b, os.path.relpath(b, REPO)))
        self._procs = []

    def start_mock(self, *args, **kw):
        m = Mock(*args, **kw)
        self._procs.append(("mock_provider", m))
        self.addCleanup(m.stop)
        return m

    def start_daemon(self, mock=None, start=True, **kw):
        d = Daemon(mock=mock, start=False, **kw)
        self._procs.append(("huifangd", d))
        self.addCleanup(d.cleanup)
        if start:
            d.start()
        return d

    def tempdir(self):
        d = tempfile.mkdtemp(prefix="hf_e2e_")
        self.addCleanup(shutil.rmtree, d, True)
        return d

    def run(self, result=None):
        # Cleanups have run (and saved the logs) when super().run returns.
        bad = (lambda r: len(r.failures) + len(r.errors)) if result else (lambda r: 0)
        before = bad(result)
        out = super().run(result)
        if result is not None and bad(result) > before:
            for name, p in getattr(self, "_procs", []):
                sys.stderr.write("\n---- %s log (%s) ----\n%s" % (name, self.id(),
                                                                  p.log_text or p.read_log()))
        return out

    # ---- shared assertions -------------------------------------------------

    def assertError(self, status, body, want_status, code, field=None):
        """An API error answer: exact status, code and field."""
        self.assertEqual(status, want_status, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(set(body), {"error"}, body)
        err = body["error"]
        self.assertEqual(err.get("code"), code, body)
        self.assertEqual(err.get("field"), field, body)
        self.assertIsInstance(err.get("message"), str, body)
        self.assertTrue(err["message"], body)
