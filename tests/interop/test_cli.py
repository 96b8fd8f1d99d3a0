"""The project's own `callrec` CLI against a real callrec-server."""

import json
import os
import re
import shlex
import time
import unittest

import rtp

from harness import ACCESS_KEY, CLI_BIN, ServerTestCase, free_port

# The page that shows the CLI's command lines (the README links it).
RUNNING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "running.md")


class CallrecCliTest(ServerTestCase):
    server_kwargs = {"instance_ids": ("local", "second")}

    def setUp(self):
        super().setUp()
        if not os.path.exists(CLI_BIN):
            self.fail("%s is missing: run `make build` first" % CLI_BIN)

    def run_cli(self, *args, **kwargs):
        return self.server.callrec_cli(*args, **kwargs)

    def assertExit(self, result, code):
        self.assertEqual(result.returncode, code,
                         "callrec %s: rc=%s\nstdout=%s\nstderr=%s"
                         % (" ".join(result.args[1:]), result.returncode, result.stdout,
                            result.stderr))

    def contact_line(self, output, contact_id):
        lines = [l for l in output.splitlines() if l.split()[:1] == [contact_id]]
        self.assertEqual(len(lines), 1, "no single line for %s in:\n%s" % (contact_id, output))
        return lines[0]

    # ---- readable output --------------------------------------------------------------

    def test_operations_readable_output(self):
        self.server.create_contact("cl-read", agent_id="agent-r")
        steps = [(["start", "cl-read", "--track", "TO_AGENT"], "start", "RECORDING"),
                 (["pause", "cl-read"], "pause", "PAUSED"),
                 (["resume", "cl-read"], "resume", "RECORDING"),
                 (["stop", "cl-read"], "stop", "STOPPED")]
        for args, verb, state in steps:
            with self.subTest(command=verb):
                result = self.run_cli(*args)
                self.assertExit(result, 0)
                self.assertIn("%s accepted for contact cl-read" % verb, result.stdout)
                line = self.contact_line(result.stdout, "cl-read")
                self.assertEqual(line.split()[1], state, line)
                self.assertIn("track=TO_AGENT", line)
                self.assertIn("agent=agent-r", line)
                self.assertEqual(self.server.state("cl-read"), state)
        self.assertEqual(self.trail("cl-read")[1:], [
            ("START", ACCESS_KEY, "OK"), ("PAUSE", ACCESS_KEY, "OK"),
            ("RESUME", ACCESS_KEY, "OK"), ("STOP", ACCESS_KEY, "OK")])

    def test_status_readable_output(self):
        self.server.create_contact("cl-stat", agent_id="agent-s", initial_contact_id="cl-root")
        self.assertExit(self.run_cli("start", "cl-stat", "--initial-contact-id", "cl-root"), 0)
        self.assertExit(self.run_cli("pause", "cl-stat", "--initial-contact-id", "cl-root"), 0)
        result = self.run_cli("status", "cl-stat")
        self.assertExit(result, 0)
        lines = result.stdout.splitlines()
        self.assertEqual(lines[0].split()[:2], ["cl-stat", "PAUSED"], result.stdout)
        self.assertIn("initial=cl-root", lines[0])
        trail = lines[1:]
        self.assertEqual(len(trail), 3, result.stdout)
        self.assertIn("CREATE  by admin  OK", trail[0])
        self.assertIn("START  by %s  OK  RECORDING track=ALL" % ACCESS_KEY, trail[1])
        self.assertIn("PAUSE  by %s  OK  PAUSED" % ACCESS_KEY, trail[2])

    def test_operation_without_admin_token_still_works(self):
        self.server.create_contact("cl-notoken")
        result = self.run_cli("start", "cl-notoken", admin_token="")
        self.assertExit(result, 0)
        self.assertIn("start accepted for contact cl-notoken", result.stdout)
        self.assertEqual(self.server.state("cl-notoken"), "RECORDING")

    def test_second_instance(self):
        self.server.create_contact("cl-inst", instance_id="second")
        result = self.run_cli("start", "cl-inst")
        self.assertExit(result, 1)
        self.assertIn("ResourceNotFoundException", result.stderr)
        result = self.run_cli("--instance-id", "second", "start", "cl-inst")
        self.assertExit(result, 0)
        self.assertEqual(self.server.state("cl-inst"), "RECORDING")

    # ---- --json ---------------------------------------------------------------------

    def test_json_output(self):
        self.server.create_contact("cl-json", agent_id="agent-j")
        result = self.run_cli("--json", "start", "cl-json", "--track", "FROM_AGENT")
        self.assertExit(result, 0)
        answer = json.loads(result.stdout)
        self.assertEqual((answer["Operation"], answer["ContactId"], answer["Ok"]),
                         ("start", "cl-json", True))
        self.assertEqual(answer["Contact"]["State"], "RECORDING")
        self.assertEqual(answer["Contact"]["Track"], "FROM_AGENT")

        result = self.run_cli("--json", "pause", "cl-json")
        self.assertExit(result, 0)
        self.assertEqual(json.loads(result.stdout)["Contact"]["State"], "PAUSED")

        result = self.run_cli("--json", "status", "cl-json")
        self.assertExit(result, 0)
        status = json.loads(result.stdout)
        self.assertEqual((status["ContactId"], status["State"], status["AgentId"]),
                         ("cl-json", "PAUSED", "agent-j"))
        self.assertEqual([(e["Operation"], e["Principal"], e["Result"])
                          for e in status["AuditTrail"]],
                         [("CREATE", "admin", "OK"), ("START", ACCESS_KEY, "OK"),
                          ("PAUSE", ACCESS_KEY, "OK")])

        result = self.run_cli("--json", "list")
        self.assertExit(result, 0)
        self.assertEqual([c["ContactId"] for c in json.loads(result.stdout)["Contacts"]],
                         ["cl-json"])

    def test_json_error(self):
        self.server.create_contact("cl-jerr")
        result = self.run_cli("--json", "resume", "cl-jerr")
        self.assertExit(result, 1)
        error = json.loads(result.stdout)
        self.assertEqual((error["Error"], error["Status"]), ("InvalidRequestException", 400))
        self.assertIn("NOT_STARTED", error["Message"])

    # ---- refusals and usage errors ----------------------------------------------------

    def test_refusal_exit_code_1(self):
        self.server.create_contact("cl-ref")
        result = self.run_cli("pause", "cl-ref")
        self.assertExit(result, 1)
        self.assertIn("InvalidRequestException", result.stderr)
        self.assertIn("NOT_STARTED", result.stderr)
        self.assertEqual(self.server.state("cl-ref"), "NOT_STARTED")

        self.assertExit(self.run_cli("start", "cl-ref"), 0)
        self.assertExit(self.run_cli("stop", "cl-ref"), 0)
        result = self.run_cli("start", "cl-ref")
        self.assertExit(result, 1)
        self.assertIn("InvalidRequestException", result.stderr)
        self.assertIn("STOPPED", result.stderr)

    def test_other_errors_exit_code_1(self):
        self.server.create_contact("cl-err", initial_contact_id="cl-err-root")
        cases = [
            (("start", "cl-nobody"), {}, "ResourceNotFoundException"),
            (("status", "cl-nobody"), {}, "ResourceNotFoundException"),
            (("start", "cl-err"), {}, "InvalidParameterException"),
            (("start", "cl-err", "--initial-contact-id", "cl-err-root"),
             {"secret_key": "WRONG"}, "InvalidSignatureException"),
            (("start", "cl-err", "--initial-contact-id", "cl-err-root"),
             {"access_key": "AKIDNOBODY"}, "UnrecognizedClientException"),
            (("status", "cl-err"), {"admin_token": "wrong-token"}, "UnauthorizedException"),
            (("list", "--state", "BOGUS"), {}, "InvalidParameterException"),
        ]
        for args, kwargs, error in cases:
            with self.subTest(args=args, **{k: v for k, v in kwargs.items()}):
                result = self.run_cli(*args, **kwargs)
                self.assertExit(result, 1)
                self.assertIn(error, result.stderr)
        self.assertEqual(self.server.state("cl-err"), "NOT_STARTED")

    def test_unreachable_server(self):
        result = self.server.callrec_cli("--endpoint-url", "http://127.0.0.1:%d" % free_port(),
                                         "status", "x", endpoint=False)
        self.assertExit(result, 1)
        self.assertIn("error", result.stderr.lower())

    def test_usage_errors_exit_code_2(self):
        cases = [
            (),                                   # no command
            ("frobnicate", "c"),                  # unknown command
            ("start",),                           # contact id missing
            ("pause",),
            ("status",),
            ("start", "c", "--track", "BOTH"),    # not a track
            ("start", "c", "extra-argument"),
            ("--no-such-option", "list"),
        ]
        for args in cases:
            with self.subTest(args=args):
                result = self.run_cli(*args)
                self.assertExit(result, 2)
                self.assertTrue(result.stderr.strip(), "no explanation on stderr")
        with self.subTest(case="no credentials"):
            self.server.create_contact("cl-nocreds")
            result = self.run_cli("start", "cl-nocreds", access_key=None, secret_key=None)
            self.assertExit(result, 2)
            self.assertIn("AWS_ACCESS_KEY_ID", result.stderr)
            self.assertEqual(self.server.state("cl-nocreds"), "NOT_STARTED")
        with self.subTest(case="bad endpoint url"):
            result = self.server.callrec_cli("--endpoint-url", "ftp://127.0.0.1:1", "start",
                                             "c", endpoint=False)
            self.assertExit(result, 2)
        with self.subTest(case="help"):
            result = self.run_cli("--help")
            self.assertExit(result, 0)
            self.assertIn("start", result.stdout)

    # ---- list -----------------------------------------------------------------------

    def test_list_filters(self):
        result = self.run_cli("list")
        self.assertExit(result, 0)
        self.assertIn("no contacts", result.stdout)

        for contact_id, agent in (("cl-l1", "ann"), ("cl-l2", "ann"), ("cl-l3", "bob"),
                                  ("cl-l4", "bob")):
            self.server.create_contact(contact_id, agent_id=agent)
        for contact_id in ("cl-l1", "cl-l2", "cl-l3"):
            self.assertExit(self.run_cli("start", contact_id), 0)
        for contact_id in ("cl-l1", "cl-l3"):
            self.assertExit(self.run_cli("pause", contact_id), 0)

        def listed(*args):
            result = self.run_cli("list", *args)
            self.assertExit(result, 0)
            return sorted(line.split()[0] for line in result.stdout.splitlines() if line.strip())

        self.assertEqual(listed(), ["cl-l1", "cl-l2", "cl-l3", "cl-l4"])
        self.assertEqual(listed("--state", "PAUSED"), ["cl-l1", "cl-l3"])
        self.assertEqual(listed("--state", "RECORDING"), ["cl-l2"])
        self.assertEqual(listed("--agent-id", "bob"), ["cl-l3", "cl-l4"])
        self.assertEqual(listed("--agent-id", "bob", "--state", "PAUSED"), ["cl-l3"])
        self.assertEqual(listed("--state", "STOPPED"), ["no"])  # "no contacts"
        result = self.run_cli("list", "--state", "PAUSED")
        for line in result.stdout.splitlines():
            self.assertEqual(line.split()[1], "PAUSED", line)

    def test_state_in_any_case(self):
        self.server.create_contact("cl-case")
        self.assertExit(self.run_cli("start", "cl-case"), 0)
        self.assertExit(self.run_cli("pause", "cl-case"), 0)
        for state in ("paused", "Paused", "PAUSED"):
            result = self.run_cli("list", "--state", state)
            self.assertExit(result, 0)
            self.assertIn("cl-case", result.stdout, state)

    # ---- the command lines of docs/running.md -----------------------------------------

    def test_every_cli_line_of_the_docs(self):
        """Each `build/src/callrec ...` line docs/running.md shows, run as written
        (the build directory, the contact c1 the page creates just before)."""
        with open(RUNNING) as f:
            lines = [line.split("#")[0].strip() for line in f
                     if line.startswith("build/src/callrec ")]
        self.assertGreaterEqual(len(lines), 3, "docs/running.md shows the CLI")
        self.server.create_contact("c1")
        self.assertEqual(self.server.connect_call("START", "c1").status, 200)
        for line in lines:
            with self.subTest(line=line):
                if " verify " in line:
                    self.final_metadata("c1")  # the STOP just made is written out
                result = self.run_cli(*shlex.split(line)[1:])
                self.assertExit(result, 0)
                if "--json" in line:
                    json.loads(result.stdout)
        self.assertEqual(self.server.state("c1"), "STOPPED")

    # ---- verify -----------------------------------------------------------------------

    def test_verify_by_contact_id_and_missing_recordings(self):
        contact = self.server.create_contact("cl-verify")
        self.assertExit(self.run_cli("start", "cl-verify"), 0)
        rtp.run_legs([rtp.Leg(rtp.parse_addr(contact["Rtp"]["Customer"]), "PCMU",
                              rtp.tone_fn(600), 25)])
        time.sleep(0.15)
        self.assertExit(self.run_cli("stop", "cl-verify"), 0)
        self.final_metadata("cl-verify")
        path = self.server.get_contact("cl-verify")["Recording"]["Path"]
        by_path = self.run_cli("verify", path)
        self.assertExit(by_path, 0)
        by_id = self.run_cli("verify", "cl-verify")
        self.assertExit(by_id, 0)
        self.assertIn("verified: cl-verify", by_id.stdout)
        reads = [e["Operation"] for e in self.server.get_contact("cl-verify")["AuditTrail"]]
        self.assertIn("DOWNLOAD", reads, "verify through the API is an audited read")
        for missing in ("no-such-contact", "/nonexistent/x.wav"):
            with self.subTest(missing=missing):
                result = self.run_cli("verify", missing)
                self.assertExit(result, 2)
                self.assertIn("no such recording", result.stderr)
                self.assertNotIn("MISMATCH", result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
