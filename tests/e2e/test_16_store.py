"""The store as an operator sees it, on either backend (SQLite by default,
PostgreSQL with HUIFANG_TEST_PG=1): `huifangd --migrate`, the database state
in /healthz, a PostgreSQL server that is not there, and a lost connection."""
import unittest

from harness import E2ETestCase, PG_URL, psql, run_huifangd, trigger_body


class MigrateTest(E2ETestCase):
    def test_migrate_creates_the_schema_once_and_exits(self):
        d = self.start_daemon(start=False)
        backend = "postgresql" if d.pg_url else "sqlite"
        r = run_huifangd(["-c", d.config_path, "--migrate"])
        self.assertEqual(r.returncode, 0, r.stderr)
        first = r.stdout.strip()
        self.assertRegex(first, r"^schema version \d+ \(%s\)$" % backend)
        version = int(first.split()[2])
        self.assertEqual(d.scalar("PRAGMA user_version"), version)
        # Again: nothing to apply, the same version.
        r = run_huifangd(["-c", d.config_path, "--migrate"])
        self.assertEqual((r.returncode, r.stdout.strip()), (0, first), r.stderr)
        if d.pg_url:
            self.assertEqual(d.scalar("SELECT COUNT(*) FROM schema_version"), version)
        # The daemon then starts on that schema and says so.
        d.start()
        status, h = d.request("GET", "/healthz")
        self.assertEqual(h["schema_version"], version)
        self.assertEqual(h["database"], {"backend": backend, "state": "ok"})


@unittest.skipUnless(PG_URL, "PostgreSQL only (HUIFANG_TEST_PG=1)")
class PostgresTest(E2ETestCase):
    def test_unreachable_server_stops_the_start_without_the_password(self):
        d = self.start_daemon(start=False)
        d.config["store"] = {"url": "postgresql://huifang:pw-s3cret@127.0.0.1:1/huifang"
                                    "?connect_timeout=2"}
        d.write_config()
        r = run_huifangd(["-c", d.config_path, "--migrate"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("postgresql://huifang:***@127.0.0.1:1/huifang", r.stderr)
        self.assertIn("cannot open database", r.stderr)
        self.assertNotIn("pw-s3cret", r.stderr + r.stdout)

    def test_lost_connection_is_reestablished(self):
        mock = self.start_mock()
        d = self.start_daemon(mock)
        status, body, _ = d.post_trigger(trigger_body())
        self.assertEqual(status, 202, body)
        db = d.pg_url.rsplit("/", 1)[1]
        # The server ends huifangd's session (a restart or failover looks
        # the same to libpq).
        out = psql(PG_URL, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                           " WHERE datname = '%s' AND pid <> pg_backend_pid()" % db)
        self.assertEqual(out.strip(), "1")
        status, h = d.request("GET", "/healthz")
        self.assertEqual(status, 200, h)
        self.assertEqual(h["database"], {"backend": "postgresql", "state": "ok"})
        status, body, _ = d.post_trigger(trigger_body())
        self.assertEqual(status, 202, body)
        self.assertEqual(d.scalar("SELECT COUNT(*) FROM triggers"), 2)
        self.assertIn("reconnected to PostgreSQL", d.read_log())


if __name__ == "__main__":
    unittest.main()
