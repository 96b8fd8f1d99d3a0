"""GET /metrics read by a real Prometheus parser (Debian's python3-prometheus-client,
run with Debian's /usr/bin/python3, where that package lives): after a SIPREC call
recorded by callrec-callgen, Connect operations and a refused request, every metric
family the server exposes has a HELP and a TYPE line, is declared once, and its
samples are what its type says (counters end in _total, histograms have their +Inf
bucket, _sum and _count). The families are the ones the server has always served (a
server without S3 uploads: those of an uploader are test_s3's and test_s3_faults'), in name order."""

import json
import subprocess
import unittest

import test_callgen
from harness import ServerTestCase  # noqa: F401 (the base the case runs on)

# Parses Prometheus text from stdin with prometheus_client's own parser and
# prints the families as JSON.
PARSER = r"""
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for family in text_string_to_metric_families(sys.stdin.read()):
    out.append({"name": family.name, "type": family.type, "help": family.documentation,
                "samples": [[s.name, s.labels, s.value] for s in family.samples]})
print(json.dumps(out))
"""


# Every family a server without --recordings-store s3:// serves, as its TYPE lines name it.
# A family renamed or lost breaks dashboards and alerts: change this list only on purpose.
EXPECTED_FAMILIES = {
    "callrec_auth_failures_total", "callrec_contacts", "callrec_contacts_in_memory",
    "callrec_contacts_refused_total", "callrec_data_dir_available_bytes",
    "callrec_dtmf_policy_pauses", "callrec_dtmf_policy_resumes_total",
    "callrec_guides_in_memory", "callrec_handler_exceptions_total", "callrec_http_requests_total",
    "callrec_media_late_ticks_total",
    "callrec_media_receive_info",
    "callrec_pauses_overdue_total", "callrec_recording_dropped_frames_total",
    "callrec_recording_operation_seconds", "callrec_recording_operations_total",
    "callrec_recording_reads_audited_total", "callrec_recording_write_errors_total",
    "callrec_recordings_expired_total", "callrec_replay_cache_entries",
    "callrec_rtp_foreign_packets_total", "callrec_rtp_free_ports",
    "callrec_rtp_invalid_packets_total", "callrec_sip_stalled_connections_closed_total",
    "callrec_sip_tls_connections_freed_total", "callrec_siprec_refused_total",
    "callrec_siprec_reoffers_total", "callrec_siprec_sessions", "callrec_siprec_sessions_total",
    "callrec_srtp_packets_refused_total", "callrec_storage_failing",
    "callrec_store_commit_seconds_total", "callrec_store_commits_total",
    "callrec_store_queue_depth", "callrec_store_read_errors_total",
    "callrec_store_sync_seconds_total", "callrec_store_syncs_total",
    "callrec_store_write_failures_total", "callrec_store_writes_total",
}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def prometheus_parse(text):
    proc = subprocess.run(["/usr/bin/python3", "-c", PARSER], input=text, capture_output=True,
                          text=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("prometheus_client refused /metrics:\n%s" % proc.stderr)
    return json.loads(proc.stdout)


class MetricsExpositionTest(test_callgen.CallgenCase):
    rtp_ports = (test_callgen.RTP_BASE + 2300, test_callgen.RTP_BASE + 2319)

    def test_every_family_is_declared_once_and_typed(self):
        report = self.callgen("--contact-id", "metrics-1", "--duration", "1")
        self.assertEqual(report["failed_sessions"], 0, report)
        self.assertEqual(self.server.connect_call("PAUSE", "metrics-1").status, 400)
        client = self.server.boto3_client(secret_key="wrong")
        with self.assertRaises(Exception):
            client.stop_contact_recording(InstanceId="local", ContactId="metrics-1",
                                          InitialContactId="metrics-1")
        text = self.server.metrics()
        families = prometheus_parse(text)
        self.assertGreater(len(families), 20, [f["name"] for f in families])

        declared = {}
        typed = []  # family names in the order of their TYPE lines
        sampled = set()
        for line in text.splitlines():
            if line.startswith("# TYPE ") or line.startswith("# HELP "):
                kind, name = line.split()[1], line.split()[2]
                self.assertNotIn((kind, name), declared, "%s declared twice" % name)
                declared[(kind, name)] = True
                if kind == "TYPE":
                    typed.append(name)
            elif line and not line.startswith("#"):
                sampled.add(line.split("{")[0].split(" ")[0])
        # Every family has both lines, and every sample belongs to a declared family.
        helped = {name for kind, name in declared if kind == "HELP"}
        self.assertEqual(helped, set(typed), "families without HELP or TYPE")
        for name in sampled:
            base = next((name[:-len(s)] for s in HISTOGRAM_SUFFIXES
                         if name.endswith(s) and name[:-len(s)] in helped), name)
            self.assertIn(base, helped, "%s has samples but no HELP/TYPE" % name)
        self.assertEqual(typed, sorted(typed), "families not in name order")
        self.assertEqual(set(typed), EXPECTED_FAMILIES,
                         "families gained: %s, lost: %s" % (set(typed) - EXPECTED_FAMILIES,
                                                            EXPECTED_FAMILIES - set(typed)))
        for family in families:
            name = family["name"]
            self.assertTrue(name.startswith("callrec_"), name)
            self.assertTrue(family["help"].strip(), "%s has no HELP" % name)
            self.assertNotEqual(family["type"], "unknown", "%s has no TYPE" % name)
            names = {s[0] for s in family["samples"]}
            if family["type"] == "counter":
                self.assertTrue(all(n in (name + "_total", name + "_created") for n in names),
                                "%s: %s" % (name, names))
            if family["type"] == "histogram":
                self.assertIn(name + "_sum", names)
                self.assertIn(name + "_count", names)
                self.assertTrue(any(s[1].get("le") == "+Inf" for s in family["samples"]), name)

        by_name = {f["name"]: f for f in families}
        for expected in ("callrec_recording_operations", "callrec_recording_operation_seconds",
                         "callrec_http_requests", "callrec_siprec_sessions",
                         "callrec_store_commits", "callrec_rtp_free_ports"):
            self.assertIn(expected, by_name)
        # What the call, the refused PAUSE and the bad signature must have moved.
        ops = by_name["callrec_recording_operations"]["samples"]
        self.assertTrue(any(s[1].get("operation") == "PAUSE" and s[2] >= 1 for s in ops), ops)
        auth = by_name["callrec_auth_failures"]["samples"]
        self.assertTrue(any(s[2] >= 1 for s in auth), auth)


if __name__ == "__main__":
    unittest.main()
