"""The huifang command-line tool against a real huifangd (issue 6):
--help and exit codes, the token sources, trigger, results, tickets,
report, check-config, and the import of the weekly follow-up list with good
and bad rows (line numbers, reasons, idempotent re-import, progress).
"""

import csv
import io
import json
import os
import subprocess

from harness import BUILD, CS_TOKEN, SLOW, TRIGGER_TOKEN, run_huifangd, trigger_body
from test_08_answers import COMPLETION_FORM, AnswerCase

HUIFANG = os.path.join(BUILD, "huifang")

HEADER = ("片区,项目编号,地址,开工日期,客户编号,客户姓名,称呼,手机,回访节点,日期,"
          "项目经理,项目经理电话,设计师,工长,工长电话,监理,原因,备注")

GOOD = [
    # line 2, 3, 4: good
    'A区,P-I-001,上海市浦东新区锦绣路1号,2026-11-01,C-I-001,王芳,女士,13811110001,材料进场验收,'
    '2026-11-24 10:00,张伟,13900001111,李娜,王强,13900003333,赵敏,,',
    'A区,P-I-002,"上海市浦东新区锦绣路2号, 3楼",2026-11-02,C-I-002,"刘 ""大"" 明",先生,'
    '+8613811110002,completion,2026-11-24,张伟,13900001111,李娜,王强,,赵敏,,老客户',
    'B区,P-I-003,上海市徐汇区漕溪路3号,,C-I-003,陈静,,13811110003,客户投诉,2026/11/23 16:30,'
    '孙丽,,,,,,地砖空鼓,',
]
BAD = [
    # line 5: bad mobile
    ('A区,P-I-004,上海市某路4号,,C-I-004,赵六,先生,1381111,completion,2026-11-24,,,,,,,,',
     "手机 (mobile)"),
    # line 6: no address
    ('A区,P-I-005,,,C-I-005,钱七,先生,13811110005,completion,2026-11-24,,,,,,,,',
     "地址 (address): is empty"),
    # line 7: not a date
    ('A区,P-I-006,上海市某路6号,,C-I-006,孙八,先生,13811110006,completion,下周二,,,,,,,,',
     "日期 (occurred_at)"),
    # line 8: an unknown milestone name
    ('A区,P-I-007,上海市某路7号,,C-I-007,周九,先生,13811110007,开工大吉,2026-11-24,,,,,,,,',
     "回访节点 (milestone)"),
    # line 9: a complaint without its reason
    ('A区,P-I-008,上海市某路8号,,C-I-008,吴十,女士,13811110008,投诉,2026-11-24,,,,,,,,',
     "原因 (reason)"),
    # line 10: the same as line 2
    (GOOD[0], "the same project, customer, milestone and time as line 2"),
    # line 11: a wrong title
    ('A区,P-I-009,上海市某路9号,,C-I-009,郑一,老板,13811110009,completion,2026-11-24,,,,,,,,',
     "称呼 (title)"),
]
# line 12: well-formed, but huifangd does not know the milestone id.
REFUSED = 'A区,P-I-010,上海市某路10号,,C-I-010,冯二,先生,13811110010,no_such_milestone,2026-11-24,,,,,,,,'


class CliCase(AnswerCase):

    def huifang(self, *args, token=TRIGGER_TOKEN, url=None, env=None, stdin=None, d=None):
        e = dict(os.environ)
        e.pop("HUIFANG_TOKEN", None)
        e.pop("HUIFANG_URL", None)
        e["HOME"] = self.home
        if token:
            e["HUIFANG_TOKEN"] = token
        if url or d:
            e["HUIFANG_URL"] = url or "http://127.0.0.1:%d" % d.port
        e.update(env or {})
        p = subprocess.run([HUIFANG] + list(args), input=stdin, capture_output=True, env=e,
                           timeout=60 * SLOW)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8",
                                                                                   "replace"), p.stdout

    def setUp(self):
        super().setUp()
        if not os.access(HUIFANG, os.X_OK):
            self.fail("%s not built (make)" % HUIFANG)
        self.home = self.tempdir()

    def write(self, name, text):
        path = os.path.join(self.tempdir(), name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        return path


class HelpAndExitCodesTest(CliCase):

    def test_help_on_every_command(self):
        rc, out, err, _ = self.huifang("--help", token=None)
        self.assertEqual(rc, 0, err)
        self.assertIn("Exit codes:", out)
        for cmd, want in (("trigger", "POST /v1/triggers"), ("results", "--score-min"),
                          ("tickets", "resolve ID --resolution"), ("report", "complaints"),
                          ("import", "项目编号 project_id"), ("check-config", "--check-config"),
                          ("customer", "--preferred-time")):
            with self.subTest(cmd):
                rc, out, err, _ = self.huifang(cmd, "--help", token=None)
                self.assertEqual((rc, err), (0, ""))
                self.assertIn("usage: huifang " + cmd, out)
                self.assertIn(want, out)
                rc2, out2, _, _ = self.huifang("help", cmd, token=None)
                self.assertEqual((rc2, out2), (0, out))

    def test_usage_errors_exit_1(self):
        for args in ((), ("frobnicate",), ("results", "--bogus"), ("tickets", "show"),
                     ("tickets", "report", "1"), ("report",), ("report", "weather"),
                     ("import",), ("trigger", "--milestone", "completion"), ("--nope",),
                     ("customer", "C-1"), ("customer", "--preferred-time", "19:00-20:00")):
            with self.subTest(args):
                rc, out, err, _ = self.huifang(*args)
                self.assertEqual(rc, 1, (out, err))
                self.assertTrue(err, args)

    def test_token_is_required_and_never_printed(self):
        rc, _, err, _ = self.huifang("results", token=None)
        self.assertEqual(rc, 1)
        self.assertIn("no API token", err)
        rc, _, err, _ = self.huifang("results", "--token-file", "/nonexistent/tok", token=None)
        self.assertEqual(rc, 1)
        self.assertIn("/nonexistent/tok", err)

    def test_unreachable_exits_3(self):
        # Nothing listens on port 9.
        rc, out, err, _ = self.huifang("results", url="http://127.0.0.1:9")
        self.assertEqual(rc, 3, (out, err))
        self.assertIn("cannot reach huifangd at http://127.0.0.1:9", err)
        self.assertNotIn(TRIGGER_TOKEN, out + err)


class CommandsTest(CliCase):

    def test_trigger_results_tickets_report(self):
        m, d = self.start_webhook()
        args = ("trigger", "--milestone", "completion", "--occurred-at",
                "2026-11-24T15:00:00+08:00", "--project", "P-CLI-1", "--address",
                "上海市浦东新区锦绣路9号", "--pm", "张伟,13900001111", "--customer", "C-CLI-1",
                "--name", "陈", "--title", "女士", "--mobile", "13812349999")
        rc, out, err, _ = self.huifang(*args, d=d)
        self.assertEqual(rc, 0, err)
        self.assertIn("accepted: trigger 1 (completion)", out)
        self.assertIn("survey", out)
        # The same command again: huifangd replays, nothing new is planned.
        n = d.scalar("SELECT COUNT(*) FROM messages")
        rc, out, err, _ = self.huifang(*args, "--json", d=d)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["trigger_id"], 1)
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM messages"), n)
        # A cs token may not trigger: huifangd refuses, exit 2.
        rc, out, err, _ = self.huifang(*args, token=CS_TOKEN, d=d)
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("403 forbidden", err)
        # A trigger from a JSON file on stdin.
        body = json.dumps(trigger_body("material_inspection"), ensure_ascii=False).encode()
        rc, out, err, _ = self.huifang("trigger", "--file", "-", "--json", stdin=body, d=d)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["milestone"], "material_inspection")

        # Answer the completion survey badly: a result and a ticket.
        sid = d.scalar("SELECT id FROM messages WHERE trigger_id = 1 AND message = 'survey' ORDER BY id")
        d.wait_state(sid, ("sent", "delivered"))
        self.assertEqual(self.post_page(d, self.page_token(m, sid),
                                        dict(COMPLETION_FORM, score="3"))[0], 200)

        rc, out, err, _ = self.huifang("results", "--project", "P-CLI-1", "--state", "answered",
                                       token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        self.assertIn("P-CLI-1", out)
        self.assertIn(" 3 ", out)
        rc, out, err, _ = self.huifang("results", "--json", "--limit", "1", "--all",
                                       token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        pages = [json.loads(line) for line in out.splitlines()]
        self.assertEqual([x["id"] for p in pages for x in p["items"]],
                         [x["id"] for x in d.get("/v1/results?limit=500", CS_TOKEN)[1]["items"]])
        self.assertGreater(len(pages), 1)
        self.assertIsNone(pages[-1]["next_cursor"])
        rc, _, err, raw = self.huifang("results", "--csv", "--state", "answered", token=CS_TOKEN,
                                       d=d)
        self.assertEqual(rc, 0, err)
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"))
        rows = list(csv.reader(io.StringIO(raw[3:].decode(), newline="")))
        self.assertEqual((rows[0][0], rows[1][3], rows[1][8]), ("编号", "P-CLI-1", "3"))
        # Results need a cs token.
        rc, _, err, _ = self.huifang("results", d=d)
        self.assertEqual(rc, 2)
        self.assertIn("403", err)

        tid = d.scalar("SELECT id FROM tickets")
        rc, out, err, _ = self.huifang("tickets", "list", "--state", "open", token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        self.assertIn("P-CLI-1", out)
        rc, out, err, _ = self.huifang("tickets", "report", str(tid), "--note", "已联系工长",
                                       token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        rc, out, err, _ = self.huifang("tickets", "resolve", str(tid), "--resolution",
                                       "已返工", "--json", token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["state"], "resolved")
        rc, out, err, _ = self.huifang("tickets", "show", str(tid), token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        self.assertIn("已返工", out)
        rc, out, err, _ = self.huifang("tickets", "show", "999", token=CS_TOKEN, d=d)
        self.assertEqual(rc, 2)
        self.assertIn("404 not_found", err)

        rc, out, err, _ = self.huifang("report", "milestones", "--json", token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        comp = [r for r in json.loads(out)["rows"] if r["milestone"] == "completion"][0]
        self.assertEqual((comp["answered"], comp["avg_score"]), (1, 3.0))
        rc, out, err, _ = self.huifang("report", "complaints", "--quarter", "2026Q4",
                                       token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        self.assertIn("quarter 2026Q4", out)
        self.assertIn("张伟", out)
        rc, _, err, raw = self.huifang("report", "trend", "--days", "3", "--csv",
                                       token=CS_TOKEN, d=d)
        self.assertEqual(rc, 0, err)
        self.assertEqual(raw.decode("utf-8-sig").splitlines()[0], "日期,发送,回答,回复率")
        rc, out, err, _ = self.huifang("report", "complaints", "--quarter", "2026Q9",
                                       token=CS_TOKEN, d=d)
        self.assertEqual(rc, 2)
        self.assertIn("invalid_field on quarter", err)

    def test_token_file_and_config_file(self):
        m, d = self.start_webhook()
        tok = self.write("token.txt", CS_TOKEN + "\n")
        rc, out, err, _ = self.huifang("report", "tickets", "--token-file", tok, token=None, d=d)
        self.assertEqual(rc, 0, err)
        conf_dir = os.path.join(self.home, ".config", "huifang")
        os.makedirs(conf_dir)
        with open(os.path.join(conf_dir, "cli.conf"), "w") as f:
            f.write("# huifang\ntoken = %s\nurl = http://127.0.0.1:%d\n" % (CS_TOKEN, d.port))
        os.chmod(os.path.join(conf_dir, "cli.conf"), 0o644)
        rc, out, err, _ = self.huifang("report", "tickets", "--json", token=None)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["opened"], 0)
        self.assertIn("is readable by others", err)
        self.assertNotIn(CS_TOKEN, out + err)
        os.chmod(os.path.join(conf_dir, "cli.conf"), 0o600)
        rc, out, err, _ = self.huifang("report", "tickets", token=None)
        self.assertEqual((rc, err), (0, ""))
        self.assertIn("closed_within_clock", out)

    def test_customer_preferred_time(self):
        m, d = self.start_webhook()
        status, resp, _ = d.post_trigger(trigger_body("material_inspection"))
        self.assertEqual(status, 202, resp)
        rc, out, err, _ = self.huifang("customer", "C-0042", "--preferred-time", "19:00-20:30",
                                       d=d, token=CS_TOKEN)
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("19:00-20:30", out)
        self.assertEqual(d.scalar("SELECT preferred_time FROM customers WHERE id = 'C-0042'"),
                         "19:00-20:30")
        # At night: refused by huifangd (exit 2) naming the field; unknown: 2.
        rc, out, err, _ = self.huifang("customer", "C-0042", "--preferred-time", "22:00-23:00",
                                       d=d, token=CS_TOKEN)
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("preferred_time", err)
        rc, out, err, _ = self.huifang("--json", "customer", "C-NOPE", "--preferred-time", "none",
                                       d=d, token=CS_TOKEN)
        self.assertEqual(rc, 2, (out, err))
        rc, out, err, _ = self.huifang("--json", "customer", "C-0042", "--preferred-time", "none",
                                       d=d, token=CS_TOKEN)
        self.assertEqual((rc, json.loads(out)), (0, {"customer": "C-0042",
                                                     "preferred_time": None}))
        self.assertIsNone(d.scalar("SELECT preferred_time FROM customers WHERE id = 'C-0042'"))

    def test_check_config(self):
        m, d = self.start_webhook()
        rc, out, err, _ = self.huifang("check-config", d.config_path, token=None,
                                       env={"HUIFANG_SURVEY_SECRET": "e2e-survey-secret-0123456789",
                                            "HUIFANG_WEBHOOK_SECRET": "x" * 16})
        self.assertEqual(rc, 0, (out, err))
        bad = self.write("bad.json", '{"listen": {"prot": 1}}')
        rc, out, err, _ = self.huifang("check-config", "-c", bad, token=None)
        self.assertEqual(rc, 2, (out, err))
        self.assertIn("listen.prot", out + err)
        # The same verdict as huifangd's own.
        self.assertNotEqual(run_huifangd(["-c", bad, "--check-config"]).returncode, 0)


class ImportTest(CliCase):

    def csv_file(self, lines):
        return self.write("weekly.csv", "\ufeff" + "\r\n".join([HEADER] + lines) + "\r\n")

    def test_good_and_bad_rows(self):
        m, d = self.start_webhook()
        path = self.csv_file(GOOD + [b for b, _ in BAD] + [REFUSED])
        # A dry run checks and sends nothing.
        rc, out, err, _ = self.huifang("import", path, "--dry-run", token=None)
        self.assertEqual(rc, 4, (out, err))
        self.assertIn("11 rows, 4 valid, 7 invalid (dry run: nothing sent)", out)
        self.assertEqual(err.count(path + ":"), 7, err)
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM triggers"), 0)

    def test_import_reports_lines_and_is_idempotent(self):
        m, d = self.start_webhook()
        path = self.csv_file(GOOD + [b for b, _ in BAD] + [REFUSED])
        rc, out, err, _ = self.huifang("import", path, d=d)
        self.assertEqual(rc, 4, (out, err))
        # Each bad row: its line and reason, in file order.
        lines = [l for l in err.splitlines() if l.startswith(path + ":")]
        self.assertEqual(len(lines), len(BAD) + 1, err)
        for i, (_, why) in enumerate(BAD):
            self.assertTrue(lines[i].startswith("%s:%d: " % (path, 5 + i)), lines[i])
            self.assertIn(why, lines[i])
        self.assertTrue(lines[-1].startswith("%s:12: refused by huifangd (400 unknown_milestone"
                                             % path), lines[-1])
        self.assertIn("11 rows: 3 imported, 0 already imported, 7 invalid, 1 refused", out)
        # The good rows are triggers, with what the file said.
        trig = {r["project_id"]: r for r in d.rows("SELECT * FROM triggers")}
        self.assertEqual(sorted(trig), ["P-I-001", "P-I-002", "P-I-003"])
        self.assertEqual([r["milestone"] for r in sorted(trig.values(), key=lambda r: r["id"])],
                         ["material_inspection", "completion", "complaint"])
        body2 = json.loads(trig["P-I-002"]["body"])
        self.assertEqual((body2["project"]["address"], body2["customer"]["name"],
                          body2["customer"]["mobile"], body2["occurred_at"]),
                         ("上海市浦东新区锦绣路2号, 3楼", '刘 "大" 明', "13811110002",
                          "2026-11-24T09:00:00+08:00"))
        body3 = json.loads(trig["P-I-003"]["body"])
        self.assertEqual((body3["occurred_at"], body3["variables"]["reason"],
                          body3["project"]["staff"]), ("2026-11-23T16:30:00+08:00", "地砖空鼓",
                                                       {"pm": {"name": "孙丽"}}))
        self.assertEqual(json.loads(trig["P-I-001"]["body"])["project"]["staff"]["foreman"],
                         {"name": "王强", "phone": "13900003333"})
        self.assertTrue(all(r["idem_key"].startswith("import-") for r in trig.values()))
        planned = lambda: {k: v for k, v in d.counts().items() if k != "attempts"}  # noqa: E731
        counts = planned()

        # Again, as JSON: nothing new anywhere.
        rc, out, err, _ = self.huifang("import", path, "--json", d=d)
        self.assertEqual(rc, 4, err)
        s = json.loads(out)
        self.assertEqual((s["rows"], s["valid"], s["imported"], s["already_imported"]),
                         (11, 4, 0, 3))
        self.assertEqual([(x["line"], x["field"]) for x in s["invalid"]],
                         [(5, "mobile"), (6, "address"), (7, "occurred_at"), (8, "milestone"),
                          (9, "reason"), (10, "-"), (11, "title")])
        self.assertEqual([(x["line"], x["status"], x["answer"]["error"]["code"])
                          for x in s["refused"]], [(12, 400, "unknown_milestone")])
        self.assertEqual(planned(), counts)

    def test_all_good_exits_0_with_progress(self):
        m, d = self.start_webhook()
        rows = ['A区,P-L-%03d,上海市某路%d号,,C-L-%03d,客户%d,先生,1381112%04d,竣工,2026-11-24 14:00,'
                '张伟,,,,,,,' % (i, i, i, i, i) for i in range(150)]
        path = self.csv_file(rows)
        rc, out, err, _ = self.huifang("import", path, d=d)
        self.assertEqual(rc, 0, (out, err))
        self.assertIn("150 rows: 150 imported", out)
        self.assertIn("100/150 rows sent", err)
        self.assertIn("150/150 rows sent", err)
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM triggers"), 150)

    def test_unusable_files_exit_1(self):
        for text, want in (("", "is empty"),
                           ("项目编号,地址\r\nP-1,x\r\n", "the column 客户编号 (customer_id) is missing"),
                           (HEADER + ",颜色\r\n", 'unknown column "颜色"')):
            with self.subTest(want):
                rc, out, err, _ = self.huifang("import", self.write("x.csv", text), "--dry-run",
                                               token=None)
                self.assertEqual(rc, 1, (out, err))
                self.assertIn(want, err)
        gbk = os.path.join(self.tempdir(), "gbk.csv")
        with open(gbk, "wb") as f:
            f.write((HEADER + "\r\n" + GOOD[0] + "\r\n").encode("gbk"))
        rc, _, err, _ = self.huifang("import", gbk, "--dry-run", token=None)
        self.assertEqual(rc, 1)
        self.assertIn("is not UTF-8: save it as \"CSV UTF-8\"", err)
        rc, _, err, _ = self.huifang("import", "/nonexistent.csv", "--dry-run", token=None)
        self.assertEqual(rc, 1)
        self.assertIn("cannot open /nonexistent.csv", err)
