"""The rules deploy/template.yaml must follow, as a validator that returns a
list of problems (test_flows.py runs it): exactly the four
connect:*ContactRecording actions on the instance's contacts, the flows inlined
verbatim with the ARNs substituted. PyYAML is used when present, with a small
fallback reader otherwise.
"""

import re

try:
    import yaml  # PyYAML: optional, see TemplateReader
except ImportError:  # pragma: no cover - exercised on machines without PyYAML
    yaml = None

from flow_rules import PSEUDO_PARAMETERS, RECORDING_ACTIONS, parse_flow_text

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
