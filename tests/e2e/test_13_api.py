"""The customer-service API (issue 6), end to end: results filters and
CSV, the outbox, a project's timeline, ticket clocks, the reports on a
known data set, roles and masking.

The data set (daemon clock Tuesday 2026-11-24 15:05 +08:00, webhook channel):

  P-A  customer C-A  PM 张伟 (13900001111), designer 李娜, foreman 王强, supervisor 赵敏
       completion survey answered on the page with score 4 -> ticket (reported in time)
  P-B  customer C-B  PM 孙丽 (13900006666), designer 李娜, foreman 钱进, supervisor 赵敏
       completion survey answered with score 9 and a comment holding a comma,
       quotes and a leading "=", and a complaint trigger -> ticket (resolved)
  P-C  customer C-C  PM 张伟, designer 李娜, foreman 王强, supervisor 赵敏
       material_inspection survey sent, not answered
"""

import csv
import io
import time
import unittest
import urllib.parse

from harness import ADMIN_TOKEN, CS_TOKEN, TRIGGER_TOKEN, trigger_body, wait_until
from test_06_channels import sms_customer
from test_08_answers import COMPLETION_FORM, AnswerCase

COMMENT = '=1+1 工长很负责, 说"下周"再来看看'

B_STAFF = {"pm": {"name": "孙丽", "phone": "13900006666"},
           "foreman": {"name": "钱进", "phone": "13900007777"}}


def q(**params):
    return "?" + urllib.parse.urlencode(params)


class ApiCase(AnswerCase):

    def build(self, daemon=None):
        """Start the pair and make the data set; returns (mock, daemon, ids)."""
        m, d = self.start_webhook(daemon)
        a = self.post(d, trigger_body("completion", project={"id": "P-A"},
                                      customer=sms_customer("C-A", "13812340001")))
        b = self.post(d, trigger_body("completion",
                                      project={"id": "P-B", "staff": B_STAFF},
                                      customer=sms_customer("C-B", "13812340002")))
        c = self.post(d, trigger_body("material_inspection", project={"id": "P-C"},
                                      customer=sms_customer("C-C", "13812340003")))
        for ids in (a, b, c):
            d.wait_state(ids["survey"], ("sent", "delivered"))
        self.assertEqual(self.post_page(d, self.page_token(m, a["survey"]),
                                        dict(COMPLETION_FORM, score="4"))[0], 200)
        self.assertEqual(self.post_page(d, self.page_token(m, b["survey"]),
                                        dict(COMPLETION_FORM, score="9",
                                             suggestion=COMMENT))[0], 200)
        k = self.post(d, trigger_body("complaint", project={"id": "P-B", "staff": B_STAFF},
                                      customer=sms_customer("C-B", "13812340002"),
                                      variables={"reason": "地砖空鼓"}))
        tickets = wait_until(lambda: (lambda t: len(t) == 2 and t)(self.tickets(d)), 5,
                             what="two tickets (now %r)" % (self.tickets(d),))
        ta = [t for t in tickets if t["project_id"] == "P-A"][0]["id"]
        tb = [t for t in tickets if t["project_id"] == "P-B"][0]["id"]
        s, r = self.cs_post(d, "/v1/tickets/%d/report" % ta, {"note": "已联系工长"})
        self.assertEqual(s, 200, r)
        s, r = self.cs_post(d, "/v1/tickets/%d/resolve" % tb, {"resolution": "已更换地砖"})
        self.assertEqual(s, 200, r)
        return m, d, {"a": a, "b": b, "c": c, "k": k, "ta": ta, "tb": tb}

    def get_ok(self, d, path, token=CS_TOKEN):
        s, r = d.get(path, token=token)
        self.assertEqual(s, 200, (path, r))
        return r

    def csv_get(self, d, path, token=CS_TOKEN):
        status, hdrs, raw = d.raw("GET", path, headers={"Authorization": "Bearer " + token})
        self.assertEqual(status, 200, raw[:300])
        self.assertEqual(hdrs["content-type"], "text/csv; charset=utf-8")
        self.assertTrue(raw.startswith(b"\xef\xbb\xbf"), raw[:20])
        body = raw[3:]
        # Every line ends in CRLF (no bare LF outside quoted fields here).
        self.assertTrue(body.endswith(b"\r\n"), body[-20:])
        rows = list(csv.reader(io.StringIO(body.decode("utf-8"), newline="")))
        return hdrs, raw, rows


class DataSetTest(ApiCase):
    """One data set, every read endpoint."""

    def setUp(self):
        super().setUp()
        self.m, self.d, self.ids = self.build()

    def test_reports_and_results(self):
        d, ids = self.d, self.ids
        a, b, c = ids["a"], ids["b"], ids["c"]

        # ---- results: filters ----
        def rids(query):
            return [r["id"] for r in self.get_ok(d, "/v1/results" + query)["items"]]
        # Results are the surveys asked: not tomorrow's rating confirmations,
        # the ticket's follow-up survey (in two days) nor the warranty visits.
        everything = sorted([a["survey"], b["survey"], c["survey"]])
        self.assertEqual(rids(""), everything)
        self.assertEqual(rids(q(channel="webhook")), everything)
        self.assertEqual(rids(q(channel="sms")), [])
        self.assertEqual(rids(q(staff="孙丽")), [b["survey"]])
        self.assertEqual(rids(q(staff="13900001111")), sorted([a["survey"], c["survey"]]))
        self.assertEqual(rids(q(staff="李娜", state="answered")), sorted([a["survey"], b["survey"]]))
        self.assertEqual(rids(q(since="2026-11-24", until="2026-11-24")), everything)
        self.assertEqual(rids(q(since="2026-11-25T00:00:00+08:00")), [])
        self.assertEqual(rids(q(until="2026-11-23")), [])
        self.assertEqual(rids(q(score_min=5, score_max=10)), [b["survey"]])
        flagged = rids(q(state="flagged"))
        self.assertEqual(flagged, rids("?flagged=1"))
        r = self.get_ok(d, "/v1/results" + q(project="P-A", state="answered"))["items"][0]
        self.assertEqual((r["milestone"], r["milestone_name"], r["customer_mobile"], r["score"]),
                         ("completion", "竣工验收", "13812340001", 4))
        self.assertIn("：是", r["answers_text"])
        self.assertEqual(r["replies"], "")

        # ---- results: pagination with a string cursor ----
        seen, cursor = [], None
        for _ in range(10):
            page = self.get_ok(d, "/v1/results?limit=2" + ("&cursor=" + cursor if cursor else ""))
            self.assertLessEqual(len(page["items"]), 2)
            seen += [x["id"] for x in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            self.assertIsInstance(cursor, str)
        self.assertEqual(seen, everything)

        # ---- reports: per milestone ----
        rows = self.get_ok(d, "/v1/reports/milestones")["rows"]
        by = {r["milestone"]: r for r in rows}
        # Only surveys asked count (not the follow-ups and warranty visits
        # still waiting for their day).
        self.assertEqual(sorted(by), ["completion", "material_inspection"])
        comp = by["completion"]
        self.assertEqual(list(comp), ["milestone", "name", "sent", "delivered", "answered",
                                      "response_rate", "avg_score", "score_distribution"])
        # Two completion surveys went out (the rating confirmations wait for
        # tomorrow), both answered: 4 and 9.
        self.assertEqual((comp["name"], comp["sent"], comp["delivered"], comp["answered"],
                          comp["response_rate"], comp["avg_score"]),
                         ("竣工验收", 2, 0, 2, 1.0, 6.5))
        want_dist = {str(i): 0 for i in range(1, 11)}
        want_dist.update({"4": 1, "9": 1})
        self.assertEqual(comp["score_distribution"], want_dist)
        mi = by["material_inspection"]
        self.assertEqual((mi["name"], mi["sent"], mi["answered"], mi["response_rate"],
                          mi["avg_score"]), ("材料进场验收", 1, 0, 0.0, None))
        self.assertEqual(self.get_ok(d, "/v1/reports/milestones?until=2026-11-23")["rows"], [])

        # ---- reports: per staff member ----
        pm = self.get_ok(d, "/v1/reports/staff?role=pm")["rows"]
        self.assertEqual([(r["role"], r["staff_id"], r["name"], r["avg_score"], r["answered"],
                           r["complaints"]) for r in pm],
                         [("pm", "13900006666", "孙丽", 9.0, 1, 1),
                          ("pm", "13900001111", "张伟", 4.0, 1, 1)])
        designer = self.get_ok(d, "/v1/reports/staff?role=designer")["rows"]
        self.assertEqual([(r["name"], r["avg_score"], r["answered"], r["complaints"])
                          for r in designer], [("李娜", 6.5, 2, 2)])
        self.assertEqual(len(self.get_ok(d, "/v1/reports/staff")["rows"]), 6)

        # ---- reports: complaints of the quarter and the ranking ----
        comp_q = self.get_ok(d, "/v1/reports/complaints?quarter=2026Q4")
        self.assertEqual(comp_q["quarter"], "2026Q4")
        self.assertEqual(comp_q["departments"], [{"department": "工程部", "complaints": 2},
                                                 {"department": "设计部", "complaints": 2}])
        ranking = {(r["rank"], r["name"], r["role"], r["complaints"], r["answered"],
                    r["avg_score"]) for r in comp_q["ranking"]}
        self.assertEqual(ranking, {(1, "孙丽", "pm", 1, 1, 9.0), (1, "钱进", "foreman", 1, 1, 9.0),
                                   (3, "张伟", "pm", 1, 1, 4.0), (3, "王强", "foreman", 1, 1, 4.0),
                                   (5, "李娜", "designer", 2, 2, 6.5),
                                   (5, "赵敏", "supervisor", 2, 2, 6.5)})
        self.assertEqual([r["rank"] for r in comp_q["ranking"]], [1, 1, 3, 3, 5, 5])
        empty = self.get_ok(d, "/v1/reports/complaints?quarter=2026Q3")
        self.assertEqual((empty["departments"], empty["ranking"]),
                         ([{"department": "工程部", "complaints": 0},
                           {"department": "设计部", "complaints": 0}], []))

        # ---- reports: tickets ----
        self.assertEqual(self.get_ok(d, "/v1/reports/tickets"),
                         {"opened": 2, "closed": 1, "closed_within_clock": 1, "overdue_now": 0,
                          "report_within_2h_rate": 1.0, "answer_within_48h_rate": 0.5})
        self.assertEqual(self.get_ok(d, "/v1/reports/tickets?since=2026-11-25"),
                         {"opened": 0, "closed": 0, "closed_within_clock": 0, "overdue_now": 0,
                          "report_within_2h_rate": None, "answer_within_48h_rate": None})

        # ---- reports: trend ----
        days = self.get_ok(d, "/v1/reports/trend?days=7")["days"]
        self.assertEqual([x["date"] for x in days],
                         ["2026-11-%02d" % n for n in range(18, 25)])
        self.assertEqual(days[-1], {"date": "2026-11-24", "sent": 3, "answered": 2,
                                    "response_rate": 0.6667})
        self.assertEqual({(x["sent"], x["answered"], x["response_rate"]) for x in days[:-1]},
                         {(0, 0, None)})

        # ---- bad report arguments ----
        for path, field in (("/v1/reports/complaints?quarter=2026Q5", "quarter"),
                            ("/v1/reports/complaints?quarter=Q4", "quarter"),
                            ("/v1/reports/staff?role=boss", "role"),
                            ("/v1/reports/trend?days=0", "days"),
                            ("/v1/reports/trend?days=367", "days"),
                            ("/v1/reports/milestones?since=yesterday", "since"),
                            ("/v1/reports/tickets?format=xls", "format")):
            with self.subTest(path):
                s, r = d.get(path, token=CS_TOKEN)
                self.assertError(s, r, 400, "invalid_field", field)
        s, r = d.get("/v1/reports/nothing", token=CS_TOKEN)
        self.assertError(s, r, 404, "not_found")

    def test_csv_exports(self):
        d, ids = self.d, self.ids
        hdrs, raw, rows = self.csv_get(d, "/v1/results?format=csv&state=answered")
        self.assertIn('attachment; filename="huifang-results.csv"',
                      hdrs.get("content-disposition", ""))
        header = rows[0]
        self.assertEqual(header[:9], ["编号", "回访节点", "问卷", "项目编号", "客户编号",
                                      "客户姓名", "手机", "状态", "评分"])
        self.assertIn("回答内容", header)
        self.assertEqual(header[-4:], ["项目经理", "设计师", "工长", "监理"])
        # Every row has as many cells as the header.
        self.assertEqual({len(r) for r in rows}, {len(header)})
        body = {r[0]: dict(zip(header, r)) for r in rows[1:]}
        self.assertEqual(sorted(body), sorted([str(ids["a"]["survey"]), str(ids["b"]["survey"])]))
        rb = body[str(ids["b"]["survey"])]
        self.assertEqual((rb["回访节点"], rb["客户编号"], rb["手机"], rb["状态"], rb["评分"],
                          rb["渠道"], rb["项目经理"], rb["工长"]),
                         ("竣工验收", "C-B", "13812340002", "已回答", "9", "webhook", "孙丽", "钱进"))
        # The comment survives the round trip (comma, quotes), with its
        # question; yes/no answers read 是/否.
        self.assertIn("：" + COMMENT, rb["回答内容"])
        self.assertIn("：是", rb["回答内容"])
        self.assertEqual(rb["短信/微信回复"], "")
        # The bytes: quotes doubled inside a quoted field, CRLF row ends,
        # UTF-8 Chinese (not escaped).
        self.assertIn('说""下周""再来看看'.encode(), raw)
        self.assertIn("竣工验收".encode(), raw)
        self.assertEqual(raw.count(b"\r\n"), len(rows))
        self.assertNotIn(b"\n", raw.replace(b"\r\n", b""))

        # Reports as CSV.
        _, _, mrows = self.csv_get(d, "/v1/reports/milestones?format=csv")
        self.assertEqual(mrows[0][:7], ["节点", "节点名称", "发送", "送达", "回答", "回复率",
                                        "平均分"])
        self.assertEqual(mrows[0][7:], ["%d分" % i for i in range(1, 11)])
        comp = [r for r in mrows[1:] if r[0] == "completion"][0]
        self.assertEqual(comp[:7], ["completion", "竣工验收", "2", "0", "2", "1", "6.5"])
        self.assertEqual(comp[7:], ["0", "0", "0", "1", "0", "0", "0", "0", "1", "0"])
        _, _, srows = self.csv_get(d, "/v1/reports/staff?role=pm&format=csv")
        self.assertEqual(srows, [["岗位", "员工编号", "姓名", "平均分", "回答问卷", "投诉"],
                                 ["项目经理", "13900006666", "孙丽", "9", "1", "1"],
                                 ["项目经理", "13900001111", "张伟", "4", "1", "1"]])
        _, _, crows = self.csv_get(d, "/v1/reports/complaints?quarter=2026Q4&format=csv")
        self.assertEqual(crows[0], ["名次", "员工编号", "姓名", "岗位", "部门", "投诉", "回答问卷",
                                    "平均分"])
        self.assertEqual(sorted(r[0] for r in crows[1:]), ["1", "1", "3", "3", "5", "5"])
        _, _, trows = self.csv_get(d, "/v1/reports/tickets?format=csv")
        self.assertEqual(trows, [["新开工单", "已解决", "按时解决", "当前超时", "按时内部报告率",
                                  "按时答复率"], ["2", "1", "1", "0", "1", "0.5"]])
        _, _, drows = self.csv_get(d, "/v1/reports/trend?days=2&format=csv")
        self.assertEqual(drows, [["日期", "发送", "回答", "回复率"], ["2026-11-23", "0", "0", ""],
                                 ["2026-11-24", "3", "2", "0.6667"]])
        _, _, krows = self.csv_get(d, "/v1/tickets?format=csv")
        self.assertEqual([(r[0], r[1], r[3], r[4]) for r in krows],
                         [("工单号", "来源", "状态", "时限"),
                          (str(ids["ta"]), "回访反馈", "已报告", "正常"),
                          (str(ids["tb"]), "客户投诉", "已解决", "正常")])
        _, _, msgrows = self.csv_get(d, "/v1/messages?format=csv&project=P-C")
        self.assertEqual(msgrows[0][:5], ["消息编号", "项目编号", "客户编号", "客户姓名", "手机"])
        self.assertEqual({r[1] for r in msgrows[1:]}, {"P-C"})
        by_kind = {(r[msgrows[0].index("类型")], r[msgrows[0].index("状态")]) for r in msgrows[1:]}
        self.assertIn(("问卷", "已发送"), by_kind)
        self.assertIn(("通知", "已发送"), by_kind)

    def test_messages_projects_and_tickets(self):
        d, ids = self.d, self.ids
        # ---- messages ----
        items = self.get_ok(d, "/v1/messages?project=P-A")["items"]
        # The milestone's messages, its warranty visits, and those of the
        # ticket its score opened.
        self.assertEqual(sorted({(x["milestone"], x["message"]) for x in items}),
                         [("complaint", "ack"), ("complaint", "alert_cs"),
                          ("complaint", "alert_pm"), ("completion", "notice"),
                          ("completion", "rating_confirm"), ("completion", "survey"),
                          ("warranty_followup", "survey")])
        self.assertEqual([x["milestone_name"] for x in items if x["id"] == ids["a"]["survey"]],
                         ["竣工验收"])
        sv = [x for x in items if x["message"] == "survey"][0]
        self.assertEqual((sv["id"], sv["project"], sv["customer"]["id"], sv["customer"]["mobile"],
                          sv["milestone"], sv["kind"], sv["channel"], sv["state"], sv["attempts"],
                          sv["fallback_from"], sv["last_code"]),
                         (ids["a"]["survey"], "P-A", "C-A", "13812340001", "completion", "survey",
                          "webhook", "sent", 1, None, "http_200"))
        self.assertTrue(sv["sent_at"].endswith("+08:00"), sv)
        pending = self.get_ok(d, "/v1/messages?state=pending")["items"]
        self.assertEqual(sorted(x["id"] for x in pending),
                         [r["id"] for r in d.rows("SELECT id FROM messages WHERE state = 'pending'"
                                                  " ORDER BY id")])
        self.assertIn(ids["a"]["rating_confirm"], [x["id"] for x in pending])
        self.assertEqual(self.get_ok(d, "/v1/messages?milestone=complaint&customer=C-B")
                         ["items"][0]["milestone"], "complaint")
        seen, cursor = [], None
        for _ in range(20):
            page = self.get_ok(d, "/v1/messages?limit=3" + ("&cursor=" + cursor if cursor else ""))
            seen += [x["id"] for x in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        self.assertEqual(seen, sorted(r["id"] for r in d.rows("SELECT id FROM messages")))
        for query, field in (("state=lost", "state"), ("limit=0", "limit"), ("cursor=x", "cursor"),
                             ("since=2026-02-30", "since")):
            s, r = d.get("/v1/messages?" + query, token=CS_TOKEN)
            self.assertError(s, r, 400, "invalid_field", field)

        # ---- a project's timeline ----
        p = self.get_ok(d, "/v1/projects/P-A")
        self.assertEqual((p["project"]["id"], p["project"]["address"], p["customer"]["id"],
                          p["customer"]["mobile"]), ("P-A", "上海市浦东新区锦绣路100弄3号1201室",
                                                     "C-A", "13812340001"))
        self.assertEqual([(s["role"], s["name"], s["phone"]) for s in p["project"]["staff"]],
                         [("pm", "张伟", "13900001111"), ("designer", "李娜", "13900002222"),
                          ("foreman", "王强", "13900003333"), ("supervisor", "赵敏", "13900004444")])
        tl = p["timeline"]
        self.assertEqual([e["at"] for e in tl], sorted(e["at"] for e in tl))
        types = [e["type"] for e in tl]
        self.assertEqual(types[0], "trigger")
        self.assertEqual(set(types), {"trigger", "message", "answer", "ticket"})
        ans = [e for e in tl if e["type"] == "answer"][0]
        self.assertEqual((ans["survey_id"], ans["channel"], ans["score"]),
                         (ids["a"]["survey"], "page", 4))
        self.assertIn("raw", ans)
        tk = [e for e in tl if e["type"] == "ticket"][0]
        self.assertEqual((tk["id"], tk["state"]), (ids["ta"], "reported"))
        self.assertLess(types.index("answer"), types.index("ticket"))
        s, r = d.get("/v1/projects/P-NONE", token=CS_TOKEN)
        self.assertError(s, r, 404, "not_found", "id")

        # ---- tickets: clocks and filters ----
        t = self.get_ok(d, "/v1/tickets")
        self.assertEqual([x["id"] for x in t["items"]], [ids["ta"], ids["tb"]])  # open first
        self.assertIsNone(t["next_cursor"])
        ta = t["items"][0]
        self.assertEqual((ta["state"], ta["clock"], ta["customer_mobile"]),
                         ("reported", "ok", "13812340001"))
        self.assertEqual(ta["next_due_at"], ta["answer_due_at"])
        self.assertEqual([x["id"] for x in self.get_ok(d, "/v1/tickets?state=open")["items"]],
                         [ids["ta"]])
        self.assertEqual([x["id"] for x in self.get_ok(d, "/v1/tickets?state=resolved")["items"]],
                         [ids["tb"]])
        self.assertEqual(self.get_ok(d, "/v1/tickets?state=overdue")["items"], [])
        p1 = self.get_ok(d, "/v1/tickets?limit=1")
        self.assertEqual(len(p1["items"]), 1)
        p2 = self.get_ok(d, "/v1/tickets?limit=1&cursor=" + urllib.parse.quote(p1["next_cursor"]))
        self.assertEqual([x["id"] for x in p1["items"] + p2["items"]], [ids["ta"], ids["tb"]])
        for query in ("state=late", "cursor=abc", "limit=501"):
            s, r = d.get("/v1/tickets?" + query, token=CS_TOKEN)
            self.assertEqual(s, 400, (query, r))

    def test_roles_and_masking(self):
        d = self.d
        # The trigger token reads a project's timeline, masked, without the
        # customer's own words.
        p = self.get_ok(d, "/v1/projects/P-A", token=TRIGGER_TOKEN)
        self.assertEqual(p["customer"]["mobile"], "138****0001")
        self.assertNotIn("wechat_openid", p["customer"])
        self.assertEqual({s["phone"] for s in p["project"]["staff"]},
                         {"139****1111", "139****2222", "139****3333", "139****4444"})
        ans = [e for e in p["timeline"] if e["type"] == "answer"][0]
        self.assertNotIn("raw", ans)
        self.assertEqual(ans["score"], 4)
        self.assertNotIn(b"13812340001", d.raw("GET", "/v1/projects/P-A", headers={
            "Authorization": "Bearer " + TRIGGER_TOKEN})[2])
        # What the trigger token may not read.
        for path in ("/v1/results", "/v1/messages", "/v1/tickets", "/v1/reports/milestones",
                     "/v1/results?format=csv"):
            s, r = d.get(path, token=TRIGGER_TOKEN)
            self.assertError(s, r, 403, "forbidden", "Authorization")
        # cs reads all, admin too.
        for tok in (CS_TOKEN, ADMIN_TOKEN):
            self.assertEqual(self.get_ok(d, "/v1/projects/P-A", token=tok)["customer"]["mobile"],
                             "13812340001")
        # cs cannot trigger nor reload; admin can both.
        s, r, _ = d.post_trigger(trigger_body("completion"), token=CS_TOKEN)
        self.assertError(s, r, 403, "forbidden", "Authorization")
        s, r = d.request("POST", "/v1/admin/reload", token=CS_TOKEN)
        self.assertError(s, r, 403, "forbidden", "Authorization")
        s, r = d.request("POST", "/v1/admin/reload", token=TRIGGER_TOKEN)
        self.assertError(s, r, 403, "forbidden", "Authorization")
        s, r = d.request("POST", "/v1/admin/reload")
        self.assertError(s, r, 401, "unauthorized", "Authorization")
        s, r = d.request("POST", "/v1/admin/reload", token=ADMIN_TOKEN)
        self.assertEqual((s, r), (202, {"reload": "requested"}))
        d.wait_log("catalogue and calendar reloaded")
        s, r, _ = d.post_trigger(trigger_body("completion", project={"id": "P-D"},
                                              customer=sms_customer("C-D", "13812340004")),
                                 token=ADMIN_TOKEN)
        self.assertEqual(s, 202, r)


class TicketClockTest(ApiCase):

    def test_due_then_overdue_then_reported(self):
        m, d = self.start_webhook({"tickets": {"report_within": "1m", "answer_within": "30m"}})
        self.post(d, trigger_body("complaint", variables={"reason": "墙面开裂"}))
        tid = wait_until(lambda: self.tickets(d), 5, what="the ticket")[0]["id"]
        t = self.get_ok(d, "/v1/tickets")["items"][0]
        self.assertEqual((t["id"], t["state"], t["clock"], t["report_overdue"]),
                         (tid, "open", "due", 0))
        self.assertEqual(t["next_due_at"], t["report_due_at"])
        # Three minutes later the report clock has run out.
        d.restart(clock="2026-11-24T15:08:00+08:00")
        over = self.get_ok(d, "/v1/tickets?state=overdue")["items"]
        self.assertEqual([(x["id"], x["report_overdue"], x["answer_overdue"]) for x in over],
                         [(tid, 1, 0)])
        self.assertEqual(self.get_ok(d, "/v1/reports/tickets")["overdue_now"], 1)
        s, r = self.cs_post(d, "/v1/tickets/%d/report" % tid, {"note": "已安排"})
        self.assertEqual(s, 200, r)
        # The report stops the report clock; the answer clock (30 min) is due.
        t = self.get_ok(d, "/v1/tickets")["items"][0]
        self.assertEqual((t["state"], t["clock"], t["next_due_at"]),
                         ("reported", "due", t["answer_due_at"]))
        self.assertEqual(self.get_ok(d, "/v1/tickets?state=overdue")["items"], [])
        rep = self.get_ok(d, "/v1/reports/tickets")
        self.assertEqual((rep["opened"], rep["overdue_now"], rep["report_within_2h_rate"]),
                         (1, 0, 0.0))


if __name__ == "__main__":
    unittest.main()
