"""The survey page in a real browser: Debian's headless Chromium, driven by
playwright-core (tests/browser/survey.mjs), at a phone viewport with a
WeChat user agent and JavaScript disabled. A completion survey goes out
through the mock webhook; the customer opens the link the mock received,
answers 4 out of 10 with a comment, submits; the store then holds the
answered survey, the page answer and an open complaint ticket. A tampered
link gets the friendly page.

Needs node, tests/browser/node_modules (`npm ci` in tests/browser; the test
runner does it) and /usr/bin/chromium (tools/deps.sh). Without them the test
is skipped on a developer machine and FAILS in CI (CI=true).

Screenshots: build/artifacts/survey-{before,after,invalid}.png (printed).
"""

import json
import os
import shutil
import subprocess
import sys
import unittest

from harness import (COMPANY_NAME, CS_TOKEN, PUBLIC_URL, REPO, SLOW, TUESDAY_1505, E2ETestCase,
                     trigger_body, wait_until)

BROWSER_DIR = os.path.join(REPO, "tests", "browser")
SCRIPT = os.path.join(BROWSER_DIR, "survey.mjs")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.path.join(REPO, "build", "artifacts")
SURVEY_DEF = os.path.join(REPO, "templates", "surveys", "completion.json")
COMMENT = "工长很负责，水电做得很规范；就是收尾保洁慢了两天。"
BROWSER_TIMEOUT_S = 60 * SLOW


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing_browser():
    """Why the browser test cannot run here, or None."""
    node = shutil.which("node")
    if not node:
        return "node not found (Debian packages nodejs and npm; tools/deps.sh)"
    try:
        v = subprocess.run([node, "--version"], capture_output=True, text=True,
                           timeout=10).stdout.strip()
        major = int(v.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return "node --version does not answer"
    if major < 20:
        return "node %s is too old for playwright-core (needs 20 or newer)" % v
    if not os.access(CHROMIUM, os.X_OK):
        return "%s not found (Debian package chromium; tools/deps.sh)" % CHROMIUM
    if not os.path.isfile(os.path.join(BROWSER_DIR, "node_modules", "playwright-core",
                                       "package.json")):
        return "playwright-core not installed (run: npm ci --prefix tests/browser)"
    return None


class BrowserSurveyTest(E2ETestCase):

    def setUp(self):
        why = missing_browser()
        if why:
            if in_ci():
                self.fail("browser test cannot run in CI: " + why)
            self.skipTest(why)
        super().setUp()
        self.mock = self.start_mock()
        self.d = self.start_daemon(self.mock, clock=TUESDAY_1505)

    def run_browser(self, *args):
        cmd = ["node", SCRIPT, "--out", ARTIFACTS, "--company", COMPANY_NAME] + list(args)
        try:
            p = subprocess.run(cmd, cwd=BROWSER_DIR, stdin=subprocess.DEVNULL, capture_output=True,
                               text=True, errors="replace", timeout=BROWSER_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            said = [x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
                    for x in (e.stdout, e.stderr)]
            self.fail("survey.mjs still running after %d s:\n%s%s"
                      % (BROWSER_TIMEOUT_S, said[0], said[1]))
        self.assertEqual(p.returncode, 0, "survey.mjs exit %d:\n%s%s"
                         % (p.returncode, p.stdout, p.stderr))
        lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
        self.assertTrue(lines, "survey.mjs printed no summary:\n%s%s" % (p.stdout, p.stderr))
        return json.loads(lines[-1])

    def test_completion_survey_answered_on_a_phone_without_javascript(self):
        status, resp, _ = self.d.post_trigger(trigger_body("completion"))
        self.assertEqual(status, 202, resp)
        sid = {m["message"]: m["id"] for m in resp["messages"]}["survey"]

        # The link the customer got, as the provider (the mock) received it.
        recs = wait_until(lambda: self.mock.requests(key="hf-%d" % sid), 5,
                          what="the survey message at the mock")
        link = recs[0]["body"]["survey_link"]
        prefix = PUBLIC_URL + "/s/"
        self.assertTrue(link.startswith(prefix), link)
        token = link[len(prefix):]
        url = "http://127.0.0.1:%d/s/%s" % (self.d.port, token)
        # Another survey's id under this link's signature: a customer
        # guessing at other links.
        tid, rest = token.split(".", 1)
        tampered = "http://127.0.0.1:%d/s/%d.%s" % (self.d.port, int(tid) + 1, rest)

        out = self.run_browser("--url", url, "--tampered", tampered, "--score", "4",
                               "--comment", COMMENT)
        # tests/run_tests.sh shows these lines with the test's result.
        for name in ("before", "after", "invalid"):
            f = out.get("screenshots", {}).get(name)
            if f:
                sys.stderr.write("\n     artifact: %s " % os.path.relpath(f, REPO))
        sys.stderr.flush()

        # What the browser saw and did.
        with open(SURVEY_DEF, encoding="utf-8") as f:
            sdef = json.load(f)
        self.assertTrue(out["ok"], out)
        self.assertEqual(out["company"], COMPANY_NAME)
        self.assertEqual(out["title"], sdef["title"])
        self.assertEqual(out["questions"], [q["text"] for q in sdef["questions"]])
        self.assertEqual(out["external_requests"], 0, out["requests"])
        self.assertFalse(out["javascript"])
        want = {"score": "4", "suggestion": COMMENT}
        for q in sdef["questions"]:
            if q["type"] == "yesno":
                want[q["id"]] = "yes"
            elif q["type"] == "choice":
                want[q["id"]] = q["options"][0]
        self.assertEqual(out["answered"], want)
        self.assertEqual(out["tampered"]["title"], "链接无法打开")
        for name in ("before", "after", "invalid"):
            f = os.path.join(ARTIFACTS, "survey-%s.png" % name)
            self.assertGreater(os.path.getsize(f), 10000, f)
        # Exactly: the page, the form post, the tampered page.
        self.assertEqual(out["requests"], ["GET " + url, "POST " + url, "GET " + tampered])

        # The store: the survey is answered with 4, one page answer with the
        # comment, and a complaint ticket is open for it.
        sv = self.d.rows("SELECT * FROM surveys WHERE message_id = ?", sid)
        self.assertEqual(len(sv), 1, sv)
        sv = sv[0]
        self.assertEqual((sv["survey"], sv["state"], sv["score"]), ("completion", "answered", 4))
        self.assertIsNotNone(sv["answered_at"])
        self.assertEqual(json.loads(sv["answers"]), want)

        ans = self.d.rows("SELECT * FROM answers WHERE message_id = ?", sid)
        self.assertEqual(len(ans), 1, ans)
        a = ans[0]
        self.assertEqual((a["channel"], a["score"], a["amendment"], a["customer_id"]),
                         ("page", 4, 0, "C-0042"))
        self.assertEqual(json.loads(a["parsed"]), want)
        self.assertIn("score=4", a["raw"])  # the form body as posted

        tickets = self.d.rows("SELECT * FROM tickets WHERE survey_id = ?", sid)
        self.assertEqual(len(tickets), 1, tickets)
        t = tickets[0]
        self.assertEqual((t["state"], t["customer_id"], t["project_id"]),
                         ("open", "C-0042", "P-2026-0042"))
        self.assertEqual((t["reason"], t["detail"]), ("survey", "竣工回访评分4分"))
        self.assertEqual(t["report_due_at"] - t["opened_at"], 2 * 3600)
        self.assertEqual(t["answer_due_at"] - t["opened_at"], 48 * 3600)

        # The tampered link stored nothing, and the survey its id pointed at
        # (message sid + 1: tomorrow's rating confirmation for the same
        # customer) is untouched.
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM answers"), 1)
        self.assertEqual(self.d.rows("SELECT state, answers FROM surveys WHERE message_id = ?",
                                     sid + 1), [{"state": "open", "answers": None}])

        # What customer service reads through the API.
        s, res = self.d.get("/v1/results?customer=C-0042&state=answered", CS_TOKEN)
        self.assertEqual(s, 200, res)
        self.assertEqual([(r["id"], r["score"], r["answers"], [h["channel"] for h in r["history"]])
                          for r in res["items"]], [(sid, 4, want, ["page"])])
        s, tl = self.d.get("/v1/tickets?state=open", CS_TOKEN)
        self.assertEqual(s, 200, tl)
        self.assertEqual([(x["id"], x["survey_id"], x["detail"]) for x in tl["items"]],
                         [(t["id"], sid, "竣工回访评分4分")])


if __name__ == "__main__":
    unittest.main()
