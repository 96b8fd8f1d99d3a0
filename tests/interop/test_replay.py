"""A SigV4 signature changes the recording once: a signed request captured on
the path and sent again 5 s or more after its X-Amz-Date is refused (403
AccessDeniedException, "already used") when it would change anything, e.g. a
RESUME replayed during a pause; a repeat that changes nothing is still the
idempotent 200 clients rely on, and so is any repeat within 5 s of its date
(botocore signs the same request in the same second identically). A fresh signature for
the same operation works; an old capture (past the 5-minute skew) is stale, and
an unknown key is refused. Real peers: botocore's SigV4Auth for the captured
request, boto3, the AWS CLI and the `callrec` CLI.

Nothing here talks to anything but 127.0.0.1.
"""

import datetime
import os
import subprocess
import time
import unittest

from harness import (ACCESS_KEY, CONNECT_PATHS, ServerTestCase, boto3_recording_op,
                     http_call, metric, parse_metrics, utcnow)

REPLAY_REFUSED = (403, "AccessDeniedException", "already used")


def body_for(contact_id):
    return {"InstanceId": "local", "ContactId": contact_id, "InitialContactId": contact_id}


class ReplayTest(ServerTestCase):

    def capture(self, operation, contact_id, **sign_kwargs):
        """A request signed by botocore, as someone on the path would record it: the
        exact bytes, to be sent as often as one likes. Dated 10 s ago unless `when`
        says otherwise: a signature may come again within 5 s of its date (an SDK's
        same-second repeat), a replay comes later."""
        sign_kwargs.setdefault("when", utcnow() - datetime.timedelta(seconds=10))
        body, headers = self.server.sign(CONNECT_PATHS[operation], body_for(contact_id),
                                         unique=False, **sign_kwargs)
        return CONNECT_PATHS[operation], body, headers

    def send(self, captured):
        path, body, headers = captured
        return http_call(self.server.port, "POST", path, body, headers)

    def wait_for_next_second(self):
        """X-Amz-Date has 1-second resolution: the same request signed again within
        the same second is the same signature."""
        time.sleep(1.05 - (time.time() % 1.0))

    def test_replayed_resume_during_a_pause_is_refused(self):
        self.server.create_contact("rp-resume")
        client = self.server.boto3_client()
        boto3_recording_op(client, "START", "rp-resume")
        boto3_recording_op(client, "PAUSE", "rp-resume")
        resume = self.capture("RESUME", "rp-resume")
        self.assertEqual(self.send(resume).status, 200)
        self.assertEqual(self.server.state("rp-resume"), "RECORDING")
        # A repeat that changes nothing is still the idempotent 200.
        self.assertEqual(self.send(resume).status, 200)
        # The agent pauses again (the card number is being read) ...
        self.wait_for_next_second()  # boto3 would sign this PAUSE as the first one
        boto3_recording_op(client, "PAUSE", "rp-resume")
        before = self.trail("rp-resume")
        # ... and the captured RESUME comes back, at once and a bit later.
        for _ in range(2):
            self.assertAwsError(self.send(resume), *REPLAY_REFUSED)
            self.assertEqual(self.server.state("rp-resume"), "PAUSED")
            time.sleep(1.1)
        # Audited as refused, twice, under the key that signed it.
        self.assertEqual(self.trail("rp-resume")[len(before):],
                         [("RESUME", ACCESS_KEY, "AccessDeniedException")] * 2)
        # The real client signs afresh and is served.
        self.wait_for_next_second()
        reply = self.send(self.capture("RESUME", "rp-resume"))
        self.assertEqual(reply.status, 200, repr(reply))
        self.assertEqual(self.server.state("rp-resume"), "RECORDING")

    def test_replay_is_refused_even_if_the_first_answer_was_an_error(self):
        self.server.create_contact("rp-error")
        # RESUME before START: refused by the state machine, but the signature is spent.
        resume = self.capture("RESUME", "rp-error")
        self.assertAwsError(self.send(resume), 400, "InvalidRequestException")
        boto3_recording_op(self.server.boto3_client(), "START", "rp-error")
        boto3_recording_op(self.server.boto3_client(), "PAUSE", "rp-error")
        self.assertAwsError(self.send(resume), *REPLAY_REFUSED)
        self.assertEqual(self.server.state("rp-error"), "PAUSED")

    def test_old_capture_within_the_skew_is_accepted_once(self):
        self.server.create_contact("rp-old")
        boto3_recording_op(self.server.boto3_client(), "START", "rp-old")
        pause = self.capture("PAUSE", "rp-old", when=utcnow() - datetime.timedelta(minutes=4))
        self.assertEqual(self.send(pause).status, 200)
        boto3_recording_op(self.server.boto3_client(), "RESUME", "rp-old")
        self.assertAwsError(self.send(pause), *REPLAY_REFUSED)
        self.assertEqual(self.server.state("rp-old"), "RECORDING")

    def test_stale_capture_is_refused(self):
        self.server.create_contact("rp-stale")
        boto3_recording_op(self.server.boto3_client(), "START", "rp-stale")
        for minutes in (6, -6):
            with self.subTest(minutes=minutes):
                stale = self.capture("PAUSE", "rp-stale",
                                     when=utcnow() - datetime.timedelta(minutes=minutes))
                self.assertAwsError(self.send(stale), 403, "InvalidSignatureException", "expired")
        self.assertEqual(self.server.state("rp-stale"), "RECORDING")

    def test_unknown_key_is_refused_and_not_remembered(self):
        self.server.create_contact("rp-key")
        unknown = self.capture("START", "rp-key", access_key="AKIDNOBODY")
        for _ in range(2):
            self.assertAwsError(self.send(unknown), 403, "UnrecognizedClientException")
        wrong_secret = self.capture("START", "rp-key", secret_key="WRONG")
        for _ in range(2):
            self.assertAwsError(self.send(wrong_secret), 403, "InvalidSignatureException",
                                "does not match")
        self.assertEqual(self.server.state("rp-key"), "NOT_STARTED")

    def test_same_second_repeat_is_taken_and_a_later_one_refused(self):
        """botocore signs the same request in the same second identically, so PAUSE,
        RESUME, PAUSE within a second carries the first PAUSE's signature again: taken
        while the signature is under 5 s old, refused as a replay afterwards."""
        self.server.create_contact("rp-second")
        boto3_recording_op(self.server.boto3_client(), "START", "rp-second")
        when = utcnow().replace(microsecond=0)
        first = self.capture("PAUSE", "rp-second", when=when)
        second = self.capture("PAUSE", "rp-second", when=when + datetime.timedelta(seconds=0.5))
        self.assertEqual(dict(first[2])["Authorization"], dict(second[2])["Authorization"])
        self.assertEqual(self.send(first).status, 200)
        resume = self.capture("RESUME", "rp-second", when=when)
        self.assertEqual(self.send(resume).status, 200)
        self.assertEqual(self.send(second).status, 200)
        self.assertEqual(self.server.state("rp-second"), "PAUSED")
        # 5 s after its date the same RESUME is a replay.
        time.sleep(max(0.0, 5.2 - (utcnow() - when).total_seconds()))
        self.assertAwsError(self.send(resume), *REPLAY_REFUSED)
        self.assertEqual(self.server.state("rp-second"), "PAUSED")
        # Any signed header that differs (as `callrec` and callrec-lambda sign) makes it new.
        third = self.capture("RESUME", "rp-second", when=when,
                             headers={"amz-sdk-invocation-id": "another"})
        self.assertEqual(self.send(third).status, 200)
        self.assertEqual(self.server.state("rp-second"), "RECORDING")

    def test_idempotent_repeats_from_real_clients_still_succeed(self):
        """boto3 and the AWS CLI sign the same request in the same second
        identically (botocore does not sign amz-sdk-invocation-id); `callrec` signs
        a unique one. Repeats change nothing, so all are served."""
        self.server.create_contact("rp-clients")
        client = self.server.boto3_client()
        boto3_recording_op(client, "START", "rp-clients")
        for _ in range(5):
            reply = boto3_recording_op(client, "PAUSE", "rp-clients")
            self.assertEqual(reply["ResponseMetadata"]["HTTPStatusCode"], 200)
        for _ in range(2):
            result = self.server.aws_cli(
                "connect", "resume-contact-recording", "--instance-id", "local",
                "--contact-id", "rp-clients", "--initial-contact-id", "rp-clients")
            self.assertEqual(result.returncode, 0, result.stderr)
        for _ in range(3):
            result = self.server.callrec_cli("pause", "rp-clients")
            self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.server.state("rp-clients"), "PAUSED")
        metrics = parse_metrics(self.server.metrics())
        self.assertGreaterEqual(metric(metrics, "callrec_replay_cache_entries"), 5)

    def test_aws_cli_does_not_retry_a_refused_signature(self):
        """A 403 is final for the AWS CLI, retries enabled (no retry that could be
        refused again)."""
        self.server.create_contact("rp-cli-403")
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDNOBODY", AWS_SECRET_ACCESS_KEY="x",
                   AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="5",
                   AWS_RETRY_MODE="standard", AWS_PAGER="")
        result = subprocess.run(
            ["aws", "connect", "start-contact-recording", "--instance-id", "local",
             "--contact-id", "rp-cli-403", "--initial-contact-id", "rp-cli-403",
             "--voice-recording-configuration", "VoiceRecordingTrack=ALL",
             "--endpoint-url", self.server.url], env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("UnrecognizedClientException", result.stderr)
        metrics = parse_metrics(self.server.metrics())
        self.assertEqual(metric(metrics, "callrec_auth_failures_total",
                                type="UnrecognizedClientException"), 1)
        self.assertEqual(self.server.state("rp-cli-403"), "NOT_STARTED")


class ReplayCacheFullTest(ServerTestCase):
    """--replay-cache-entries: when that many signatures are live, new ones are
    throttled (429), never forgotten early: replays are still recognised."""

    server_kwargs = {"extra_args": ["--replay-cache-entries", "1000"]}

    def test_full_cache_throttles_and_still_refuses_replays(self):
        self.server.create_contact("rp-full")
        boto3_recording_op(self.server.boto3_client(), "START", "rp-full")
        self.assertEqual(self.send(self.capture_unique("PAUSE", "first")).status, 200)
        resume = self.capture_unique("RESUME", "first")
        self.assertEqual(self.send(resume).status, 200)
        statuses = {}
        for i in range(1300):
            captured = self.capture_unique("PAUSE", i)
            reply = self.send(captured)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
            if reply.status == 429:
                self.assertEqual(reply.error_type, "ThrottlingException")
            elif reply.status != 200:  # PAUSE on a paused contact is a 200 too
                self.fail(repr(reply))
        self.assertGreater(statuses.get(429, 0), 200, statuses)
        self.assertGreater(statuses.get(200, 0), 900, statuses)
        self.assertLessEqual(statuses.get(200, 0), 1024, statuses)
        # The contact is paused: the early RESUME, replayed, is still known.
        self.assertAwsError(self.send(resume), *REPLAY_REFUSED)
        self.assertEqual(self.server.state("rp-full"), "PAUSED")
        self.assertTrue(self.server.running)

    def capture_unique(self, operation, n):
        # Dated 10 s ago, so that sending it again is a replay (see ReplayTest.capture).
        body, headers = self.server.sign(CONNECT_PATHS[operation], body_for("rp-full"),
                                         headers={"amz-sdk-invocation-id": "n-%s" % n},
                                         when=utcnow() - datetime.timedelta(seconds=10))
        return CONNECT_PATHS[operation], body, headers

    def send(self, captured):
        path, body, headers = captured
        return http_call(self.server.port, "POST", path, body, headers)


if __name__ == "__main__":
    unittest.main()
