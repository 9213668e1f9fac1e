"""Configuration: bad files are refused at start with the file and key named,
secrets never printed, and SIGHUP reloads the catalogue only when the new
one is valid."""

import json
import os
import shutil
import signal
import unittest

from harness import (CATALOGUE, SURVEY_SECRET, TEMPLATES, TUESDAY_1505,
                     Daemon, E2ETestCase, run_huifangd, trigger_body)

OCCURRED = "2026-11-24T15:30:00+08:00"  # due later: nothing is sent meanwhile


class ConfigErrorTest(E2ETestCase):
    """huifangd must exit non-zero, naming the file and the key, without
    ever listening."""

    def config_file(self, overrides):
        # A Daemon object only to write its config; it is never started.
        d = Daemon(start=False, overrides=overrides)
        self.addCleanup(shutil.rmtree, d.dir, True)
        return d

    def refused(self, overrides, *needles):
        d = self.config_file(overrides)
        p = run_huifangd(["-c", d.config_path], timeout=5)
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, out)
        self.assertNotIn("Sanitizer", out)  # the refusal path frees what it took
        # One line naming file, key and reason.
        line = [l for l in out.splitlines() if d.config_path in l]
        self.assertEqual(len(line), 1, out)
        for n in needles:
            self.assertIn(n, line[0])
        self.assertFalse(os.path.exists(d.ready), "ready-file written by a refused config")
        return out

    def test_unknown_key(self):
        self.refused({"listen": {"prot": 8080}}, "listen.prot", "unknown key")

    def test_port_out_of_range(self):
        self.refused({"listen": {"port": 70000}}, "listen.port", "70000", "out of range")

    def test_missing_company_name(self):
        self.refused({"company": {"name": None}}, "company.name", "missing")

    def typo_in_template(self):
        """A config whose catalogue copy uses a template with {{company.phnoe}};
        returns (Daemon, path of the bad template)."""
        tmp = self.tempdir()
        tdir = os.path.join(tmp, "templates")
        shutil.copytree(TEMPLATES, tdir)
        cat = os.path.join(tmp, "milestones.json")
        shutil.copy(CATALOGUE, cat)
        bad = os.path.join(tdir, "material_inspection", "notice.json")
        with open(bad) as f:
            text = f.read()
        self.assertIn("{{company.phone}}", text)
        with open(bad, "w") as f:
            f.write(text.replace("{{company.phone}}", "{{company.phnoe}}", 1))
        return self.config_file({"catalogue": cat, "templates": tdir}), bad

    def test_template_with_unknown_placeholder(self):
        d, bad = self.typo_in_template()
        p = run_huifangd(["-c", d.config_path], timeout=5)
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, out)
        self.assertNotIn("Sanitizer", out)
        line = [l for l in out.splitlines() if bad in l]
        self.assertEqual(len(line), 1, out)
        self.assertIn("unknown placeholder {{company.phnoe}}", line[0])
        self.assertFalse(os.path.exists(d.ready), out)

    def test_check_config_catches_what_would_stop_the_start(self):
        # An operator runs --check-config before a restart: it must fail for
        # a template the daemon would refuse at start.
        d, bad = self.typo_in_template()
        p = run_huifangd(["-c", d.config_path, "--check-config"], timeout=5)
        out = p.stdout + p.stderr
        self.assertNotEqual(p.returncode, 0, out)
        self.assertIn(bad, out)
        self.assertIn("company.phnoe", out)

    def test_check_config_prints_secrets_as_stars(self):
        # One secret from the environment, one written in the file.
        d = self.config_file({"channels": {"webhook": {"secret": "literal-webhook-secret-42"}}})
        p = run_huifangd(["-c", d.config_path, "--check-config"], timeout=5)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertIn("survey.secret = ***", lines)
        self.assertIn("channels.webhook.secret = ***", lines)
        self.assertIn("company.name = 安居装饰", lines)
        self.assertIn("listen.port = 0", lines)
        for secret in (SURVEY_SECRET, "literal-webhook-secret-42"):
            self.assertNotIn(secret, p.stdout + p.stderr)
        # Token hashes are not secrets, but only names and roles are shown.
        for t in d.config["api_tokens"]:
            self.assertNotIn(t["sha256"], p.stdout)
        self.assertFalse(os.path.exists(d.ready))
        self.assertFalse(os.path.exists(d.db_path), "--check-config created the database")


class ReloadTest(E2ETestCase):

    def setUp(self):
        super().setUp()
        tmp = self.tempdir()
        self.tdir = os.path.join(tmp, "templates")
        shutil.copytree(TEMPLATES, self.tdir)
        self.cat = os.path.join(tmp, "milestones.json")
        shutil.copy(CATALOGUE, self.cat)
        self.mock = self.start_mock()
        self.d = self.start_daemon(self.mock, clock=TUESDAY_1505,
                                   overrides={"catalogue": self.cat, "templates": self.tdir})

    def write_catalogue(self, text):
        tmp = self.cat + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, self.cat)

    def post(self, milestone="material_inspection"):
        return self.d.post_trigger(trigger_body(milestone, occurred_at=OCCURRED))

    def test_sighup_with_broken_catalogue_keeps_the_old_one(self):
        self.write_catalogue('{"milestones": {"completion": ')
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("kept the old")
        self.assertTrue(self.d.alive())
        for m, n in (("material_inspection", 2), ("completion", 3)):
            status, resp, _ = self.post(m)
            self.assertEqual(status, 202, resp)
            self.assertEqual(len(resp["messages"]), n)
        self.assertIn("milestones.json", [l for l in self.d.read_log().splitlines()
                                          if "kept the old" in l][0])

    def test_sighup_with_unknown_placeholder_keeps_the_old_one(self):
        bad = os.path.join(self.tdir, "completion", "notice.json")
        with open(bad) as f:
            text = f.read()
        with open(bad, "w") as f:
            f.write(text.replace("{{company.name}}", "{{company.nmae}}", 1))
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("kept the old")
        line = [l for l in self.d.read_log().splitlines() if "kept the old" in l][0]
        self.assertIn("company.nmae", line)
        status, resp, _ = self.post("completion")
        self.assertEqual(status, 202, resp)

    def test_sighup_with_valid_changed_catalogue_is_picked_up(self):
        status, resp, _ = self.post("handover_check")
        self.assertError(status, resp, 400, "unknown_milestone", "milestone")
        with open(self.cat) as f:
            cat = json.load(f)
        cat["milestones"]["handover_check"] = {
            "name": "交底回访",
            "messages": [{"id": "notice", "kind": "notice", "to": "customer", "delay": "0",
                          "window": "notice", "template": "material_inspection/notice"}],
        }
        # And a changed one: material_inspection loses its survey.
        cat["milestones"]["material_inspection"]["messages"] = [
            m for m in cat["milestones"]["material_inspection"]["messages"] if m["id"] == "notice"]
        self.write_catalogue(json.dumps(cat, ensure_ascii=False))
        self.d.signal(signal.SIGHUP)
        self.d.wait_log("catalogue and calendar reloaded")
        self.assertNotIn("kept the old", self.d.read_log())
        status, resp, _ = self.post("handover_check")
        self.assertEqual(status, 202, resp)
        self.assertEqual([(m["message"], m["due_at"]) for m in resp["messages"]],
                         [("notice", OCCURRED)])
        status, resp, _ = self.post("material_inspection")
        self.assertEqual(status, 202, resp)
        self.assertEqual([m["message"] for m in resp["messages"]], ["notice"])


if __name__ == "__main__":
    unittest.main()
