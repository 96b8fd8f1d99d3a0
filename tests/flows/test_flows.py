"""Checks the Amazon Connect flows in flows/ and the SAM template in deploy/
against the rules in flow_rules.py and template_rules.py. Pure standard library
(PyYAML is used when present). Run with:

    python3 -m unittest discover -s tests/flows -v

Every flows/*.json, and tests/fixtures/flows/console-export-guide.json, a guide
in the shape the Connect console exports ({"Id": "cards", "Version": "Latest"},
a real Lambda ARN, UUID identifiers, the console's Metadata), go through the
same checks; then the guide, the inbound flow and deploy/template.yaml.

Every validator returns a list of problems; SelfCheck feeds each one broken
copies and asserts they are rejected, so these tests can fail.
"""

import copy
import json
import re
import shutil
import subprocess
import unittest

from flow_rules import (CARDS_VIEW_ARN, EXPORT_BUTTONS, EXPORT_FIXTURE, FLOWS_DIR, GUIDE_FILE,
                        INBOUND_FILE, NEUTRAL_GREY, NOT_RECORDING_RED, PAUSED_AMBER,
                        RECORDING_ACTIONS, RECORDING_GREEN, TEMPLATE_PATH, DuplicateKey, by_id,
                        contrast_on_white, flow_files, is_cards_view, load_flow, parse_flow_text,
                        validate_flow, validate_guide, validate_inbound)
from template_rules import (connect_actions_by_regex, flow_contents_without_yaml, parse_template,
                            validate_template, yaml)

class Flows(unittest.TestCase):
    def test_there_are_the_two_flows(self):
        self.assertEqual(flow_files(), sorted([GUIDE_FILE, INBOUND_FILE]))

    def test_every_flow_is_valid(self):
        for name in flow_files():
            with self.subTest(flow=name):
                text = (FLOWS_DIR / name).read_text(encoding="utf-8")
                self.assertEqual(validate_flow(parse_flow_text(text), text), [])

    def test_guide(self):
        self.assertEqual(validate_guide(load_flow(GUIDE_FILE)), [])

    def test_inbound(self):
        self.assertEqual(validate_inbound(load_flow(INBOUND_FILE)), [])

    def test_guide_lambda_blocks_all_use_the_placeholder(self):
        guide = load_flow(GUIDE_FILE)
        arns = {a["Parameters"]["LambdaFunctionARN"] for a in guide["Actions"]
                if a["Type"] == "InvokeLambdaFunction"}
        self.assertEqual(arns, {"${CallRecordingLambdaArn}"})


def load_export():
    return parse_flow_text(EXPORT_FIXTURE.read_text(encoding="utf-8"))


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class ConsoleExport(unittest.TestCase):
    """A guide in the shape the Amazon Connect console exports (hand-written)."""

    def test_is_a_valid_flow(self):
        text = EXPORT_FIXTURE.read_text(encoding="utf-8")
        self.assertEqual(validate_flow(parse_flow_text(text), text), [])

    def test_is_a_valid_guide(self):
        self.assertEqual(validate_guide(load_export(), EXPORT_BUTTONS, exported=True), [])

    def test_has_the_console_shape(self):
        # What makes it an export rather than one of ours: keep it so.
        f = load_export()
        meta = f["Metadata"]
        self.assertEqual(set(meta["entryPointPosition"]), {"x", "y"})
        self.assertEqual(set(meta["ActionMetadata"]), set(by_id(f)))
        self.assertIsInstance(meta["Annotations"], list)
        self.assertTrue(all(UUID.fullmatch(ident) for ident in by_id(f)))
        view = next(a for a in f["Actions"] if a["Type"] == "ShowView")["Parameters"]
        self.assertEqual(view["ViewResource"], {"Id": "cards", "Version": "Latest"})
        self.assertIsInstance(view["InvocationTimeLimitSeconds"], str)
        bar = view["ViewData"]["AttributeBar"]
        self.assertTrue(any({"LinkType", "ResourceId"} <= set(item) for item in bar))
        self.assertIn("Label", view["ViewData"]["Back"])
        self.assertIn("Label", view["ViewData"]["NoMatchFound"])
        lambdas = [a["Parameters"] for a in f["Actions"] if a["Type"] == "InvokeLambdaFunction"]
        self.assertEqual(len(lambdas), 4)
        for lam in lambdas:
            self.assertRegex(lam["LambdaFunctionARN"], r":123456789012:function:")
            self.assertIsInstance(lam["InvocationTimeLimitSeconds"], str)
            self.assertEqual(lam["ResponseValidation"], {"ResponseType": "STRING_MAP"})
            self.assertEqual(set(lam["LambdaInvocationAttributes"]) - {"voiceRecordingTrack"},
                             {"operation", "contactId", "initialContactId"})
        types = {a["Type"] for a in f["Actions"]}
        self.assertLessEqual({"UpdateFlowLoggingBehavior", "DisconnectParticipant"}, types)

    def test_cards_view_forms(self):
        for resource in ({"Id": "cards", "Version": "Latest"}, {"Id": "cards", "Version": "$LATEST"},
                         {"Id": "cards", "Version": 3}, {"Id": "cards", "Version": "12"},
                         {"Id": "cards"}, {"Id": "cards:$LATEST"},
                         {"Id": "arn:aws:connect:us-east-1:aws:view/cards"},
                         {"Id": "arn:aws:connect:us-east-1:aws:view/cards:1"},
                         {"Id": "arn:aws:connect:us-east-1:aws:view/cards:$LATEST"},
                         {"Id": "arn:aws-us-gov:connect:us-gov-west-1:aws:view/cards"},
                         {"Id": CARDS_VIEW_ARN}, {"Id": CARDS_VIEW_ARN + ":$LATEST"}):
            with self.subTest(resource=resource):
                self.assertTrue(is_cards_view(resource))
        for resource in ({"Id": "form", "Version": "Latest"}, {"Id": "Cards"},
                         {"Id": "arn:aws:connect:us-east-1:aws:view/detail"},
                         {"Id": "arn:aws:connect:us-east-1:123456789012:view/cards"},
                         {"Id": "arn:aws:connect:us-east-1:aws:view/cards:banana"},
                         {"Id": "arn:aws:connect:us-east-1:aws:view/cards:Latest"},
                         {"Id": "cards", "Version": "banana"}, {"Id": "cards", "Version": 0},
                         {"Id": "cards", "Version": True}, {"Id": "cards", "Version": None},
                         {"Version": "Latest"}, "cards"):
            with self.subTest(resource=resource):
                self.assertFalse(is_cards_view(resource))

    def assertRejected(self, problems, fragment):
        self.assertTrue(any(fragment in p for p in problems),
                        f"expected a problem mentioning {fragment!r}, got {problems}")

    def view(self, f):
        return next(a for a in f["Actions"] if a["Type"] == "ShowView")["Parameters"]

    def test_another_view_is_rejected(self):
        for resource in ({"Id": "form", "Version": "Latest"}, {"Id": "cards", "Version": "banana"},
                         {"Id": "arn:aws:connect:us-east-1:aws:view/detail"}):
            with self.subTest(resource=resource):
                f = load_export()
                self.view(f)["ViewResource"] = resource
                self.assertRejected(validate_guide(f, EXPORT_BUTTONS, exported=True),
                                    "Cards view")

    def test_a_lambda_arn_that_is_none_is_rejected(self):
        f = load_export()
        next(a for a in f["Actions"] if a["Type"] == "InvokeLambdaFunction")["Parameters"][
            "LambdaFunctionARN"] = "RecordingControl"
        self.assertRejected(validate_guide(f, EXPORT_BUTTONS, exported=True), "not a Lambda ARN")

    def test_our_own_guide_keeps_the_stricter_rules(self):
        problems = validate_guide(load_export(), EXPORT_BUTTONS)
        self.assertRejected(problems, CARDS_VIEW_ARN)
        self.assertRejected(problems, "${CallRecordingLambdaArn}")


@unittest.skipIf(yaml is None, "PyYAML is not installed: structural template checks skipped")
class Template(unittest.TestCase):
    def setUp(self):
        self.text = TEMPLATE_PATH.read_text(encoding="utf-8")
        self.flows = {n: (FLOWS_DIR / n).read_text(encoding="utf-8") for n in flow_files()}

    def test_template(self):
        self.assertEqual(validate_template(self.text, self.flows), [])

    def test_fallback_reader_agrees(self):
        t = parse_template(self.text)
        by_yaml = {n: r["Properties"]["Content"]["Fn::Sub"][0] for n, r in t["Resources"].items()
                   if r["Type"] == "AWS::Connect::ContactFlow"}
        by_hand = flow_contents_without_yaml(self.text)
        self.assertEqual(set(by_hand), set(by_yaml))
        for name in by_yaml:
            self.assertEqual(parse_flow_text(by_hand[name]), parse_flow_text(by_yaml[name]))

    @unittest.skipIf(shutil.which("cfn-lint") is None, "cfn-lint is not installed")
    def test_cfn_lint(self):
        run = subprocess.run(["cfn-lint", str(TEMPLATE_PATH)], capture_output=True, text=True,
                             timeout=300)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)


class TemplateWithoutYaml(unittest.TestCase):
    """What the fallback reader checks, whether or not PyYAML is there."""

    def test_exactly_the_four_connect_actions(self):
        self.assertEqual(connect_actions_by_regex(TEMPLATE_PATH.read_text(encoding="utf-8")),
                         RECORDING_ACTIONS)

    def test_flows_inlined_verbatim(self):
        contents = flow_contents_without_yaml(TEMPLATE_PATH.read_text(encoding="utf-8"))
        inlined = [parse_flow_text(c) for c in contents.values()]
        for name in flow_files():
            with self.subTest(flow=name):
                self.assertIn(load_flow(name), inlined)


class SelfCheck(unittest.TestCase):
    """Broken copies of the flows and the template must be rejected."""

    def guide(self):
        return load_flow(GUIDE_FILE)

    def inbound(self):
        return load_flow(INBOUND_FILE)

    def action(self, flow, ident):
        return by_id(flow)[ident]

    def first(self, flow, kind):
        return next(a for a in flow["Actions"] if a["Type"] == kind)

    def assertRejected(self, problems, fragment):
        self.assertTrue(any(fragment in p for p in problems),
                        f"expected a problem mentioning {fragment!r}, got {problems}")

    def test_duplicate_json_key(self):
        with self.assertRaises(DuplicateKey):
            parse_flow_text('{"Version": "2019-10-30", "Version": "2019-10-30"}')

    def test_wrong_version(self):
        f = self.guide()
        f["Version"] = "2020-01-01"
        self.assertRejected(validate_flow(f), "Version")

    def test_missing_start_action(self):
        f = self.guide()
        f["StartAction"] = "nowhere"
        self.assertRejected(validate_flow(f), "StartAction")

    def test_dangling_transition(self):
        f = self.guide()
        self.first(f, "InvokeLambdaFunction")["Transitions"]["Errors"][0]["NextAction"] = "gone"
        self.assertRejected(validate_flow(f), "no action named so")

    def test_duplicate_identifier(self):
        f = self.inbound()
        f["Actions"].append(copy.deepcopy(f["Actions"][-1]))
        self.assertRejected(validate_flow(f), "duplicate Identifier")

    def test_bad_identifier(self):
        f = self.inbound()
        f["Actions"][-1]["Identifier"] = "Disconnect: now"
        self.assertRejected(validate_flow(f), "not allowed")

    def test_unreachable_action(self):
        f = self.inbound()
        f["Actions"].append({"Identifier": "Orphan", "Type": "DisconnectParticipant",
                             "Parameters": {}, "Transitions": {}})
        self.assertRejected(validate_flow(f), "unreachable")

    def test_undocumented_type(self):
        f = self.inbound()
        self.first(f, "MessageParticipant")["Type"] = "PlayPrompt"
        self.assertRejected(validate_flow(f), "not a documented")

    def test_missing_lambda_arn(self):
        f = self.guide()
        del self.first(f, "InvokeLambdaFunction")["Parameters"]["LambdaFunctionARN"]
        self.assertRejected(validate_flow(f), "LambdaFunctionARN")

    def test_lambda_time_limit_above_8(self):
        f = self.guide()
        self.first(f, "InvokeLambdaFunction")["Parameters"]["InvocationTimeLimitSeconds"] = "9"
        self.assertRejected(validate_flow(f), "1..8")

    def test_show_view_without_view_data(self):
        f = self.guide()
        del self.first(f, "ShowView")["Parameters"]["ViewData"]
        self.assertRejected(validate_flow(f), "ViewData")

    def test_unhandled_lambda_error(self):
        f = self.guide()
        self.first(f, "InvokeLambdaFunction")["Transitions"]["Errors"] = []
        self.assertRejected(validate_flow(f), "not handled")

    def test_condition_on_lambda(self):
        f = self.guide()
        self.first(f, "InvokeLambdaFunction")["Transitions"]["Conditions"] = [
            {"NextAction": "End the guide", "Condition": {"Operator": "Equals", "Operands": ["x"]}}]
        self.assertRejected(validate_flow(f), "supports no Conditions")

    def test_unknown_placeholder(self):
        f = self.guide()
        self.first(f, "InvokeLambdaFunction")["Parameters"]["LambdaFunctionARN"] = "${MyLambda}"
        self.assertRejected(validate_flow(f), "${MyLambda}")

    def test_lambda_error_routed_to_the_answer(self):
        f = self.guide()
        lam = self.first(f, "InvokeLambdaFunction")
        lam["Transitions"]["Errors"][0]["NextAction"] = lam["Transitions"]["NextAction"]
        self.assertRejected(validate_flow(f), "reads $.External")

    def test_status_set_to_on_by_the_flow(self):
        f = self.guide()
        unknown = self.action(f, "Status unknown after Lambda error")
        unknown["Parameters"]["Attributes"].update({
            "callRecordingStatus": "ON",
            "callRecordingHTML": "<p style='display: inline-block;color:green'>RECORDING ⬤</p>"})
        problems = validate_flow(f)
        self.assertRejected(problems, "callRecordingStatus to 'ON'")
        self.assertRejected(problems, "callRecordingHTML")

    def test_badge_colours_readable_on_white(self):
        # The reference design's named colours: orange 1.97:1, red 4.00:1.
        self.assertAlmostEqual(contrast_on_white("orange"), 1.97, places=2)
        self.assertAlmostEqual(contrast_on_white("red"), 4.00, places=2)
        for colour in (RECORDING_GREEN, PAUSED_AMBER, NOT_RECORDING_RED, NEUTRAL_GREY):
            self.assertGreaterEqual(contrast_on_white(colour), 4.5, colour)
        f = self.inbound()
        for action in f["Actions"]:
            attrs = (action.get("Parameters") or {}).get("Attributes") or {}
            if "callRecordingHTML" in attrs:
                attrs["callRecordingHTML"] = "<p style='display: inline-block;color:red'>NOT RECORDING ⬤</p>"
        self.assertRejected(validate_flow(f), "contrast 4.00:1")

    def test_unknown_badge_neutral(self):
        f = self.guide()
        self.action(f, "Status unknown after Lambda error")["Parameters"]["Attributes"][
            "callRecordingHTML"] = "<p style='display: inline-block;color:#b71c1c'>STATUS UNKNOWN ⬤</p>"
        self.assertRejected(validate_flow(f), "must be neutral")

    def test_paused_badge_set_by_the_flow(self):
        f = self.guide()
        self.action(f, "Status unknown after Lambda error")["Parameters"]["Attributes"][
            "callRecordingHTML"] = "<p style='display: inline-block;color:orange'>PAUSED ⬤</p>"
        self.assertRejected(validate_flow(f), "callRecordingHTML")

    def test_card_action_without_condition(self):
        f = self.guide()
        chooser = self.first(f, "Compare")
        chooser["Transitions"]["Conditions"] = [
            c for c in chooser["Transitions"]["Conditions"]
            if c["Condition"]["Operands"] != ["Pause recording"]]
        self.assertRejected(validate_guide(f), "'Pause recording' has no matching Condition")

    def test_button_asking_for_the_wrong_operation(self):
        f = self.guide()
        self.action(f, "Lambda PAUSE")["Parameters"]["LambdaInvocationAttributes"]["operation"] = "STOP"
        self.assertRejected(validate_guide(f), "'Pause recording' must ask for")

    def test_success_not_copying_the_answer(self):
        f = self.guide()
        self.action(f, "Save the Lambda answer on the guide")["Parameters"]["Attributes"][
            "callRecordingHTML"] = "$.Attributes.callRecordingHTML"
        self.assertRejected(validate_guide(f), "from $.External")

    def test_guide_status_not_shown(self):
        f = self.guide()
        card = self.first(f, "ShowView")["Parameters"]["ViewData"]["Cards"][0]
        card["Detail"]["Sections"] = [{"TemplateString": "<p>RECORDING</p>"}]
        self.assertRejected(validate_guide(f), "must show the status")

    def test_guide_not_a_cards_view(self):
        f = self.guide()
        self.first(f, "ShowView")["Parameters"]["ViewResource"]["Id"] = "arn:aws:connect:us-east-1:aws:view/detail"
        self.assertRejected(validate_guide(f), "Cards view")

    def test_inbound_without_compliance_prompt(self):
        f = self.inbound()
        prompt = self.action(f, "Compliance prompt")
        self.action(f, "Enable flow logs")["Transitions"]["NextAction"] = prompt["Transitions"]["NextAction"]
        f["Actions"].remove(prompt)
        del f["Metadata"]["ActionMetadata"]["Compliance prompt"]
        self.assertEqual(validate_flow(f), [])
        self.assertRejected(validate_inbound(f), "compliance prompt")

    def test_inbound_recording_automatically(self):
        f = self.inbound()
        self.first(f, "UpdateContactRecordingBehavior")["Parameters"]["RecordingBehavior"][
            "RecordedParticipants"] = ["Agent", "Customer"]
        self.assertRejected(validate_inbound(f), "automatic recording")

    @unittest.skipIf(yaml is None, "PyYAML is not installed")
    def test_template_granting_more(self):
        text = TEMPLATE_PATH.read_text(encoding="utf-8").replace(
            "- connect:ResumeContactRecording",
            "- connect:ResumeContactRecording\n                  - connect:GetContactAttributes")
        flows = {n: (FLOWS_DIR / n).read_text(encoding="utf-8") for n in flow_files()}
        self.assertRejected(validate_template(text, flows), "exactly")

    @unittest.skipIf(yaml is None, "PyYAML is not installed")
    def test_template_granting_any_resource(self):
        text = TEMPLATE_PATH.read_text(encoding="utf-8").replace(
            "instance/${InstanceId}/contact/*", "instance/*")
        flows = {n: (FLOWS_DIR / n).read_text(encoding="utf-8") for n in flow_files()}
        self.assertRejected(validate_template(text, flows), "contact/*")

    @unittest.skipIf(yaml is None, "PyYAML is not installed")
    def test_template_flow_drift(self):
        flows = {n: (FLOWS_DIR / n).read_text(encoding="utf-8") for n in flow_files()}
        guide = parse_flow_text(flows[GUIDE_FILE])
        guide["Metadata"]["description"] += " (edited)"
        flows[GUIDE_FILE] = json.dumps(guide)
        self.assertRejected(validate_template(TEMPLATE_PATH.read_text(encoding="utf-8"), flows),
                            "differs")


if __name__ == "__main__":
    unittest.main()
