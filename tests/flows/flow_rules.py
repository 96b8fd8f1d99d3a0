"""The rules an Amazon Connect flow in flows/ must follow, as validators that
return a list of problems (test_flows.py runs them):
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
    callRecordingStatus/callRecordingHTML to RECORDING or PAUSED by itself;
  - the guide (Cards view, Lambda per button, state from the answer, badges
    readable on white) and the inbound flow (prompt, attributes, recording
    behaviour, event hook, queue).
"""

import json
import pathlib
import re

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
