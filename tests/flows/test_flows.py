"""Checks the Amazon Connect flows in flows/ and the SAM template in deploy/.

Pure standard library (PyYAML is used when present, with a small fallback
reader otherwise). Run with:

    python3 -m unittest discover -s tests/flows -v

What is checked, for every flows/*.json:
  - well-formed JSON without duplicate keys, Version "2019-10-30", StartAction
    names an action, Identifiers unique and valid (at most 50 characters, none
    of the characters or names the flow language forbids), at most 250 actions;
  - every NextAction (Transitions.NextAction, Errors, Conditions) names an
    existing action, every action is reachable from StartAction, only terminal
    actions lack a NextAction;
  - every Type is a documented flow-language action, its required Parameters
    are present and well-formed, its error branches are handled and are ones
    that action can raise, Conditions only where the action supports them;
  - the only ${...} in a file are the placeholders the template fills in;
  - a block that reads the Lambda's answer ($.External...) can only be reached
    straight from an InvokeLambdaFunction's success branch, and no block sets
    callRecordingStatus/callRecordingHTML to RECORDING or PAUSED by itself.
The same checks take tests/fixtures/flows/console-export-guide.json, a guide
in the shape the Connect console exports ({"Id": "cards", "Version": "Latest"},
a real Lambda ARN, UUID identifiers, the console's Metadata).
Then the guide (Cards view, Lambda per button, state from the answer), the
inbound flow (prompt, attributes, recording behaviour, event hook, queue), and
deploy/template.yaml (exactly the four connect:*ContactRecording actions on the
instance's contacts, flows inlined verbatim with the ARNs substituted).

Every validator returns a list of problems; SelfCheck feeds each one broken
copies and asserts they are rejected, so these tests can fail.
"""

import copy
import json
import pathlib
import re
import shutil
import subprocess
import unittest

try:
    import yaml  # PyYAML: optional, see TemplateReader
except ImportError:  # pragma: no cover - exercised on machines without PyYAML
    yaml = None

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLOWS_DIR = ROOT / "flows"
TEMPLATE_PATH = ROOT / "deploy" / "template.yaml"
GUIDE_FILE = "agent-recording-guide.json"
INBOUND_FILE = "inbound-recording.json"

# Action types of the Amazon Connect Flow language, Version 2019-10-30, as
# listed by "Actions in the Amazon Connect Flow language" in the Amazon Connect
# API reference / Administrator Guide:
#   https://docs.aws.amazon.com/connect/latest/APIReference/flow-language-actions.html
# and its four sub-pages: contact-actions.html, flow-control-actions.html,
# interactions.html, participant-actions.html.
DOCUMENTED_ACTION_TYPES = frozenset({
    # Contact actions
    "CompleteOutboundCall", "CreateCase", "CreateTask", "CreateWisdomSession",
    "DequeueContactAndTransferToQueue", "EndFlowModuleExecution", "GetCase",
    "InvokeFlowModule", "StartOutboundChatContact", "TagContact",
    "TransferContactToAgent", "TransferContactToQueue", "UnTagContact", "UpdateCase",
    "UpdateContactAttributes", "UpdateContactCallbackNumber", "UpdateContactData",
    "UpdateContactEventHooks", "UpdateContactMediaProcessing",
    "UpdateContactMediaStreamingBehavior", "UpdateContactRecordingAndAnalyticsBehavior",
    "UpdateContactRecordingBehavior", "ResumeContact", "UpdateContactRoutingBehavior",
    "UpdateContactTargetQueue", "UpdateContactTextToSpeechVoice",
    "UpdatePreviousContactParticipantState",
    # Flow control actions
    "CheckHoursOfOperation", "CheckMetricData", "CheckOutboundCallStatus", "CheckVoiceId",
    "Compare", "DistributeByPercentage", "EndFlowExecution", "GetMetricData", "Loop",
    "StartVoiceIdStream", "TransferToFlow", "UpdateFlowAttributes",
    "UpdateFlowLoggingBehavior", "UpdateRoutingCriteria", "Wait",
    # Interactions
    "AssociateContactToCustomerProfile", "CreateCallbackContact", "CreateCustomerProfile",
    "InvokeLambdaFunction", "GetCustomerProfile", "GetCustomerProfileObject",
    "GetCalculatedAttributesForCustomerProfile", "UpdateCustomerProfile",
    # Participant actions
    "ConnectParticipantWithLexBot", "DisconnectParticipant", "GetParticipantInput",
    "MessageParticipant", "MessageParticipantIteratively", "ShowView",
})

# Terminal actions: "None. This is always a terminal action." (EndFlowExecution),
# and DisconnectParticipant, which ends the participant's flow.
TERMINAL_TYPES = frozenset({"DisconnectParticipant", "EndFlowExecution"})

# Error branches each action used here can raise (its "Errors" section), and
# those a flow of ours must handle so that no contact or guide gets stuck.
ERRORS = {
    "InvokeLambdaFunction": {"NoMatchingError"},
    "UpdateContactAttributes": {"NoMatchingError"},
    "UpdateContactEventHooks": {"NoMatchingError"},
    "UpdateContactTargetQueue": {"NoMatchingError"},
    "UpdateContactRecordingBehavior": {"NoMatchingError"},
    "MessageParticipant": {"NoMatchingError"},
    "TransferContactToQueue": {"QueueAtCapacity", "NoMatchingError"},
    "TransferToFlow": {"NoMatchingError"},
    "Compare": {"NoMatchingCondition"},
    "ShowView": {"NoMatchingError", "NoMatchingCondition", "TimeLimitExceeded"},
    "UpdateFlowLoggingBehavior": set(),
    "DisconnectParticipant": set(),
    "EndFlowExecution": set(),
}
MUST_HANDLE = {
    "InvokeLambdaFunction": {"NoMatchingError"},
    "TransferContactToQueue": {"QueueAtCapacity", "NoMatchingError"},
    "Compare": {"NoMatchingCondition"},
    "ShowView": {"NoMatchingError", "NoMatchingCondition", "TimeLimitExceeded"},
}
# Actions whose pages say "Conditions are not supported" / "Results and
# conditions: None".
NO_CONDITIONS = frozenset({
    "InvokeLambdaFunction", "UpdateContactAttributes", "UpdateContactEventHooks",
    "UpdateContactTargetQueue", "UpdateContactRecordingBehavior", "MessageParticipant",
    "TransferContactToQueue", "UpdateFlowLoggingBehavior", "DisconnectParticipant",
    "EndFlowExecution", "TransferToFlow",
})
CONDITION_OPERATORS = frozenset({
    "Equals", "NumberGreaterThan", "NumberGreaterOrEqualTo", "NumberLessThan",
    "NumberLessOrEqualTo", "TextStartsWith", "TextEndsWith", "TextContains",
})
EVENT_HOOKS = frozenset({
    "AgentHold", "AgentWhisper", "CustomerHold", "CustomerQueue", "CustomerRemaining",
    "CustomerWhisper", "DefaultAgentUI", "DisconnectAgentUI", "PauseContact", "ResumeContact",
})
IDENTIFIER_FORBIDDEN_CHARS = set("%:(\\/)=$,;[]{}")
IDENTIFIER_FORBIDDEN_NAMES = frozenset({
    "__proto__", "constructor", "__defineGetter__", "__defineSetter__", "toString",
    "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "valueOf",
})
# Blocks that neither wait for a person nor call anything: $.External still holds
# the last Lambda answer after them.
PASS_THROUGH = frozenset({
    "UpdateContactAttributes", "Compare", "UpdateFlowAttributes", "UpdateFlowLoggingBehavior",
})

# ${...} the template's !Sub fills in (deploy/template.yaml, flows/README.md).
PLACEHOLDERS = frozenset({
    "CallRecordingLambdaArn", "AgentGuideFlowArn", "WorkingQueueArn",
    "AWS::Region", "AWS::Partition",
})
PSEUDO_PARAMETERS = frozenset({"AWS::Region", "AWS::Partition", "AWS::AccountId"})
CARDS_VIEW_ARN = "arn:${AWS::Partition}:connect:${AWS::Region}:aws:view/cards"
# A guide as the console exports it, written by hand in that shape: the runtime
# and these checks must take it as they take ours (tests/unit/flow too).
EXPORT_FIXTURE = ROOT / "tests" / "fixtures" / "flows" / "console-export-guide.json"
EXPORT_BUTTONS = {
    "Start Recording": ("START", "ALL"),
    "Pause Recording": ("PAUSE", None),
    "Resume Recording": ("RESUME", None),
    "Stop Recording": ("STOP", None),
}
# How Connect writes the Cards view's ViewResource: {"Id": "cards", "Version":
# "Latest"} from the console, or its ARN (partition and region real or ${...}
# placeholders), the Id optionally ending in :<version> or :$LATEST; Version is
# Latest, $LATEST or a number from 1.
_ARN_WORD = r"(?:\$\{[^}]+\}|[a-z0-9-]+)"
CARDS_VIEW_ID = re.compile(r"(?:arn:" + _ARN_WORD + r":connect:" + _ARN_WORD + r":aws:view/)?"
                           r"cards(?::(?:\$LATEST|0*[1-9][0-9]*))?")
# A Lambda of any account and region, optionally a version or alias.
LAMBDA_ARN = re.compile(r"arn:[a-z0-9-]+:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+"
                        r"(?::[A-Za-z0-9_$-]+)?")
# The Cards view's results ("Conditions" of its ShowView); the chosen item is
# $.Views.ViewResultData.actionName.
CARDS_VIEW_RESULTS = frozenset({"ActionSelected", "Back", "NoMatchFound"})

# PRODUCT.md 4.3: the Lambda's operations and tracks.
OPERATIONS = frozenset({"START", "STOP", "PAUSE", "RESUME"})
TRACKS = frozenset({"TO_AGENT", "FROM_AGENT", "ALL"})
# The guide's buttons and what each must ask the Lambda for.
GUIDE_BUTTONS = {
    "Start recording": ("START", "ALL"),
    "Start customer only": ("START", "TO_AGENT"),
    "Start agent only": ("START", "FROM_AGENT"),
    "Pause recording": ("PAUSE", None),
    "Resume recording": ("RESUME", None),
    "Stop recording": ("STOP", None),
}
RECORDING_ACTIONS = frozenset({
    "connect:StartContactRecording", "connect:StopContactRecording",
    "connect:SuspendContactRecording", "connect:ResumeContactRecording",
})


# ---------------------------------------------------------------- helpers

class DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise DuplicateKey(f"duplicate JSON key {key!r}")
        seen[key] = value
    return seen


def parse_flow_text(text):
    return json.loads(text, object_pairs_hook=_no_duplicates)


def load_flow(name):
    return parse_flow_text((FLOWS_DIR / name).read_text(encoding="utf-8"))


def flow_files():
    return sorted(p.name for p in FLOWS_DIR.glob("*.json"))


def by_id(flow):
    return {a.get("Identifier"): a for a in flow.get("Actions", []) if isinstance(a, dict)}


def edges(action):
    """(target, kind) of every transition: kind is next, condition or error:<type>."""
    t = action.get("Transitions") or {}
    out = []
    if "NextAction" in t:
        out.append((t["NextAction"], "next"))
    for c in t.get("Conditions") or []:
        out.append((c.get("NextAction"), "condition"))
    for e in t.get("Errors") or []:
        out.append((e.get("NextAction"), "error:" + str(e.get("ErrorType"))))
    return out


def strings(value):
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def reachable(flow, start=None, avoid=frozenset()):
    actions = by_id(flow)
    start = flow.get("StartAction") if start is None else start
    seen, todo = set(), [start]
    while todo:
        ident = todo.pop()
        if ident in seen or ident in avoid or ident not in actions:
            continue
        seen.add(ident)
        todo.extend(target for target, _ in edges(actions[ident]))
    return seen


def next_chain(flow, ident, limit=8):
    """Identifiers along the NextAction (success) branches from ident."""
    actions, chain = by_id(flow), []
    while ident in actions and len(chain) < limit:
        chain.append(ident)
        ident = (actions[ident].get("Transitions") or {}).get("NextAction")
    return chain


def is_cards_view(resource):
    """True when a ShowView's ViewResource is the AWS-managed Cards view."""
    if not isinstance(resource, dict) or not isinstance(resource.get("Id"), str):
        return False
    if not CARDS_VIEW_ID.fullmatch(resource["Id"]):
        return False
    if "Version" not in resource:
        return True
    version = resource["Version"]
    if isinstance(version, bool):
        return False
    if isinstance(version, int):
        return version >= 1
    return isinstance(version, str) and (version in ("Latest", "$LATEST") or
                                         re.fullmatch(r"0*[1-9][0-9]*", version) is not None)


def claims_recording(html):
    """True when a static status badge says RECORDING or PAUSED."""
    text = str(html).replace(" ", "").lower()
    colours = ("color:green", "color:orange", "color:" + RECORDING_GREEN, "color:" + PAUSED_AMBER)
    return (any(c in text for c in colours)
            or "PAUSED" in str(html) or re.search(r"(?<!NOT )RECORDING", str(html)) is not None)


# The guide's badge colours (src/lambda/RecordingHandler.hpp; the workspace's own).
RECORDING_GREEN = "#037f0c"
PAUSED_AMBER = "#8d6605"
NOT_RECORDING_RED = "#d91515"
NEUTRAL_GREY = "#5f6b7a"
NAMED_COLOURS = {"green": "#008000", "orange": "#ffa500", "red": "#ff0000", "grey": "#808080",
                 "gray": "#808080", "black": "#000000", "amber": "#ffbf00"}


def contrast_on_white(colour):
    """WCAG 2 contrast ratio of a CSS colour (#rgb, #rrggbb or a few names) on
    white; None for what it cannot read."""
    colour = NAMED_COLOURS.get(colour.lower(), colour.lower())
    match = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", colour)
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)

    def channel(i):
        c = int(digits[i:i + 2], 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(0) + 0.7152 * channel(2) + 0.0722 * channel(4)
    return 1.05 / (luminance + 0.05)


def badge_problems(ident, html):
    """A literal status badge: readable (4.5:1 on white, WCAG AA) and, when it
    says STATUS UNKNOWN, neutral (no green, amber or red)."""
    problems = []
    for colour in re.findall(r"color:\s*([#\w]+)", str(html)):
        ratio = contrast_on_white(colour)
        if ratio is None or ratio < 4.5:
            problems.append(f"{ident}: the badge colour {colour} has contrast "
                            f"{'unknown' if ratio is None else '%.2f:1' % ratio} on white "
                            "(at least 4.5:1)")
        if "STATUS UNKNOWN" in str(html) and colour.lower() != NEUTRAL_GREY:
            problems.append(f"{ident}: STATUS UNKNOWN in {colour}: it must be neutral "
                            f"({NEUTRAL_GREY}), not a colour that claims a state")
    return problems


# ---------------------------------------------------------------- flow validators

def _check_parameters(ident, kind, params):
    p = params if isinstance(params, dict) else {}
    problems = []
    need = lambda cond, what: None if cond else problems.append(f"{ident} ({kind}): {what}")

    if kind == "InvokeLambdaFunction":
        need(isinstance(p.get("LambdaFunctionARN"), str) and p.get("LambdaFunctionARN"),
             "LambdaFunctionARN is required")
        limit = str(p.get("InvocationTimeLimitSeconds", ""))
        need(limit.isdigit() and 1 <= int(limit) <= 8,
             "InvocationTimeLimitSeconds is required, an integer 1..8, set statically")
        need(p.get("InvocationType", "SYNCHRONOUS") in ("SYNCHRONOUS", "ASYNCHRONOUS"),
             "InvocationType must be SYNCHRONOUS or ASYNCHRONOUS")
        need(isinstance(p.get("LambdaInvocationAttributes", {}), dict),
             "LambdaInvocationAttributes must be a map")
        rt = (p.get("ResponseValidation") or {}).get("ResponseType", "STRING_MAP")
        need(rt in ("STRING_MAP", "JSON"), "ResponseValidation.ResponseType must be STRING_MAP or JSON")
    elif kind == "UpdateContactAttributes":
        attrs = p.get("Attributes")
        need(isinstance(attrs, dict) and attrs, "Attributes (a non-empty map) is required")
        need(p.get("TargetContact", "Current") in ("Current", "Related"),
             "TargetContact must be Current or Related")
    elif kind == "ShowView":
        view = p.get("ViewResource") or {}
        need(isinstance(view.get("Id"), str) and view.get("Id"), "ViewResource.Id is required")
        limit = str(p.get("InvocationTimeLimitSeconds", ""))
        need(limit.isdigit() and int(limit) > 0, "InvocationTimeLimitSeconds (seconds) is required")
        need(isinstance(p.get("ViewData"), dict), "ViewData (a map) is required")
    elif kind == "Compare":
        value = p.get("ComparisonValue")
        need(isinstance(value, str) and re.fullmatch(r"\$\.[A-Za-z0-9_.]+", value or ""),
             "ComparisonValue must be a single JSONPath ($....)")
    elif kind == "MessageParticipant":
        given = [k for k in ("Text", "PromptId", "SSML") if p.get(k)]
        need(len(given) == 1 or (not given and p.get("Media")),
             "exactly one of Text, PromptId or SSML (or Media) is required")
    elif kind == "UpdateContactEventHooks":
        hooks = p.get("EventHooks")
        need(isinstance(hooks, dict) and len(hooks) == 1, "EventHooks must hold exactly one entry")
        for key, value in (hooks or {}).items() if isinstance(hooks, dict) else []:
            need(key in EVENT_HOOKS, f"unknown event hook {key!r}")
            need(isinstance(value, str) and value, f"event hook {key} needs a flow id or ARN")
    elif kind == "UpdateContactTargetQueue":
        need(bool(p.get("QueueId")) != bool(p.get("AgentId")), "exactly one of QueueId or AgentId")
    elif kind == "UpdateContactRecordingBehavior":
        rb = p.get("RecordingBehavior")
        need(isinstance(rb, dict) and isinstance(rb.get("RecordedParticipants"), list),
             "RecordingBehavior.RecordedParticipants (a list) is required")
        if isinstance(rb, dict) and isinstance(rb.get("RecordedParticipants"), list):
            need(set(rb["RecordedParticipants"]) <= {"Agent", "Customer"},
                 "RecordedParticipants may only hold Agent and Customer")
    elif kind == "UpdateFlowLoggingBehavior":
        need(p.get("FlowLoggingBehavior") in ("Enabled", "Disabled"),
             "FlowLoggingBehavior must be Enabled or Disabled")
    elif kind == "TransferToFlow":
        need(bool(p.get("ContactFlowId")), "ContactFlowId is required")
    elif kind in ("TransferContactToQueue", "DisconnectParticipant", "EndFlowExecution"):
        need(not p, "takes no parameters")
    return problems


def fresh_actions(flow):
    """Actions reached only straight from a Lambda's success branch, possibly
    through pass-through blocks: where $.External is that Lambda's answer."""
    actions = by_id(flow)
    preds = {ident: [] for ident in actions}
    for ident, action in actions.items():
        for target, kind in edges(action):
            if target in preds:
                preds[target].append((ident, kind))
    fresh = set(actions) - {flow.get("StartAction")}
    changed = True
    while changed:
        changed = False
        for ident in sorted(fresh):
            ok = bool(preds[ident]) and all(
                (actions[p].get("Type") == "InvokeLambdaFunction" and kind == "next")
                or (actions[p].get("Type") in PASS_THROUGH and p in fresh)
                for p, kind in preds[ident])
            if not ok:
                fresh.discard(ident)
                changed = True
    return fresh


def validate_flow(flow, text=None):
    """Problems of one flow, whatever it does."""
    problems = []
    if not isinstance(flow, dict):
        return ["the flow is not a JSON object"]
    if flow.get("Version") != "2019-10-30":
        problems.append(f"Version must be \"2019-10-30\", not {flow.get('Version')!r}")
    actions = flow.get("Actions")
    if not isinstance(actions, list) or not actions:
        return problems + ["Actions must be a non-empty list"]
    if len(actions) > 250:
        problems.append(f"{len(actions)} actions: a flow holds at most 250")
    ids = [a.get("Identifier") if isinstance(a, dict) else None for a in actions]
    for ident in ids:
        if not isinstance(ident, str) or not ident:
            problems.append(f"an action has no Identifier: {ident!r}")
            continue
        if ids.count(ident) > 1:
            problems.append(f"duplicate Identifier {ident!r}")
        if len(ident) > 50:
            problems.append(f"Identifier {ident!r} is longer than 50 characters")
        bad = IDENTIFIER_FORBIDDEN_CHARS & set(ident)
        if bad:
            problems.append(f"Identifier {ident!r} has characters not allowed: {''.join(sorted(bad))}")
        if ident in IDENTIFIER_FORBIDDEN_NAMES:
            problems.append(f"Identifier {ident!r} is a reserved name")
    known = set(i for i in ids if isinstance(i, str))
    if flow.get("StartAction") not in known:
        problems.append(f"StartAction {flow.get('StartAction')!r} names no action")

    for action in actions:
        if not isinstance(action, dict):
            problems.append("an action is not a JSON object")
            continue
        ident, kind = action.get("Identifier"), action.get("Type")
        if kind not in DOCUMENTED_ACTION_TYPES:
            problems.append(f"{ident}: Type {kind!r} is not a documented flow-language action")
            continue
        problems += _check_parameters(ident, kind, action.get("Parameters"))
        t = action.get("Transitions")
        if not isinstance(t, dict):
            problems.append(f"{ident}: Transitions (an object) is required")
            continue
        for target, how in edges(action):
            if target not in known:
                problems.append(f"{ident}: {how} goes to {target!r}, no action named so")
        if kind in TERMINAL_TYPES:
            if edges(action):
                problems.append(f"{ident}: {kind} is terminal and has no transitions")
        elif "NextAction" not in t:
            problems.append(f"{ident}: NextAction is required")
        error_types = [e.get("ErrorType") for e in t.get("Errors") or []]
        if kind in ERRORS:
            for et in error_types:
                if et not in ERRORS[kind]:
                    problems.append(f"{ident}: {kind} raises no error {et!r}")
        for et in MUST_HANDLE.get(kind, set()) - set(error_types):
            problems.append(f"{ident}: the {et} error branch of {kind} is not handled")
        conditions = t.get("Conditions") or []
        if conditions and kind in NO_CONDITIONS:
            problems.append(f"{ident}: {kind} supports no Conditions")
        for c in conditions:
            cond = c.get("Condition") or {}
            if cond.get("Operator") not in CONDITION_OPERATORS:
                problems.append(f"{ident}: condition operator {cond.get('Operator')!r} unknown")
            operands = cond.get("Operands")
            if not isinstance(operands, list) or not operands:
                problems.append(f"{ident}: a condition needs Operands")
        if kind == "Compare" and not conditions:
            problems.append(f"{ident}: Compare without Conditions")

    unreachable = known - reachable(flow)
    for ident in sorted(unreachable):
        problems.append(f"{ident}: unreachable from StartAction")

    meta = (flow.get("Metadata") or {}).get("ActionMetadata") or {}
    for ident in sorted(set(meta) - known):
        problems.append(f"Metadata.ActionMetadata names {ident!r}, which is no action")

    text = json.dumps(flow) if text is None else text
    for name in sorted(set(re.findall(r"\$\{([^}]*)\}", text)) - PLACEHOLDERS):
        problems.append(f"${{{name}}} is not a placeholder the template fills in")

    # The recording state shown to the agent comes from the Lambda, never from the flow.
    fresh = fresh_actions(flow)
    for action in actions:
        if not isinstance(action, dict):
            continue
        ident, params = action.get("Identifier"), action.get("Parameters")
        if any("$.External." in s for s in strings(params)) and ident not in fresh:
            problems.append(f"{ident}: reads $.External (a Lambda answer) but can be reached "
                            "other than straight from an InvokeLambdaFunction's success branch")
        if action.get("Type") == "UpdateContactAttributes":
            attrs = (params or {}).get("Attributes") or {}
            status = attrs.get("callRecordingStatus")
            if status is not None and status not in ("OFF", "$.External.callRecordingStatus"):
                problems.append(f"{ident}: sets callRecordingStatus to {status!r}: it claims a "
                                "state the Lambda did not answer")
            html = attrs.get("callRecordingHTML")
            if html is not None and html != "$.External.callRecordingHTML" and claims_recording(html):
                problems.append(f"{ident}: sets callRecordingHTML to {html!r}: it claims a "
                                "state the Lambda did not answer")
            if html is not None and not str(html).startswith("$."):
                problems.extend(badge_problems(ident, html))
    return problems


def validate_guide(flow, buttons=GUIDE_BUTTONS, exported=False):
    """The agent guide: PRODUCT.md 4.4 and the issue. `exported`: a guide as the
    console exports it (any form of the Cards view, a real Lambda ARN) rather
    than ours (the placeholders the template fills in)."""
    problems = []
    actions = by_id(flow)
    views = [a for a in actions.values() if a.get("Type") == "ShowView"]
    if len(views) != 1:
        return [f"the guide has {len(views)} ShowView blocks, expected the one Cards view"]
    view = views[0]
    p = view.get("Parameters") or {}
    if exported and not is_cards_view(p.get("ViewResource")):
        problems.append(f"the ShowView must show the Cards view, not {p.get('ViewResource')!r}")
    if not exported and (p.get("ViewResource") or {}).get("Id") != CARDS_VIEW_ARN:
        problems.append(f"the ShowView must show the Cards view {CARDS_VIEW_ARN}")
    data = p.get("ViewData") or {}
    if data.get("Heading") != "Manage Call Recording":
        problems.append("the Cards view's Heading must be \"Manage Call Recording\"")
    bar = data.get("AttributeBar")
    if not (isinstance(bar, list) and bar and all({"Label", "Value"} <= set(b) for b in bar)):
        problems.append("the Cards view needs an AttributeBar of {Label, Value}")
    cards = data.get("Cards")
    if not isinstance(cards, list) or not cards:
        return problems + ["the Cards view needs Cards"]
    labels, ids = [], []
    for card in cards:
        summary, detail = card.get("Summary") or {}, card.get("Detail") or {}
        for key in ("Id", "Heading", "Icon"):
            if not summary.get(key):
                problems.append(f"a card's Summary lacks {key}")
        ids.append(summary.get("Id"))
        if not detail.get("Heading"):
            problems.append("a card's Detail lacks Heading")
        sections = detail.get("Sections")
        sections = sections if isinstance(sections, list) else [sections]
        if not any(isinstance(s, dict) and s.get("TemplateString") == "$.Attributes.callRecordingHTML"
                   for s in sections):
            problems.append("a card must show the status: a Section with TemplateString "
                            "$.Attributes.callRecordingHTML")
        labels += list(detail.get("Actions") or [])
    if len(set(ids)) != len(ids):
        problems.append("card Summary Ids must be distinct")
    if len(set(labels)) != len(labels):
        problems.append("card action labels must be distinct ($.Views.ViewResultData.actionName)")
    for label in buttons:
        if label not in labels:
            problems.append(f"the card has no {label!r} action")

    # ShowView results: ActionSelected (+ Back / NoMatchFound when the view has them).
    t = view.get("Transitions") or {}
    results = {}
    for c in t.get("Conditions") or []:
        for operand in (c.get("Condition") or {}).get("Operands") or []:
            results[operand] = c.get("NextAction")
    for result in results:
        if result not in CARDS_VIEW_RESULTS:
            problems.append(f"the Cards view has no result {result!r}")
    for slot in ("Back", "NoMatchFound"):
        if (slot in data) != (slot in results):
            problems.append(f"{slot} must be both in ViewData and a Condition of the ShowView, or neither")
    chooser = actions.get(results.get("ActionSelected"))
    if not chooser or chooser.get("Type") != "Compare" or \
            (chooser.get("Parameters") or {}).get("ComparisonValue") != "$.Views.ViewResultData.actionName":
        return problems + ["ActionSelected must lead to a Compare on $.Views.ViewResultData.actionName"]

    # Every card action has its Condition, every Condition its card action.
    branches = {}
    for c in (chooser.get("Transitions") or {}).get("Conditions") or []:
        cond = c.get("Condition") or {}
        for operand in cond.get("Operands") or []:
            branches[operand] = c.get("NextAction")
    for label in labels:
        if label not in branches:
            problems.append(f"card action {label!r} has no matching Condition")
    for operand in branches:
        if operand not in labels:
            problems.append(f"Condition {operand!r} matches no card action")

    for label, target in branches.items():
        lam = actions.get(target)
        if not lam or lam.get("Type") != "InvokeLambdaFunction":
            problems.append(f"card action {label!r} must invoke the Lambda")
            continue
        lp = lam.get("Parameters") or {}
        attrs = lp.get("LambdaInvocationAttributes") or {}
        arn = lp.get("LambdaFunctionARN")
        if exported and not (arn == "${CallRecordingLambdaArn}" or
                             LAMBDA_ARN.fullmatch(str(arn))):
            problems.append(f"{lam['Identifier']}: LambdaFunctionARN {arn!r} is not a Lambda ARN")
        if not exported and arn != "${CallRecordingLambdaArn}":
            problems.append(f"{lam['Identifier']}: LambdaFunctionARN must be ${{CallRecordingLambdaArn}}")
        if (lp.get("ResponseValidation") or {}).get("ResponseType") != "STRING_MAP":
            problems.append(f"{lam['Identifier']}: the Lambda answers a flat map: STRING_MAP")
        if attrs.get("operation") not in OPERATIONS:
            problems.append(f"{lam['Identifier']}: operation {attrs.get('operation')!r} unknown")
        initial = ("$.Attributes.initialContactId", "$.InitialContactId") if exported else \
            ("$.Attributes.initialContactId",)
        if attrs.get("initialContactId") not in initial:
            problems.append(f"{lam['Identifier']}: initialContactId must be {' or '.join(initial)}")
        track = attrs.get("voiceRecordingTrack")
        if attrs.get("operation") == "START":
            if track not in TRACKS:
                problems.append(f"{lam['Identifier']}: START needs a voiceRecordingTrack")
        elif track is not None:
            problems.append(f"{lam['Identifier']}: voiceRecordingTrack is for START only")
        if label in buttons and (attrs.get("operation"), track) != buttons[label]:
            problems.append(f"card action {label!r} must ask for {buttons[label]}, "
                            f"not {(attrs.get('operation'), track)}")

        # Success: copy the answer into the contact, then show the card again.
        chain = next_chain(flow, lam["Transitions"].get("NextAction"))
        if view["Identifier"] not in chain:
            problems.append(f"{lam['Identifier']}: success does not lead back to the card")
        else:
            chain = chain[:chain.index(view["Identifier"])]
            copied = [actions[i] for i in chain if actions[i].get("Type") == "UpdateContactAttributes"
                      and (actions[i].get("Parameters") or {}).get("TargetContact", "Current") == "Current"]
            if not any((a["Parameters"]["Attributes"].get("callRecordingStatus"),
                        a["Parameters"]["Attributes"].get("callRecordingHTML"))
                       == ("$.External.callRecordingStatus", "$.External.callRecordingHTML")
                       for a in copied):
                problems.append(f"{lam['Identifier']}: on success the guide's contact must take "
                                "callRecordingStatus/HTML from $.External")
        # Failure: say so (without claiming a state) and show the card again.
        failure = [e.get("NextAction") for e in lam["Transitions"].get("Errors") or []
                   if e.get("ErrorType") == "NoMatchingError"]
        chain = next_chain(flow, failure[0]) if failure else []
        if view["Identifier"] not in chain:
            problems.append(f"{lam['Identifier']}: a Lambda error does not lead back to the card")
        else:
            chain = chain[:chain.index(view["Identifier"])]
            shown = [((actions[i].get("Parameters") or {}).get("Attributes") or {}).get("callRecordingHTML")
                     for i in chain if actions[i].get("Type") == "UpdateContactAttributes"]
            if not any(shown):
                problems.append(f"{lam['Identifier']}: a Lambda error must change the status shown")
            for i in chain:
                attrs_set = ((actions[i].get("Parameters") or {}).get("Attributes") or {})
                if "callRecordingStatus" in attrs_set:
                    problems.append(f"{i}: after a Lambda error the state is unknown; "
                                    "do not set callRecordingStatus")
    return problems


def validate_inbound(flow):
    """The inbound flow: PRODUCT.md 4.4 and the issue."""
    problems = []
    actions = by_id(flow)
    of_type = lambda kind: [a for a in actions.values() if a.get("Type") == kind]
    transfers = of_type("TransferContactToQueue")
    if len(transfers) != 1:
        return [f"the inbound flow has {len(transfers)} TransferContactToQueue, expected one"]
    transfer = transfers[0]["Identifier"]

    def before_transfer(predicate, what):
        hits = {a["Identifier"] for a in actions.values() if predicate(a)}
        if not hits:
            problems.append(f"the inbound flow does not {what}")
        elif transfer in reachable(flow, avoid=hits):
            problems.append(f"a call can reach the queue without the flow having to {what}")

    before_transfer(lambda a: a.get("Type") == "MessageParticipant"
                    and "may be recorded" in str((a.get("Parameters") or {}).get("Text", "")),
                    "play the compliance prompt (\"... may be recorded ...\")")

    def sets(a, key, value):
        attrs = ((a.get("Parameters") or {}).get("Attributes") or {})
        return a.get("Type") == "UpdateContactAttributes" and attrs.get(key) == value

    before_transfer(lambda a: sets(a, "initialContactId", "$.InitialContactId"),
                    "set initialContactId to $.InitialContactId")
    before_transfer(lambda a: sets(a, "callRecordingStatus", "OFF"), "set callRecordingStatus OFF")
    before_transfer(lambda a: sets(a, "callRecordingHTML",
                                   "<p style='display: inline-block;color:#d91515'>NOT RECORDING ⬤</p>"),
                    "set callRecordingHTML to the red NOT RECORDING badge")
    before_transfer(lambda a: a.get("Type") == "UpdateContactRecordingBehavior",
                    "set the recording behaviour")
    before_transfer(lambda a: a.get("Type") == "UpdateContactEventHooks"
                    and (a.get("Parameters") or {}).get("EventHooks") == {"DefaultAgentUI": "${AgentGuideFlowArn}"},
                    "set the Default for Agent UI event hook to ${AgentGuideFlowArn}")
    before_transfer(lambda a: a.get("Type") == "UpdateContactTargetQueue"
                    and (a.get("Parameters") or {}).get("QueueId") == "${WorkingQueueArn}",
                    "set the working queue to ${WorkingQueueArn}")
    for a in of_type("UpdateContactRecordingBehavior"):
        rb = (a.get("Parameters") or {}).get("RecordingBehavior") or {}
        if rb.get("RecordedParticipants"):
            # Recording would start when the agent joins while the guide says NOT RECORDING.
            problems.append(f"{a['Identifier']}: automatic recording contradicts the initial "
                            "callRecordingStatus OFF; the agent starts it from the guide")
    return problems


# ---------------------------------------------------------------- template

def _cfn_loader():
    class Loader(yaml.SafeLoader):
        pass

    def tag(loader, suffix, node):
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {"Fn::" + suffix: value}

    Loader.add_multi_constructor("!", tag)
    return Loader


def parse_template(text):
    """The template as data (CloudFormation short tags become Fn::/Ref maps)."""
    return yaml.load(text, Loader=_cfn_loader())


def flow_contents_without_yaml(text):
    """Fallback reader: resource name -> the `Content: !Sub` block scalar."""
    out, resource, lines = {}, None, text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
        if m:
            resource = m.group(1)
        if re.match(r"^\s+Content: !Sub\s*$", line) and i + 1 < len(lines):
            dash = re.match(r"^(\s*)- \|\s*$", lines[i + 1])
            if dash:
                body, j = [], i + 2
                while j < len(lines) and (not lines[j].strip()
                                          or len(lines[j]) - len(lines[j].lstrip()) > len(dash.group(1))):
                    body.append(lines[j])
                    j += 1
                while body and not body[-1].strip():
                    body.pop()
                indent = min(len(b) - len(b.lstrip()) for b in body if b.strip())
                out[resource] = "\n".join(b[indent:] for b in body) + "\n"
                i = j
                continue
        i += 1
    return out


def connect_actions_by_regex(text):
    return set(re.findall(r"(?<![\w:.])(connect:[A-Za-z*]+)", text))


def _instance_arn_sub(value, suffix=""):
    return value == {"Fn::Sub": "arn:${AWS::Partition}:connect:${AWS::Region}:${AWS::AccountId}"
                                ":instance/${InstanceId}" + suffix}


def _statements(template):
    for name, res in (template.get("Resources") or {}).items():
        props = res.get("Properties") or {}
        docs = []
        if res.get("Type") == "AWS::IAM::Role":
            docs += [p.get("PolicyDocument") for p in props.get("Policies") or []]
        elif res.get("Type") in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            docs.append(props.get("PolicyDocument"))
        elif res.get("Type") == "AWS::Serverless::Function":
            for p in props.get("Policies") or []:
                docs.append(p if isinstance(p, dict) and "Statement" in p else {"Statement": [p]})
        for doc in docs:
            for st in (doc or {}).get("Statement") or []:
                yield name, st


def validate_template(text, flows):
    """deploy/template.yaml against the issue; flows: file name -> text."""
    problems = []
    t = parse_template(text)
    if t.get("Transform") != "AWS::Serverless-2016-10-31":
        problems.append("Transform must be AWS::Serverless-2016-10-31")
    params = t.get("Parameters") or {}
    for name in ("InstanceId", "Architecture"):
        if name not in params:
            problems.append(f"parameter {name} is missing")
    if set((params.get("Architecture") or {}).get("AllowedValues") or []) != {"x86_64", "arm64"}:
        problems.append("Architecture must allow x86_64 and arm64")
    res = t.get("Resources") or {}
    of_type = lambda kind: {n: r.get("Properties") or {} for n, r in res.items() if r.get("Type") == kind}

    functions = of_type("AWS::Serverless::Function")
    if len(functions) != 1:
        return problems + [f"{len(functions)} AWS::Serverless::Function, expected one"]
    fname, fn = next(iter(functions.items()))
    for key, want in (("Runtime", "provided.al2023"), ("Handler", "bootstrap"),
                      ("Architectures", [{"Ref": "Architecture"}])):
        if fn.get(key) != want:
            problems.append(f"{fname}: {key} must be {want!r}")
    if not fn.get("CodeUri"):
        problems.append(f"{fname}: CodeUri is required")
    if ((fn.get("Environment") or {}).get("Variables") or {}).get("INSTANCE_ID") != {"Ref": "InstanceId"}:
        problems.append(f"{fname}: Environment INSTANCE_ID must be the InstanceId parameter")

    # IAM: exactly the four recording actions, on this instance's contacts.
    granted = set()
    for where, st in _statements(t):
        acts = st.get("Action")
        acts = [acts] if isinstance(acts, str) else list(acts or [])
        connect = [a for a in acts if str(a).lower().startswith("connect:") or a == "*"]
        if not connect:
            continue
        granted |= set(connect)
        if st.get("Effect") != "Allow":
            problems.append(f"{where}: statement on {connect} is not Allow")
        resource = st.get("Resource")
        if not _instance_arn_sub(resource, "/contact/*"):
            problems.append(f"{where}: {connect} must be on instance/${{InstanceId}}/contact/*, "
                            f"not {resource!r}")
    if granted != RECORDING_ACTIONS:
        problems.append(f"the template must grant exactly {sorted(RECORDING_ACTIONS)}, "
                        f"it grants {sorted(granted)}")
    regex = connect_actions_by_regex(text)
    if regex != RECORDING_ACTIONS:
        problems.append(f"the template text names connect actions {sorted(regex)}")
    roles = of_type("AWS::IAM::Role")
    if fn.get("Role") not in [{"Fn::GetAtt": [n, "Arn"]} for n in roles]:
        problems.append(f"{fname}: Role must be the template's role")

    perms = of_type("AWS::Lambda::Permission")
    if not any(p.get("Principal") == "connect.amazonaws.com" and p.get("Action") == "lambda:InvokeFunction"
               and _instance_arn_sub(p.get("SourceArn")) for p in perms.values()):
        problems.append("an AWS::Lambda::Permission must let connect.amazonaws.com invoke the "
                        "function, SourceArn the instance")
    assoc = of_type("AWS::Connect::IntegrationAssociation")
    if not any(a.get("IntegrationType") == "LAMBDA_FUNCTION" and _instance_arn_sub(a.get("InstanceId"))
               and a.get("IntegrationArn") == {"Fn::GetAtt": [fname, "Arn"]} for a in assoc.values()):
        problems.append("an AWS::Connect::IntegrationAssociation must add the function (LAMBDA_FUNCTION)")

    # The two flows, verbatim, with the placeholders substituted.
    contact_flows = of_type("AWS::Connect::ContactFlow")
    covered = set()
    for name, props in contact_flows.items():
        if props.get("Type") != "CONTACT_FLOW" or not _instance_arn_sub(props.get("InstanceArn")):
            problems.append(f"{name}: Type CONTACT_FLOW and InstanceArn of the instance are required")
        sub = (props.get("Content") or {}).get("Fn::Sub")
        if not (isinstance(sub, list) and len(sub) == 2 and isinstance(sub[0], str)):
            problems.append(f"{name}: Content must be !Sub [flow JSON, placeholder values]")
            continue
        body, values = sub
        match = [f for f, ftext in flows.items() if parse_flow_text(ftext) == parse_flow_text(body)]
        if not match:
            problems.append(f"{name}: Content differs from every flows/*.json")
        covered.update(match)
        for placeholder in sorted(set(re.findall(r"\$\{([^}!]*)\}", body))):
            if placeholder not in values and placeholder not in PSEUDO_PARAMETERS:
                problems.append(f"{name}: ${{{placeholder}}} is not filled in")
        if "${CallRecordingLambdaArn}" in body and \
                values.get("CallRecordingLambdaArn") != {"Fn::GetAtt": [fname, "Arn"]}:
            problems.append(f"{name}: CallRecordingLambdaArn must be the function's ARN")
    for missing in sorted(set(flows) - covered):
        problems.append(f"flows/{missing} is not deployed by the template")
    return problems


# ---------------------------------------------------------------- tests

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
