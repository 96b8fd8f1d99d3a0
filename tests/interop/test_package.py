"""The Debian package (`make deb`, CPack): built from this build tree, unpacked
into a scratch root (dpkg-deb -x), checked (files, conffiles, dependencies,
postinst, the systemd unit with systemd-analyze verify), and the *installed*
server run against a smoke test: it serves the workspace pages and runs the
guide flow from share/callrec beside its binary (the scratch root's copies are
marked, so the source tree's cannot pass for them), records through the
Connect API (boto3) and /v1."""

import glob
import os
import shutil
import subprocess
import tempfile

from harness import BUILD_DIR, SERVER_BIN, ServerTestCase, http_call

RTP_BASE = int(os.environ.get("CALLREC_TEST_RTP_BASE", "31000"))
UNIT = "usr/lib/systemd/system/callrec-server.service"


class PackageTest(ServerTestCase):
    rtp_ports = (RTP_BASE + 1880, RTP_BASE + 1899)

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(SERVER_BIN):
            raise unittest_skip("no %s" % SERVER_BIN)
        cls.tmp = tempfile.mkdtemp(prefix="callrec-package-")
        built = subprocess.run(
            ["cpack", "-G", "DEB", "--config", os.path.join(BUILD_DIR, "CPackConfig.cmake"),
             "-B", cls.tmp], capture_output=True, text=True, timeout=600)
        if built.returncode != 0:
            raise AssertionError("cpack failed:\n" + built.stdout + built.stderr)
        debs = glob.glob(os.path.join(cls.tmp, "callrec_*.deb"))
        if len(debs) != 1:
            raise AssertionError("expected one .deb in %s: %s" % (cls.tmp, debs))
        cls.deb = debs[0]
        cls.root = os.path.join(cls.tmp, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        return subprocess.run(["dpkg-deb", "-f", self.deb, name], capture_output=True,
                              text=True, check=True).stdout.strip()

    def test_the_package_holds_what_a_service_needs(self):
        for path in ("usr/bin/callrec-server", "usr/bin/callrec", "usr/bin/callrec-callgen",
                     "usr/share/callrec/web/index.html", "usr/share/callrec/web/recordings.html",
                     "usr/share/callrec/flows/agent-recording-guide.json",
                     "usr/share/callrec/flows/inbound-recording.json",
                     "etc/callrec/callrec-server.toml", UNIT,
                     "usr/share/doc/callrec/callrec-server.example.toml",
                     "usr/share/doc/callrec/README.md", "usr/share/doc/callrec/docs/flags.md",
                     "usr/share/doc/callrec/examples/kamailio/kamailio.cfg",
                     "usr/share/doc/callrec/examples/haproxy/haproxy.cfg"):
            self.assertTrue(os.path.exists(os.path.join(self.root, path)), path)
        self.assertEqual(self.field("Package"), "callrec")
        depends = self.field("Depends")
        for library in ("libsofia-sip-ua0", "libsrtp2-1", "libsqlite3-0", "libssl3", "adduser"):
            self.assertIn(library, depends)
        control = os.path.join(self.tmp, "control")
        subprocess.run(["dpkg-deb", "-e", self.deb, control], check=True)
        with open(os.path.join(control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/callrec/callrec-server.toml"])
        postinst = os.path.join(control, "postinst")
        self.assertTrue(os.access(postinst, os.X_OK))
        self.assertEqual(subprocess.run(["sh", "-n", postinst]).returncode, 0)
        # Stripped: an installed server carries no debug sections.
        sections = subprocess.run(["readelf", "-S", os.path.join(self.root,
                                                                  "usr/bin/callrec-server")],
                                  capture_output=True, text=True, check=True).stdout
        self.assertNotIn(".debug_info", sections)

    def test_the_unit_is_hardened_and_verifies(self):
        with open(os.path.join(self.root, UNIT)) as f:
            unit = f.read()
        for line in ("User=callrec", "ProtectSystem=strict", "ReadWritePaths=/var/lib/callrec",
                     "NoNewPrivileges=yes", "CapabilityBoundingSet=\n",
                     "ExecStart=/usr/bin/callrec-server --config /etc/callrec/callrec-server.toml"):
            self.assertIn(line, unit)
        self.assertNotIn("AmbientCapabilities", unit, "the default ports need no capability")
        # The units it names (sysinit.target, ...) are the system's: copied in
        # beside the package's own, which stays as packaged.
        units = os.path.join(self.root, "usr", "lib", "systemd", "system")
        for name in os.listdir("/usr/lib/systemd/system"):
            source = os.path.join("/usr/lib/systemd/system", name)
            if not os.path.exists(os.path.join(units, name)) and not os.path.isdir(source):
                shutil.copy(source, units, follow_symlinks=False)
        verified = subprocess.run(["systemd-analyze", "verify", "--root", self.root,
                                   "/" + UNIT], capture_output=True, text=True)
        self.assertEqual(verified.returncode, 0, verified.stdout + verified.stderr)
        self.assertEqual(verified.stderr.strip(), "", verified.stderr)

    def test_the_installed_server_runs_from_its_own_files(self):
        share = os.path.join(self.root, "usr", "share", "callrec")
        with open(os.path.join(share, "web", "index.html"), "a") as f:
            f.write("\n<!-- installed-copy-marker -->\n")
        flow_path = os.path.join(share, "flows", "agent-recording-guide.json")
        with open(flow_path) as f:
            flow = f.read()
        self.assertIn("Manage Call Recording", flow)
        with open(flow_path, "w") as f:
            f.write(flow.replace("Manage Call Recording", "Installed Guide Marker"))
        binary = os.path.join(self.root, "usr", "bin", "callrec-server")
        server = self.new_server(binary=binary, name="package", extra_args=[
            "--config", os.path.join(self.root, "etc", "callrec", "callrec-server.toml"),
            "--rtp-ports", "%d-%d" % self.rtp_ports, "--agent-token", "ann:ann-package-token"])
        page = http_call(server.port, "GET", "/", b"", [])
        self.assertEqual(page.status, 200)
        self.assertIn(b"installed-copy-marker", page.body)
        server.create_contact("pkg-1", agent_id="ann")
        guide = http_call(server.port, "GET", "/v1/contacts/pkg-1/guide", b"",
                          [("Authorization", "Bearer ann-package-token")])
        self.assertEqual(guide.status, 200, guide.text)
        self.assertIn("Installed Guide Marker", guide.text)
        client = server.boto3_client()
        client.start_contact_recording(InstanceId="local", ContactId="pkg-1",
                                       InitialContactId="pkg-1",
                                       VoiceRecordingConfiguration={"VoiceRecordingTrack": "ALL"})
        self.assertEqual(server.state("pkg-1"), "RECORDING")
        client.stop_contact_recording(InstanceId="local", ContactId="pkg-1",
                                      InitialContactId="pkg-1")
        self.assertEqual(server.state("pkg-1"), "STOPPED")


def unittest_skip(reason):
    import unittest
    return unittest.SkipTest(reason)
