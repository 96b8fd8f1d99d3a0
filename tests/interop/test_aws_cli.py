"""The real AWS CLI (v1) against callrec-server's Connect-compatible API."""

import unittest

from harness import ACCESS_KEY, SECRET_KEY, ServerTestCase

OTHER_KEY, OTHER_SECRET = "AKIDOTHER", "SECRETOTHER"

COMMANDS = {
    "START": "start-contact-recording",
    "PAUSE": "suspend-contact-recording",
    "RESUME": "resume-contact-recording",
    "STOP": "stop-contact-recording",
}


class AwsCliTest(ServerTestCase):
    server_kwargs = {
        "instance_ids": ("local", "second"),
        "access_keys": ((ACCESS_KEY, SECRET_KEY), (OTHER_KEY, OTHER_SECRET)),
    }

    def cli(self, operation, contact_id, initial_contact_id=None, instance_id="local",
            track="ALL", **kwargs):
        args = ["connect", COMMANDS[operation], "--instance-id", instance_id,
                "--contact-id", contact_id,
                "--initial-contact-id", initial_contact_id or contact_id]
        if operation == "START":
            args += ["--voice-recording-configuration", "VoiceRecordingTrack=%s" % track]
        return self.server.aws_cli(*args, **kwargs)

    def assertCliOk(self, result):
        self.assertEqual(result.returncode, 0,
                         "aws failed: rc=%s\nstdout=%s\nstderr=%s"
                         % (result.returncode, result.stdout, result.stderr))
        # The operations answer {}: the CLI prints nothing (or an empty object).
        self.assertIn(result.stdout.strip(), ("", "{}"), result.stdout)

    def assertCliError(self, result, error_type, *needles):
        self.assertNotEqual(result.returncode, 0,
                            "aws succeeded where %s was expected: %s" % (error_type, result))
        self.assertIn("(%s)" % error_type, result.stderr, result.stderr)
        for needle in needles:
            self.assertIn(needle, result.stderr, result.stderr)

    def setup_op(self, operation, contact_id, **kwargs):
        """Moves a contact on with a raw signed request (faster than the CLI)."""
        reply = self.server.connect_call(operation, contact_id, **kwargs)
        self.assertEqual(reply.status, 200, repr(reply))

    # ---- success paths --------------------------------------------------------------

    def test_full_life_cycle(self):
        self.server.create_contact("cli-life", agent_id="agent-7")
        steps = [("START", "RECORDING"), ("PAUSE", "PAUSED"), ("RESUME", "RECORDING"),
                 ("STOP", "STOPPED")]
        for operation, expected in steps:
            with self.subTest(operation=operation):
                self.assertCliOk(self.cli(operation, "cli-life"))
                contact = self.server.get_contact("cli-life")
                self.assertEqual(contact["State"], expected)
                self.assertEqual(contact["RecordingState"], expected)
                self.assertEqual(contact["Track"], "ALL")
        trail = self.server.get_contact("cli-life")["AuditTrail"]
        self.assertEqual([(e["Operation"], e["Principal"], e["Result"]) for e in trail], [
            ("CREATE", "admin", "OK"),
            ("START", ACCESS_KEY, "OK"),
            ("PAUSE", ACCESS_KEY, "OK"),
            ("RESUME", ACCESS_KEY, "OK"),
            ("STOP", ACCESS_KEY, "OK"),
        ])
        self.assertEqual(trail[1]["Detail"], "RECORDING track=ALL")
        self.assertEqual([e["Detail"] for e in trail[2:]], ["PAUSED", "RECORDING", "STOPPED"])

    def test_idempotent_repeats(self):
        self.server.create_contact("cli-idem")
        steps = [("START", "RECORDING"), ("START", "RECORDING"), ("PAUSE", "PAUSED"),
                 ("PAUSE", "PAUSED"), ("RESUME", "RECORDING"), ("RESUME", "RECORDING"),
                 ("STOP", "STOPPED"), ("STOP", "STOPPED")]
        for i, (operation, expected) in enumerate(steps):
            with self.subTest(step=i, operation=operation):
                self.assertCliOk(self.cli(operation, "cli-idem"))
                self.assertEqual(self.server.state("cli-idem"), expected)
        self.assertEqual(self.trail("cli-idem")[1:], [
            ("START", ACCESS_KEY, "OK"), ("START", ACCESS_KEY, "UNCHANGED"),
            ("PAUSE", ACCESS_KEY, "OK"), ("PAUSE", ACCESS_KEY, "UNCHANGED"),
            ("RESUME", ACCESS_KEY, "OK"), ("RESUME", ACCESS_KEY, "UNCHANGED"),
            ("STOP", ACCESS_KEY, "OK"), ("STOP", ACCESS_KEY, "UNCHANGED"),
        ])

    def test_each_track_reaches_v1(self):
        for track in ("TO_AGENT", "FROM_AGENT", "ALL"):
            with self.subTest(track=track):
                contact_id = "cli-track-" + track
                self.server.create_contact(contact_id)
                self.assertCliOk(self.cli("START", contact_id, track=track))
                contact = self.server.get_contact(contact_id)
                self.assertEqual(contact["Track"], track)
                self.assertEqual(contact["State"], "RECORDING")
                self.assertEqual(contact["AuditTrail"][-1]["Detail"], "RECORDING track=" + track)

    def test_second_instance_and_second_key(self):
        self.server.create_contact("cli-second", instance_id="second")
        # The contact lives in "second": addressing it in "local" does not find it.
        self.assertCliError(self.cli("START", "cli-second", instance_id="local"),
                            "ResourceNotFoundException")
        self.assertEqual(self.server.state("cli-second"), "NOT_STARTED")
        self.assertCliOk(self.cli("START", "cli-second", instance_id="second",
                                  access_key=OTHER_KEY, secret_key=OTHER_SECRET))
        self.assertEqual(self.server.state("cli-second"), "RECORDING")
        self.assertEqual(self.trail("cli-second")[-1], ("START", OTHER_KEY, "OK"))

    # ---- refusals -------------------------------------------------------------------

    def test_pause_before_start_is_refused(self):
        self.server.create_contact("cli-early")
        result = self.cli("PAUSE", "cli-early")
        self.assertCliError(result, "InvalidRequestException", "NOT_STARTED")
        self.assertEqual(self.server.state("cli-early"), "NOT_STARTED")
        self.assertEqual(self.trail("cli-early")[-1],
                         ("PAUSE", ACCESS_KEY, "InvalidRequestException"))

    def test_start_while_paused_is_refused(self):
        self.server.create_contact("cli-paused")
        self.setup_op("START", "cli-paused")
        self.setup_op("PAUSE", "cli-paused")
        result = self.cli("START", "cli-paused")
        self.assertCliError(result, "InvalidRequestException", "PAUSED")
        self.assertEqual(self.server.state("cli-paused"), "PAUSED")
        self.assertEqual(self.trail("cli-paused")[1:], [
            ("START", ACCESS_KEY, "OK"), ("PAUSE", ACCESS_KEY, "OK"),
            ("START", ACCESS_KEY, "InvalidRequestException")])

    def test_start_and_resume_after_stop_are_refused(self):
        self.server.create_contact("cli-stopped")
        self.setup_op("START", "cli-stopped")
        self.setup_op("STOP", "cli-stopped")
        for operation in ("START", "RESUME"):
            with self.subTest(operation=operation):
                result = self.cli(operation, "cli-stopped")
                self.assertCliError(result, "InvalidRequestException", "STOPPED")
                self.assertEqual(self.server.state("cli-stopped"), "STOPPED")
        trail = self.server.get_contact("cli-stopped")["AuditTrail"]
        self.assertEqual([(e["Operation"], e["Principal"], e["Result"]) for e in trail[-2:]], [
            ("START", ACCESS_KEY, "InvalidRequestException"),
            ("RESUME", ACCESS_KEY, "InvalidRequestException")])
        # The refusal's message is kept on the trail.
        self.assertIn("STOPPED", trail[-1]["Detail"])

    def test_unknown_contact(self):
        result = self.cli("START", "cli-no-such-contact")
        self.assertCliError(result, "ResourceNotFoundException", "cli-no-such-contact")
        self.assertEqual(self.server.v1("GET", "/v1/contacts/cli-no-such-contact").status, 404)

    def test_unknown_instance(self):
        self.server.create_contact("cli-inst")
        result = self.cli("START", "cli-inst", instance_id="no-such-instance")
        self.assertCliError(result, "ResourceNotFoundException")
        self.assertEqual(self.server.state("cli-inst"), "NOT_STARTED")

    def test_mismatched_initial_contact_id(self):
        self.server.create_contact("cli-transfer", initial_contact_id="cli-first-leg")
        result = self.cli("START", "cli-transfer", initial_contact_id="cli-other-leg")
        self.assertCliError(result, "InvalidParameterException", "cli-other-leg")
        self.assertEqual(self.server.state("cli-transfer"), "NOT_STARTED")
        self.assertEqual(self.trail("cli-transfer")[-1],
                         ("START", ACCESS_KEY, "InvalidParameterException"))
        # With the right InitialContactId the same contact starts.
        self.assertCliOk(self.cli("START", "cli-transfer", initial_contact_id="cli-first-leg"))
        self.assertEqual(self.server.state("cli-transfer"), "RECORDING")

    def test_wrong_secret(self):
        self.server.create_contact("cli-badsig")
        before = self.trail("cli-badsig")
        result = self.cli("START", "cli-badsig", secret_key="NOT-THE-SECRET")
        self.assertCliError(result, "InvalidSignatureException")
        self.assertEqual(self.server.state("cli-badsig"), "NOT_STARTED")
        # An unauthenticated request leaves no trace attributed to the key it named.
        self.assertEqual(self.trail("cli-badsig"), before)

    def test_unknown_access_key(self):
        self.server.create_contact("cli-badkey")
        result = self.cli("START", "cli-badkey", access_key="AKIDUNKNOWN",
                          secret_key=SECRET_KEY)
        self.assertCliError(result, "UnrecognizedClientException")
        self.assertEqual(self.server.state("cli-badkey"), "NOT_STARTED")
        self.assertEqual(len(self.trail("cli-badkey")), 1)


if __name__ == "__main__":
    unittest.main()
