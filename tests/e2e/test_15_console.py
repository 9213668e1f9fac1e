"""The web console (/console) and the project manager's page (/pm).

At the HTTP level: sign-in with a token (form POST) gives an HttpOnly,
SameSite=Strict session cookie and never the token; without a session the
pages redirect to the sign-in and the API answers 401; a cookie-authenticated
POST needs the session's CSRF token (403 without it, and nothing changes);
a cross-site sign-in form is refused; sign-out ends the session; an expired
session is refused; roles still apply through the cookie. The PM page lists
only the PM's own projects with masked mobile numbers, previews a
milestone's plan without storing anything, and triggers it through
POST /v1/triggers' own path: same validation, same idempotency.

In headless Chromium (tests/browser/console.mjs): sign in, filter results,
download the CSV, report and resolve a ticket, the project timeline, the
reports' charts, sign out; the PM triggers a milestone at a phone viewport.
Screenshots: build/test-artifacts/console/*.png.
"""

import json
import os
import re
import subprocess
import sys
import time
import unittest
import urllib.parse

from harness import (CS_TOKEN, REPO, SLOW, TRIGGER_TOKEN, TUESDAY_1505, E2ETestCase, epoch,
                     sha256_hex, trigger_body, unique_key)
from test_06_channels import survey_token
from test_09_browser import BROWSER_DIR, in_ci, missing_browser

PM_TOKEN = "e2e-pm-token-0123456789abcdef"
OTHER_PM_TOKEN = "e2e-pm2-token-0123456789abcdef"
PM_PHONE = "13900001111"           # trigger_body()'s project.staff.pm.phone
ARTIFACTS = os.path.join(REPO, "build", "test-artifacts", "console")
BROWSER_TIMEOUT_S = 120 * SLOW


def tokens(ttl=None):
    over = {"api_tokens": [
        {"name": "erp", "roles": ["trigger"], "sha256": sha256_hex(TRIGGER_TOKEN)},
        {"name": "cs", "roles": ["cs"], "sha256": sha256_hex(CS_TOKEN)},
        {"name": "pm-zhang", "roles": ["trigger"], "staff_id": PM_PHONE,
         "sha256": sha256_hex(PM_TOKEN)},
        {"name": "pm-other", "roles": ["trigger"], "staff_id": "other-pm",
         "sha256": sha256_hex(OTHER_PM_TOKEN)},
    ]}
    if ttl:
        over["console"] = {"session_ttl": ttl}
    return over


def cookie_of(hdrs):
    m = re.match(r"hf_session=([^;]*)", hdrs.get("set-cookie", ""))
    return m.group(1) if m else None


class ConsoleCase(E2ETestCase):
    ttl = None

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock()
        self.d = self.start_daemon(self.mock, clock=TUESDAY_1505, overrides=tokens(self.ttl))

    # ---- helpers ------------------------------------------------------------

    def form(self, path, fields, cookie=None, headers=None):
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        if cookie:
            h["Cookie"] = "hf_session=" + cookie
        h.update(headers or {})
        return self.d.raw("POST", path, urllib.parse.urlencode(fields), h)

    def sign_in(self, app="console", token=CS_TOKEN):
        status, hdrs, raw = self.form("/%s/login" % app, {"token": token})
        self.assertEqual(status, 303, raw)
        sid = cookie_of(hdrs)
        self.assertTrue(sid, hdrs)
        status, _, page = self.cookie_get("/%s/" % app, sid)
        self.assertEqual(status, 200, page)
        csrf = re.search(rb'name="hf-csrf" content="([^"]+)"', page).group(1).decode()
        return sid, csrf

    def cookie_get(self, path, sid):
        return self.d.raw("GET", path, headers={"Cookie": "hf_session=" + sid})

    def cookie_json(self, method, path, sid, body=None, csrf=None):
        h = {"Cookie": "hf_session=" + sid}
        if csrf is not None:
            h["X-CSRF-Token"] = csrf
        if body is not None:
            h["Content-Type"] = "application/json"
        status, _, raw = self.d.raw(method, path, body, h)
        return status, json.loads(raw) if raw else None

    def answered_completion(self, score, project="P-2026-0042", customer="C-0042"):
        """A completion trigger whose survey the customer answered on the
        page with @score; returns the survey id."""
        body = trigger_body("completion", project={"id": project},
                            customer={"id": customer})
        status, resp, _ = self.d.post_trigger(body)
        self.assertEqual(status, 202, resp)
        sid = {m["message"]: m["id"] for m in resp["messages"]}["survey"]
        tok = survey_token(sid, self.d.message(sid)["expires_at"])
        fields = {"score": str(score), "materials_ok": "yes", "team_ok": "yes",
                  "response": "很及时", "wechat_report": "很方便", "suggestion": "收尾慢了两天"}
        status, _, raw = self.d.raw("POST", "/s/" + tok, urllib.parse.urlencode(fields),
                                    {"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, raw[:300])
        return sid


class ConsoleSessionTest(ConsoleCase):

    def test_without_a_session_pages_redirect_and_the_api_answers_401(self):
        for path in ("/console", "/console/"):
            status, hdrs, _ = self.d.raw("GET", path)
            self.assertEqual(status, 303, path)
            self.assertEqual(hdrs["location"], "/console/" if path == "/console" else
                             "/console/login")
        status, hdrs, _ = self.d.raw("GET", "/pm/")
        self.assertEqual((status, hdrs["location"]), (303, "/pm/login"))
        status, body = self.d.get("/v1/results")
        self.assertError(status, body, 401, "unauthorized", "Authorization")
        # A made-up session id is no session.
        status, body = self.cookie_json("GET", "/v1/results", "A" * 43)
        self.assertError(status, body, 401, "unauthorized", "Cookie")
        status, hdrs, _ = self.cookie_get("/console/", "A" * 43)
        self.assertEqual((status, hdrs["location"]), (303, "/console/login"))

    def test_sign_in_sets_a_strict_http_only_cookie_that_is_not_the_token(self):
        status, hdrs, page = self.form("/console/login", {"token": "wrong-token"})
        self.assertEqual(status, 401)
        self.assertNotIn("set-cookie", hdrs)
        self.assertIn("令牌无效".encode(), page)
        # A valid token without the cs role: not for the console.
        status, hdrs, page = self.form("/console/login", {"token": TRIGGER_TOKEN})
        self.assertEqual(status, 403)
        self.assertNotIn("set-cookie", hdrs)
        self.assertIn("客服权限".encode(), page)

        status, hdrs, _ = self.form("/console/login", {"token": CS_TOKEN})
        self.assertEqual((status, hdrs["location"]), (303, "/console/"))
        attrs = [a.strip() for a in hdrs["set-cookie"].split(";")]
        sid = cookie_of(hdrs)
        self.assertRegex(sid, r"^[A-Za-z0-9_-]{43}$")
        self.assertNotIn(CS_TOKEN, hdrs["set-cookie"])
        self.assertIn("HttpOnly", attrs)
        self.assertIn("SameSite=Strict", attrs)
        self.assertIn("Path=/", attrs)
        self.assertIn("Max-Age=28800", attrs)  # console.session_ttl, 8 h by default
        self.assertIn("Secure", attrs)  # public_url is https: never sent in clear
        # Two sign-ins are two sessions.
        _, hdrs2, _ = self.form("/console/login", {"token": CS_TOKEN})
        sid2 = cookie_of(hdrs2)
        self.assertNotEqual(sid2, sid)
        self.assertEqual(self.cookie_json("GET", "/v1/tickets", sid)[0], 200)
        # Signing in again from a browser that has a session: a new id (never
        # the one it brought), and the old session ends.
        _, hdrs3, _ = self.form("/console/login", {"token": CS_TOKEN}, cookie=sid2)
        self.assertNotIn(cookie_of(hdrs3), (sid, sid2))
        self.assertEqual(self.cookie_json("GET", "/v1/tickets", sid2)[0], 401)
        self.assertEqual(self.cookie_json("GET", "/v1/tickets", cookie_of(hdrs3))[0], 200)
        # The shell: a strict CSP, the app from this origin only.
        status, hdrs, page = self.cookie_get("/console/", sid)
        self.assertEqual(status, 200)
        csp = hdrs["content-security-policy"]
        self.assertIn("default-src 'none'", csp)
        self.assertIn("script-src 'self'", csp)
        self.assertNotIn("unsafe-inline", csp)
        self.assertIn(b'<script src="/console/console.js"></script>', page)
        self.assertNotIn(b"http://", page.replace(b'http://www.w3.org', b''))
        self.assertNotIn(b"https://", page)
        status, hdrs, js = self.d.raw("GET", "/console/console.js")
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/javascript"))
        self.assertNotRegex(js, rb"https?://(?!www\.w3\.org/2000/svg)")  # nothing from the internet
        # The token never reaches the log.
        self.assertNotIn(CS_TOKEN, self.d.read_log())

    def test_cookie_posts_need_the_csrf_token_and_roles_still_apply(self):
        sid_t = self.answered_completion(3)
        ticket = self.d.rows("SELECT id, state FROM tickets WHERE survey_id = ?", sid_t)[0]
        sid, csrf = self.sign_in()
        status, body = self.cookie_json("GET", "/v1/tickets", sid)
        self.assertEqual(status, 200, body)
        path = "/v1/tickets/%d/report" % ticket["id"]
        status, body = self.cookie_json("POST", path, sid, {"note": "已联系工长"})
        self.assertError(status, body, 403, "csrf_failed", "X-CSRF-Token")
        status, body = self.cookie_json("POST", path, sid, {"note": "已联系工长"},
                                        csrf="x" * 43)
        self.assertError(status, body, 403, "csrf_failed", "X-CSRF-Token")
        # Another session's CSRF token is not this session's.
        _, other_csrf = self.sign_in()
        status, body = self.cookie_json("POST", path, sid, {"note": "已联系工长"},
                                        csrf=other_csrf)
        self.assertError(status, body, 403, "csrf_failed", "X-CSRF-Token")
        self.assertEqual(self.d.rows("SELECT state, report_note FROM tickets WHERE id = ?",
                                     ticket["id"]), [{"state": "open", "report_note": None}])
        status, body = self.cookie_json("POST", path, sid, {"note": "已联系工长"}, csrf=csrf)
        self.assertEqual(status, 200, body)
        self.assertEqual(self.d.rows("SELECT state, report_note FROM tickets WHERE id = ?",
                                     ticket["id"]), [{"state": "reported",
                                                      "report_note": "已联系工长"}])
        # A cs session cannot trigger, even with the right CSRF token.
        n = self.d.scalar("SELECT COUNT(*) FROM triggers")
        status, body = self.cookie_json("POST", "/v1/triggers", sid, trigger_body(), csrf=csrf)
        self.assertError(status, body, 403, "forbidden", "Cookie")
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM triggers"), n)
        # A Bearer token still works beside the cookie machinery.
        status, _ = self.d.get("/v1/results", CS_TOKEN)
        self.assertEqual(status, 200)

    def test_a_sign_in_form_posted_from_another_site_is_refused(self):
        status, hdrs, _ = self.form("/console/login", {"token": CS_TOKEN},
                                    headers={"Origin": "http://evil.example"})
        self.assertEqual(status, 403)
        self.assertNotIn("set-cookie", hdrs)
        status, hdrs, _ = self.form("/console/login", {"token": CS_TOKEN},
                                    headers={"Origin": "http://127.0.0.1:%d" % self.d.port})
        self.assertEqual(status, 303)

    def test_sign_out_ends_the_session(self):
        sid, csrf = self.sign_in()
        status, _, _ = self.form("/console/logout", {"csrf": "wrong"}, cookie=sid)
        self.assertEqual(status, 403)
        self.assertEqual(self.cookie_json("GET", "/v1/tickets", sid)[0], 200)
        status, hdrs, _ = self.form("/console/logout", {"csrf": csrf}, cookie=sid)
        self.assertEqual((status, hdrs["location"]), (303, "/console/login"))
        self.assertIn("Max-Age=0", hdrs["set-cookie"])
        self.assertEqual(cookie_of(hdrs), "")
        status, body = self.cookie_json("GET", "/v1/tickets", sid)
        self.assertError(status, body, 401, "unauthorized", "Cookie")
        status, hdrs, _ = self.cookie_get("/console/", sid)
        self.assertEqual((status, hdrs["location"]), (303, "/console/login"))


class ConsoleExpiryTest(ConsoleCase):
    ttl = "2s"

    def test_an_unused_session_expires_and_use_keeps_it_alive(self):
        sid, _ = self.sign_in()
        status, hdrs, _ = self.form("/console/login", {"token": CS_TOKEN})
        self.assertIn("Max-Age=2", hdrs["set-cookie"])
        idle = cookie_of(hdrs)
        # Used every 0.8 s for 2.4 s: still alive (the expiry slides).
        for _ in range(3):
            time.sleep(0.8)
            self.assertEqual(self.cookie_json("GET", "/v1/tickets", sid)[0], 200)
        # Not used for those 2.4 s: gone.
        status, body = self.cookie_json("GET", "/v1/tickets", idle)
        self.assertError(status, body, 401, "unauthorized", "Cookie")
        status, hdrs, _ = self.cookie_get("/console/", idle)
        self.assertEqual((status, hdrs["location"]), (303, "/console/login"))


class ConsoleSignInLimitTest(ConsoleCase):

    def setUp(self):
        super(ConsoleCase, self).setUp()
        self.mock = self.start_mock()
        over = tokens()
        over["listen"] = {"public_rate": 1, "public_burst": 3}
        self.d = self.start_daemon(self.mock, clock=TUESDAY_1505, overrides=over)

    def test_guessing_tokens_at_the_sign_in_form_is_rate_limited(self):
        statuses = [self.form("/console/login", {"token": "guess-%d" % i})[0] for i in range(6)]
        self.assertEqual(statuses[:3], [401, 401, 401])
        self.assertIn(429, statuses[3:])
        # Signed-in use of the API is not the public form's budget.
        status, _ = self.d.get("/v1/results", CS_TOKEN)
        self.assertEqual(status, 200)


class PmPageTest(ConsoleCase):

    def setUp(self):
        super().setUp()
        status, resp, _ = self.d.post_trigger(trigger_body("material_inspection"))
        self.assertEqual(status, 202, resp)
        other = trigger_body("material_inspection", project={
            "id": "P-2026-0099", "staff": {"pm": {"name": "钱经理", "phone": "13900009999"}}},
            customer={"id": "C-0099", "mobile": "13899990000"})
        status, resp, _ = self.d.post_trigger(other)
        self.assertEqual(status, 202, resp)

    def test_pm_signs_in_at_pm_only_with_a_pm_token(self):
        status, _, _ = self.form("/console/login", {"token": PM_TOKEN})
        self.assertEqual(status, 403)
        status, _, page = self.form("/pm/login", {"token": CS_TOKEN})
        self.assertEqual(status, 403)
        self.assertIn("项目经理令牌".encode(), page)
        # An ERP token names no staff member: no PM page.
        status, _, _ = self.form("/pm/login", {"token": TRIGGER_TOKEN})
        self.assertEqual(status, 403)
        sid, _ = self.sign_in("pm", PM_TOKEN)
        status, body = self.cookie_json("GET", "/v1/results", sid)
        self.assertError(status, body, 403, "forbidden", "Cookie")

    def test_pm_sees_own_projects_with_masked_mobiles(self):
        # A PM known by a WeCom id has that as staff id (as in the reports):
        # a token naming the phone is not theirs.
        wecom = trigger_body("material_inspection", project={
            "id": "P-2026-0077", "staff": {"pm": {"name": "张伟", "phone": PM_PHONE,
                                                  "wecom_id": "zhangwei"}}},
            customer={"id": "C-0077"})
        status, resp, _ = self.d.post_trigger(wecom)
        self.assertEqual(status, 202, resp)
        sid, _ = self.sign_in("pm", PM_TOKEN)
        status, hdrs, raw = self.d.raw("GET", "/v1/pm/projects",
                                       headers={"Cookie": "hf_session=" + sid})
        self.assertEqual(status, 200, raw)
        body = json.loads(raw)
        self.assertEqual([p["id"] for p in body["items"]], ["P-2026-0042"])
        p = body["items"][0]
        self.assertEqual((p["customer_name"], p["customer_mobile"], p["milestones"]),
                         ("陈", "138****5678", ["material_inspection"]))
        self.assertNotIn(b"13812345678", raw)
        self.assertIsNone(body["next_cursor"])
        names = {m["id"]: m["name"] for m in body["milestones"]}
        self.assertEqual(names.get("hidden_works_acceptance"), "隐蔽工程(水电)验收")
        self.assertEqual(names.get("completion"), "竣工验收")
        # What a PM reports from the site; not complaints or repairs (from
        # customers), campaigns, cancellations and refunds (the ERP's, with a
        # reason), or the visits the kickoff and completion schedule themselves.
        for m in ("material_inspection", "hidden_works_acceptance", "completion", "kickoff"):
            self.assertIn(m, names)
        for m in ("complaint", "repair_request", "campaign", "project_cancelled",
                  "refund_request", "construction_day7", "construction_day15", "weekly_checkin",
                  "warranty_followup"):
            self.assertNotIn(m, names)
        # Another PM sees only theirs (none here).
        status, body = self.d.get("/v1/pm/projects", OTHER_PM_TOKEN)
        self.assertEqual((status, body["items"]), (200, []))
        # The ERP token has no staff member.
        status, body = self.d.get("/v1/pm/projects", TRIGGER_TOKEN)
        self.assertError(status, body, 403, "forbidden", "Authorization")

    def stored(self):
        """What a trigger writes (send attempts of the setup's messages go
        on in the background and are left out)."""
        c = self.d.counts()
        c.pop("attempts")
        return c

    def assertDueNow(self, messages):
        start = epoch(TUESDAY_1505)
        for m in messages:
            due = epoch(m["due_at"])
            self.assertTrue(start <= due <= start + 30 * SLOW, m)

    def test_preview_stores_nothing_and_the_trigger_is_the_apis(self):
        sid, csrf = self.sign_in("pm", PM_TOKEN)
        before = self.stored()
        req = {"idempotency_key": unique_key("pm"), "milestone": "hidden_works_acceptance",
               "occurred_at": "2026-11-24T15:04:00+08:00"}
        base = "/v1/pm/projects/P-2026-0042/"
        status, prev = self.cookie_json("POST", base + "preview", sid, req, csrf=csrf)
        self.assertEqual(status, 200, prev)
        # Both due now: the daemon's clock started at 15:05:00 and has run on
        # since (seconds under valgrind), so "now" is read off the clock.
        self.assertEqual([(m["message"], m["kind"], m["to"]) for m in prev["messages"]],
                         [("notice", "notice", "customer"), ("survey", "survey", "customer")])
        self.assertDueNow(prev["messages"])
        self.assertEqual(self.stored(), before)
        # Without the CSRF token: refused, nothing stored.
        status, body = self.cookie_json("POST", base + "triggers", sid, req)
        self.assertError(status, body, 403, "csrf_failed", "X-CSRF-Token")
        self.assertEqual(self.stored(), before)
        status, first = self.cookie_json("POST", base + "triggers", sid, req, csrf=csrf)
        self.assertEqual(status, 202, first)
        # What the preview showed is what was planned (due now, a moment later).
        self.assertEqual([m["message"] for m in first["messages"]],
                         [m["message"] for m in prev["messages"]])
        self.assertDueNow(first["messages"])
        row = self.d.rows("SELECT milestone, project_id, customer_id, token_name, body FROM "
                          "triggers WHERE id = ?", first["trigger_id"])[0]
        self.assertEqual((row["milestone"], row["project_id"], row["customer_id"],
                          row["token_name"]),
                         ("hidden_works_acceptance", "P-2026-0042", "C-0042", "pm-zhang"))
        stored = json.loads(row["body"])
        self.assertEqual(stored["customer"]["mobile"], "13812345678")  # the ERP's data
        self.assertEqual(stored["idempotency_key"], req["idempotency_key"])
        # The same confirmation again (a retry, a double tap): the first answer.
        status, again = self.cookie_json("POST", base + "triggers", sid, req, csrf=csrf)
        self.assertEqual((status, again), (200, first))
        # The same key for something else: the API's conflict.
        status, body = self.cookie_json("POST", base + "triggers", sid,
                                        dict(req, milestone="completion"), csrf=csrf)
        self.assertError(status, body, 409, "idempotency_conflict", "idempotency_key")
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM triggers"), before["triggers"] + 1)
        # The API's validation: a missing key, an unknown milestone, an unknown field.
        status, body = self.cookie_json("POST", base + "preview", sid,
                                        {"milestone": "completion",
                                         "occurred_at": req["occurred_at"]}, csrf=csrf)
        self.assertError(status, body, 400, "missing_field", "idempotency_key")
        status, body = self.cookie_json("POST", base + "triggers", sid,
                                        dict(req, idempotency_key=unique_key(),
                                             milestone="tea_break"), csrf=csrf)
        self.assertError(status, body, 400, "unknown_milestone", "milestone")
        status, body = self.cookie_json("POST", base + "triggers", sid,
                                        dict(req, project={"id": "P-2026-0099"}), csrf=csrf)
        self.assertError(status, body, 400, "unknown_field", "project")
        # Another PM's project does not exist for this PM.
        status, body = self.cookie_json("POST", "/v1/pm/projects/P-2026-0099/triggers", sid,
                                        dict(req, idempotency_key=unique_key()), csrf=csrf)
        self.assertError(status, body, 404, "not_found", "project")
        self.assertEqual(self.d.scalar("SELECT COUNT(*) FROM triggers"), before["triggers"] + 1)


class ConsoleBrowserTest(ConsoleCase):

    def setUp(self):
        why = missing_browser()
        if why:
            if in_ci():
                self.fail("browser test cannot run in CI: " + why)
            self.skipTest(why)
        super().setUp()

    def test_console_and_pm_page_in_chromium(self):
        low = self.answered_completion(4)
        self.answered_completion(9, project="P-2026-0043", customer="C-0043")
        status, resp, _ = self.d.post_trigger(trigger_body("material_inspection"))
        self.assertEqual(status, 202, resp)
        # A refund on another PM's project: its staff tasks (seed 002).
        refund = trigger_body("refund_request", project={
            "id": "P-2026-0050", "staff": {"pm": {"name": "钱经理", "phone": "13900005555"}}},
            customer={"id": "C-0050", "mobile": "13800005050"},
            variables={"reason": "家中变故，无法继续装修", "kind": "退单"})
        status, resp, _ = self.d.post_trigger(refund)
        self.assertEqual(status, 202, resp)
        tasks = {t["task"]: t["id"] for t in resp["tasks"]}
        open_tasks = [r["id"] for r in self.d.rows(
            "SELECT id FROM tasks WHERE started_at IS NOT NULL AND done_at IS NULL ORDER BY due_at, id")]
        ticket = self.d.rows("SELECT id FROM tickets WHERE survey_id = ?", low)[0]["id"]
        cmd = ["node", os.path.join(BROWSER_DIR, "console.mjs"),
               "--base", "http://127.0.0.1:%d" % self.d.port, "--cs-token", CS_TOKEN,
               "--pm-token", PM_TOKEN, "--ticket", str(ticket), "--project", "P-2026-0042",
               "--task", str(tasks["contact"]),
               "--out", ARTIFACTS]
        try:
            p = subprocess.run(cmd, cwd=BROWSER_DIR, stdin=subprocess.DEVNULL,
                               capture_output=True, text=True, errors="replace",
                               timeout=BROWSER_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            self.fail("console.mjs still running after %d s: %s %s"
                      % (BROWSER_TIMEOUT_S, e.stdout, e.stderr))
        self.assertEqual(p.returncode, 0, "console.mjs exit %d:\n%s%s"
                         % (p.returncode, p.stdout, p.stderr))
        out = json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("{")][-1])
        with open(os.path.join(ARTIFACTS, "summary.json"), "w") as f:
            json.dump(out, f, ensure_ascii=False, indent=1)
        for f in out["screenshots"]:
            sys.stderr.write("\n     artifact: %s "
                             % os.path.relpath(os.path.join(ARTIFACTS, f), REPO))
        sys.stderr.flush()

        # Nothing from the internet; no script error and no CSP violation
        # (the refused sign-in's own 401 is expected).
        self.assertEqual(out["external_requests"], [])
        errors = [e for e in out["console_errors"]
                  if not ("status of 401" in e and "/console/login" in e)]
        self.assertEqual(errors, [])

        # Sign-in.
        self.assertEqual(out["wrong_token"]["status"], 401)
        self.assertEqual(out["wrong_token"]["error"], "令牌无效，请检查后重新输入。")
        self.assertEqual(out["cookie"], {"httpOnly": True, "sameSite": "Strict", "path": "/",
                                         "visible_to_script": False})
        # The worklist leads with the open ticket.
        self.assertEqual(out["worklist"]["tickets"][0], "#%d" % ticket)
        self.assertEqual(out["worklist"]["open"], 1)
        # The open staff tasks, soonest due first; the one marked done is
        # gone from the list and done in the store, with its note and who.
        self.assertEqual(out["tasks"], [str(i) for i in open_tasks])
        self.assertEqual(out["tasks_after"], [str(i) for i in open_tasks if i != tasks["contact"]])
        self.assertEqual(self.d.rows("SELECT done_by, note FROM tasks WHERE id = ?",
                                     tasks["contact"]),
                         [{"done_by": "cs", "note": "已电话联系客户，原因已记录。"}])
        # Filters: by milestone, then by score.
        self.assertGreater(out["results"]["all"], 2)
        # What the API lists for the milestone (surveys once asked), all of it.
        status, api = self.d.get("/v1/results?milestone=completion", CS_TOKEN)
        self.assertEqual(status, 200, api)
        n = len(api["items"])
        self.assertGreaterEqual(n, 2)
        self.assertEqual(out["results"]["by_milestone"], ["竣工验收"] * n)
        self.assertLess(n, out["results"]["all"])
        self.assertEqual(out["results"]["score_max_6"], [4])
        # The CSV of what was on screen (score at most 6): opens in Excel and
        # WPS as UTF-8 (BOM), Chinese headers, CRLF, the one row.
        csv = out["csv"]
        self.assertEqual(csv["bom"], "efbbbf")
        lines = csv["text"].split("\r\n")
        self.assertEqual(lines[-1], "")
        self.assertTrue(lines[0].startswith("编号,回访节点,"), lines[0])
        self.assertEqual(len(lines), 3, lines)
        row = lines[1].split(",")
        self.assertEqual((row[0], row[1], row[3]), (str(low), "竣工验收", "P-2026-0042"))
        self.assertIn("4", row)
        self.assertEqual(out["results"]["csv_href"], "/v1/results?format=csv&score_max=6")
        # The ticket: reported, then resolved, in the store too.
        self.assertEqual((out["ticket"]["before"], out["ticket"]["after"]), ("待处理", "已解决"))
        t = self.d.rows("SELECT state, report_note, resolution FROM tickets WHERE id = ?",
                        ticket)[0]
        self.assertEqual(t, {"state": "resolved",
                             "report_note": "已联系工长，明天上午返工收尾并安排保洁。",
                             "resolution": "已返工并保洁，客户电话确认满意。"})
        # The project's timeline: the trigger, its messages, the answer and
        # the ticket, in time order.
        self.assertEqual(out["timeline"][0], "trigger")
        for kind in ("message", "answer", "ticket"):
            self.assertIn(kind, out["timeline"])
        self.assertLess(out["timeline"].index("answer"), out["timeline"].index("ticket"))
        # Reports: bars per milestone and per PM, the response-rate line.
        self.assertEqual(out["charts"], 3)
        self.assertGreaterEqual(out["chart_bars"], 2)
        # Usable on a phone: the worklist is no wider than the screen.
        self.assertLessEqual(out["phone_width"][0], out["phone_width"][1])
        # Signed out: the session is gone.
        self.assertEqual((out["after_logout"], out["after_logout_reopen"]),
                         ("/console/login", "/console/login"))

        # The PM: own project only, the plan before confirming, one trigger
        # for a double tap, and the answer shown.
        pm = out["pm"]
        self.assertEqual(sorted(pm["projects"]), ["P-2026-0042", "P-2026-0043"])
        # At the gateway's clock (15:05 and a few seconds or minutes), not
        # the machine's.
        self.assertEqual(len(pm["plan"]), 2, pm["plan"])
        self.assertRegex(pm["plan"][0], r"^11月24日 15:0\d　通知 → 业主（Webhook）$")
        self.assertRegex(pm["plan"][1], r"^11月24日 15:\d\d　满意度回访 → 业主（Webhook）$")
        self.assertEqual(pm["trigger_posts"], 1)  # a double tap posts once
        self.assertEqual(pm["done"], "已上报，客户将按下列时间收到消息：")
        self.assertEqual(pm["sent"], pm["plan"])
        self.assertEqual(pm["done_badge"], 1)
        self.assertEqual(pm["after_logout"], "/pm/login")
        rows = self.d.rows("SELECT token_name, project_id FROM triggers WHERE milestone = ?",
                           "hidden_works_acceptance")
        self.assertEqual(rows, [{"token_name": "pm-zhang", "project_id": "P-2026-0042"}])
        for f in ("console-worklist.png", "console-results.png", "console-ticket-resolved.png",
                  "pm-confirm.png", "pm-done.png"):
            self.assertGreater(os.path.getsize(os.path.join(ARTIFACTS, f)), 10000, f)


if __name__ == "__main__":
    unittest.main()
