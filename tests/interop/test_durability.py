"""What the server acknowledged survives a restart, a SIGTERM and a SIGKILL."""

import collections
import itertools
import random
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from harness import ACCESS_KEY, ServerTestCase

METHODS = {
    "START": "start_contact_recording",
    "PAUSE": "suspend_contact_recording",
    "RESUME": "resume_contact_recording",
    "STOP": "stop_contact_recording",
}
# What PAUSE and RESUME lead to for a started contact whose agent has joined.
AFTER = {"PAUSE": "PAUSED", "RESUME": "RECORDING"}


def boto3_op(client, operation, contact_id, track="ALL"):
    params = {"InstanceId": "local", "ContactId": contact_id, "InitialContactId": contact_id}
    if operation == "START":
        params["VoiceRecordingConfiguration"] = {"VoiceRecordingTrack": track}
    return getattr(client, METHODS[operation])(**params)


def durable(contact):
    # Timing is the running process's clock of a live contact (what it saw
    # recorded since it started), like Rtp and Recording.
    return {k: v for k, v in contact.items() if k not in ("Rtp", "Recording", "Timing")}


# Media dies with the process: a restart ends the contacts whose recording had
# begun (END by `server`, "server restart"; control/AfterRestart.hpp). What was
# acknowledged stays: RecordingState, and the trail up to that END.
ENDED_BY_RESTART = ("RECORDING", "PAUSED")


def restarted(contact):
    """`contact` (durable fields) as a restart leaves it, minus UpdatedAt and the
    restart's END line, which the caller checks."""
    out = dict(contact)
    if contact["State"] in ENDED_BY_RESTART:
        out["State"] = "ENDED"
        out.pop("UpdatedAt")
    return out


def without_restart_end(case, contact, before_state):
    """The contact minus what the restart added, after checking it added it."""
    out = dict(contact)
    if before_state in ENDED_BY_RESTART:
        last = out["AuditTrail"][-1]
        case.assertEqual((last["Operation"], last["Principal"], last["Result"]),
                         ("END", "server", "OK"), out["ContactId"])
        case.assertIn("server restart", last["Detail"])
        out["AuditTrail"] = out["AuditTrail"][:-1]
        out.pop("UpdatedAt")
    return out


class RestartTest(ServerTestCase):

    def op(self, operation, contact_id, expect=200, **kwargs):
        reply = self.server.connect_call(operation, contact_id, **kwargs)
        self.assertEqual(reply.status, expect, repr(reply))

    def build_states(self):
        """Contacts in every state, with refusals on their trails; returns their ids."""
        s = self.server
        s.create_contact("r-new", agent_id="a1")
        s.create_contact("r-rec", agent_id="a1")
        self.op("START", "r-rec", track="TO_AGENT")
        self.op("START", "r-rec", track="ALL")
        s.create_contact("r-paused", agent_id="a2", initial_contact_id="r-root")
        self.op("START", "r-paused", initial_contact_id="r-root", track="FROM_AGENT")
        self.op("PAUSE", "r-paused", initial_contact_id="r-root")
        self.op("PAUSE", "r-paused", initial_contact_id="r-other", expect=400)
        s.create_contact("r-stopped", agent_id="a2", codec="PCMA")
        self.op("START", "r-stopped")
        self.op("STOP", "r-stopped")
        self.op("START", "r-stopped", expect=400)
        s.create_contact("r-wait", agent_id="a3", agent_joined=False)
        self.op("START", "r-wait")
        s.create_contact("r-joined", agent_id="a3", agent_joined=False)
        self.op("START", "r-joined")
        self.assertEqual(s.v1("POST", "/v1/contacts/r-joined/agent-joined").status, 200)
        s.create_contact("r-ended", agent_id="a4")
        self.op("START", "r-ended")
        self.op("PAUSE", "r-ended")
        self.assertEqual(s.v1("POST", "/v1/contacts/r-ended/end").status, 200)
        self.op("RESUME", "r-ended", expect=400)
        expected = {"r-new": "NOT_STARTED", "r-rec": "RECORDING", "r-paused": "PAUSED",
                    "r-stopped": "STOPPED", "r-wait": "WAITING_FOR_AGENT",
                    "r-joined": "RECORDING", "r-ended": "ENDED"}
        for contact_id, state in expected.items():
            self.assertEqual(s.state(contact_id), state, contact_id)
        return sorted(expected)

    def snapshot(self, ids):
        # Durable state only: RTP sockets and live recording counters belong to
        # the running process and do not survive it.
        return ({i: durable(self.server.get_contact(i)) for i in ids},
                sorted((durable(c) for c in self.server.list_contacts()),
                       key=lambda c: c["ContactId"]))

    def check_after_restart(self, before, ids):
        after = self.snapshot(ids)
        for contact_id in ids:
            was = before[0][contact_id]["State"]
            self.assertEqual(without_restart_end(self, after[0][contact_id], was),
                             restarted(before[0][contact_id]), contact_id)
        self.assertEqual([c if c["State"] != "ENDED" else {**c, "UpdatedAt": None}
                          for c in after[1]],
                         [{**restarted(c), "UpdatedAt": None} if c["State"] in ENDED_BY_RESTART
                          or c["State"] == "ENDED" else c for c in before[1]])
        # The restarted server carries on from there: what was recording ended,
        # what was waiting goes on.
        self.op("RESUME", "r-paused", initial_contact_id="r-root", expect=400)
        self.assertEqual(self.server.get_contact("r-paused")["RecordingState"], "PAUSED")
        self.op("START", "r-stopped", expect=400)
        self.op("PAUSE", "r-new", expect=400)
        self.assertEqual(self.server.v1("POST", "/v1/contacts/r-wait/agent-joined").status, 200)
        self.assertEqual(self.server.state("r-wait"), "RECORDING")
        contact = self.server.get_contact("r-ended")
        self.assertEqual((contact["State"], contact["RecordingState"], contact["Track"]),
                         ("ENDED", "PAUSED", "ALL"))

    def test_sigterm_restart_keeps_states_and_trails(self):
        ids = self.build_states()
        before = self.snapshot(ids)
        self.assertEqual(before[0]["r-paused"]["AuditTrail"][-1]["Result"],
                         "InvalidParameterException")
        self.assertEqual(self.server.stop(), 0, "SIGTERM should end the server cleanly")
        self.server.start()
        self.check_after_restart(before, ids)

    def test_sigkill_when_idle_keeps_everything_acknowledged(self):
        ids = self.build_states()
        before = self.snapshot(ids)
        self.server.kill9()
        self.server.start()
        self.check_after_restart(before, ids)

    def test_two_restarts(self):
        ids = self.build_states()
        before = self.snapshot(ids)
        self.assertEqual(self.server.stop(), 0)
        self.server.start()
        once = self.snapshot(ids)
        for contact_id in ids:
            was = before[0][contact_id]["State"]
            self.assertEqual(without_restart_end(self, once[0][contact_id], was),
                             restarted(before[0][contact_id]), contact_id)
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.snapshot(ids), once, "a second restart changes nothing more")


class ConcurrencyTest(ServerTestCase):

    def test_concurrent_operations_on_one_contact_are_serialised(self):
        # Many clients on one contact: the trail is one consistent history whose
        # results and details follow from the operations in the order written.
        self.server.create_contact("conc")
        client = self.server.boto3_client()
        boto3_op(client, "START", "conc")
        clients = [self.server.boto3_client() for _ in range(6)]
        acked = collections.Counter()
        lock = threading.Lock()

        def worker(index):
            rng = random.Random(index)
            for _ in range(40):
                operation = rng.choice(("PAUSE", "RESUME"))
                response = boto3_op(clients[index], operation, "conc")
                self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 200)
                with lock:
                    acked[operation] += 1

        with ThreadPoolExecutor(6) as pool:
            list(pool.map(worker, range(6)))

        def check():
            contact = self.server.get_contact("conc")
            trail = contact["AuditTrail"][2:]
            self.assertEqual(len(trail), 240)
            self.assertEqual(collections.Counter(e["Operation"] for e in trail), acked)
            state = "RECORDING"
            for i, entry in enumerate(trail):
                new_state = AFTER[entry["Operation"]]
                expected = "OK" if new_state != state else "UNCHANGED"
                self.assertEqual((entry["Result"], entry["Detail"]), (expected, new_state),
                                 "entry %d of %s" % (i, [(e["Operation"], e["Result"])
                                                         for e in trail[max(0, i - 3):i + 1]]))
                state = new_state
            self.assertEqual(contact["State"], state)
            return contact

        before = durable(check())
        self.server.kill9()
        self.server.start()
        after = durable(self.server.get_contact("conc"))
        self.assertEqual(after["RecordingState"], before["State"])
        self.assertEqual(without_restart_end(self, after, before["State"]), restarted(before))

    def test_second_server_on_the_same_data_dir_is_refused(self):
        self.server.create_contact("lock-c")
        intruder = self.new_server(start=False)
        intruder.data_dir = self.server.data_dir
        with self.assertRaises(RuntimeError) as raised:
            intruder.start(timeout=5)
        self.assertIn("in use", str(raised.exception))
        self.assertEqual(self.server.state("lock-c"), "NOT_STARTED")
        self.assertTrue(self.server.running)


class Burst:
    """PAUSE/RESUME from several threads, each with its own boto3 client (no retries)
    and its own contacts, so each contact's operations are sequential and ordered."""

    def __init__(self, server, contact_ids, threads, seed):
        self.server = server
        self.contact_ids = contact_ids
        self.threads = threads
        self.rng_seed = seed
        self.seq = itertools.count()
        self.lock = threading.Lock()
        self.events = []  # dicts: contact, op, seq, outcome (acked / refused / failed)
        self.stop_flag = threading.Event()
        self.workers = []
        self.clients = [server.boto3_client() for _ in range(threads)]
        self.killed_at = None

    def record(self, event):
        with self.lock:
            self.events.append(event)

    def worker(self, index):
        rng = random.Random(self.rng_seed * 1000 + index)
        mine = self.contact_ids[index::self.threads]
        client = self.clients[index]
        deadline = time.monotonic() + 30
        while not self.stop_flag.is_set() and time.monotonic() < deadline:
            contact_id = rng.choice(mine)
            operation = rng.choice(("PAUSE", "RESUME"))
            event = {"contact": contact_id, "op": operation, "seq": next(self.seq),
                     "outcome": "sent", "thread": index}
            try:
                response = boto3_op(client, operation, contact_id)
            except ClientError as error:
                event["outcome"] = "refused"
                event["error"] = error.response.get("Error", {})
                event["status"] = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
                self.record(event)
                continue
            except Exception as error:  # connection refused/reset: the server is gone
                event["outcome"] = "failed"
                event["error"] = repr(error)
                event["at"] = time.monotonic()
                self.record(event)
                return
            status = response["ResponseMetadata"]["HTTPStatusCode"]
            event["outcome"] = "acked" if status == 200 else "refused"
            event["status"] = status
            self.record(event)

    def start(self):
        for i in range(self.threads):
            t = threading.Thread(target=self.worker, args=(i,), daemon=True)
            t.start()
            self.workers.append(t)

    def alive(self):
        return sum(t.is_alive() for t in self.workers)

    def join(self, timeout=60):
        """Waits for the workers; each ends at its first failed call (the server is
        gone), so none is told to stop and every one must have seen the failure."""
        for t in self.workers:
            t.join(timeout)
        return self.alive()

    def by_contact(self):
        out = collections.defaultdict(list)
        for event in sorted(self.events, key=lambda e: e["seq"]):
            out[event["contact"]].append(event)
        return out


class BurstTest(ServerTestCase):
    CONTACTS = 200
    THREADS = 8

    def prepare(self, count):
        ids = ["burst-%03d" % i for i in range(count)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: self.server.create_contact(i, agent_id="agent-%d" % (
                int(i[-3:]) % 5)), ids))
        clients = [self.server.boto3_client() for _ in range(8)]

        def start(args):
            index, contact_id = args
            response = boto3_op(clients[index % 8], "START", contact_id)
            self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 200)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(start, enumerate(ids)))
        self.assertEqual(len(self.server.list_contacts(State="RECORDING")), count)
        return ids

    def verify(self, burst, ids):
        """Every acknowledged operation is on the trail, in order, with the right result;
        the state is that of the last acknowledged operation, or of the one operation
        in flight after it."""
        events = burst.by_contact()
        refused = [e for e in burst.events if e["outcome"] == "refused"]
        self.assertEqual(refused, [], "PAUSE/RESUME on a started contact must not be refused")
        problems = []
        acked_total = 0
        possibly_applied = 0
        listed = {c["ContactId"]: c for c in self.server.list_contacts()}
        self.assertEqual(sorted(listed), ids, "contacts lost or invented by the restart")
        for contact_id in ids:
            contact_events = events.get(contact_id, [])
            acked = [e for e in contact_events if e["outcome"] == "acked"]
            unacked = [e for e in contact_events if e["outcome"] != "acked"]
            acked_total += len(acked)
            # One thread owns the contact and stops at its first failure: at most one
            # unacknowledged operation, and it is the contact's last.
            self.assertLessEqual(len(unacked), 1, (contact_id, unacked))
            if unacked:
                self.assertIs(contact_events[-1], unacked[0], contact_id)
                possibly_applied += 1

            # What the trail must say: START, then each acknowledged operation.
            expected = []
            state = "RECORDING"
            for e in acked:
                new_state = AFTER[e["op"]]
                expected.append((e["op"], ACCESS_KEY, "OK" if new_state != state else "UNCHANGED"))
                state = new_state
            allowed_states = {state}
            expected_with_inflight = None
            if unacked:
                op = unacked[0]["op"]
                allowed_states.add(AFTER[op])
                expected_with_inflight = expected + [
                    (op, ACCESS_KEY, "OK" if AFTER[op] != state else "UNCHANGED")]

            contact = self.server.get_contact(contact_id)
            trail = [(t["Operation"], t["Principal"], t["Result"]) for t in contact["AuditTrail"]]
            # Recording when the server went away: the restart ended the contact.
            if trail[-1:] != [("END", "server", "OK")] or contact["State"] != "ENDED":
                problems.append("%s: not ended by the restart: %s, trail ends %s"
                                % (contact_id, contact["State"], trail[-1:]))
                continue
            trail = trail[:-1]
            if trail[:2] != [("CREATE", "admin", "OK"), ("START", ACCESS_KEY, "OK")]:
                problems.append("%s: trail starts %s" % (contact_id, trail[:2]))
                continue
            operations = trail[2:]
            counted = sum(1 for t in operations if t[2] in ("OK", "UNCHANGED"))
            if counted < len(acked):
                problems.append("%s: %d acknowledged operations, %d on the trail"
                                % (contact_id, len(acked), counted))
            if operations != expected and operations != expected_with_inflight:
                problems.append("%s: trail %s, expected %s%s" % (
                    contact_id, operations, expected,
                    " or %s" % expected_with_inflight if expected_with_inflight else ""))
            if contact["RecordingState"] not in allowed_states:
                problems.append("%s: state %s after restart, expected one of %s (acked %s, "
                                "in flight %s)" % (contact_id, contact["RecordingState"],
                                                   sorted(allowed_states),
                                                   [e["op"] for e in acked][-3:],
                                                   [e["op"] for e in unacked]))
            if listed[contact_id]["State"] != contact["State"]:
                problems.append("%s: list says %s, get says %s"
                                % (contact_id, listed[contact_id]["State"], contact["State"]))
        if problems:
            self.fail("%d problem(s) after restart:\n%s"
                      % (len(problems), "\n".join(problems[:40])))
        return acked_total, possibly_applied

    def run_burst_and(self, ids, stop_server, seed, run_for=1.5):
        burst = Burst(self.server, ids, self.THREADS, seed)
        burst.start()
        time.sleep(run_for)
        alive = burst.alive()
        acked_before = sum(1 for e in list(burst.events) if e["outcome"] == "acked")
        stop_server()
        self.addCleanup(burst.stop_flag.set)
        still_alive = burst.join(timeout=60)
        self.assertEqual(still_alive, 0, "burst threads hang after the server went away")
        self.assertEqual(alive, self.THREADS,
                         "the burst ended before the server was stopped: %s"
                         % [e for e in burst.events if e["outcome"] != "acked"][:5])
        self.assertGreater(acked_before, 50, "too few operations to test anything")
        failed = [e for e in burst.events if e["outcome"] == "failed"]
        self.assertEqual(len(failed), self.THREADS,
                         "every thread should have seen the server go away")
        return burst

    def test_sigkill_during_burst(self):
        ids = self.prepare(self.CONTACTS)
        burst = self.run_burst_and(ids, self.server.kill9, seed=1)
        self.server.start()
        acked, in_flight = self.verify(burst, ids)
        self.assertGreater(acked, 50)
        # Still a working server afterwards.
        self.assertEqual(self.server.connect_call("STOP", ids[0]).status, 400, "ended")
        self.server.create_contact("after-burst")
        reply = self.server.connect_call("START", "after-burst")
        self.assertEqual(reply.status, 200, repr(reply))

    def test_sigterm_during_burst(self):
        ids = self.prepare(80)
        codes = []
        burst = self.run_burst_and(ids, lambda: codes.append(self.server.stop()), seed=2,
                                   run_for=1.0)
        self.assertEqual(codes, [0], "SIGTERM under load should end the server cleanly")
        self.server.start()
        self.verify(burst, ids)


if __name__ == "__main__":
    unittest.main()
