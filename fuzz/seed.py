#!/usr/bin/env python3
"""Seed corpora for the fuzz targets (run by scripts/fuzz; Python 3 standard library).

    fuzz/seed.py CORPUS_DIR [CASES_DIR]

Reads the conformance corpus (CASES_DIR/*/definition.json and input.json; default
/work/shared/conformance/cases or $STEPWISE_CONFORMANCE_CASES), the repository's
testdata/ definitions and the API's service model, and writes seeds into
CORPUS_DIR/<target>/, one file per distinct input (named by its SHA-1, so running
this again adds nothing twice). The `snapshot` target writes its own seeds (valid
snapshots need the interpreter): see fuzz_targets/snapshot.rs.
"""

import hashlib
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
JSONATA_MAX = 512  # the jsonata target ignores longer inputs
PATH_FIELDS = {
    "InputPath", "OutputPath", "ResultPath", "ItemsPath", "SecondsPath",
    "TimestampPath", "Variable", "ErrorPath", "CausePath", "ToleratedFailureCountPath",
    "ToleratedFailurePercentagePath", "MaxConcurrencyPath", "TimeoutSecondsPath",
    "HeartbeatSecondsPath", "MaxItemsPath",
}


class Corpus:
    def __init__(self, base):
        self.base = Path(base)
        self.counts = {}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        d = self.base / target
        d.mkdir(parents=True, exist_ok=True)
        p = d / hashlib.sha1(data).hexdigest()
        if not p.exists():
            p.write_bytes(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def walk(value, key=None):
    """Yields (key, value) for every member and element, depth first."""
    yield key, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v, key)


def jsonata_bodies(s):
    s = s.strip()
    if s.startswith("{%") and s.endswith("%}") and len(s) >= 4:
        return [s[2:-2]]
    return []


def states_of(states_obj, query_language):
    """Every state (name, definition, its query language), nested ones included."""
    if not isinstance(states_obj, dict):
        return
    for name, st in states_obj.get("States", {}).items() if isinstance(states_obj.get("States"), dict) else []:
        if not isinstance(st, dict):
            continue
        ql = st.get("QueryLanguage", query_language)
        yield name, st, ql
        for b in st.get("Branches", []) if isinstance(st.get("Branches"), list) else []:
            yield from states_of(b, ql)
        for proc in ("ItemProcessor", "Iterator"):
            if isinstance(st.get(proc), dict):
                yield from states_of(st[proc], ql)


def seed_definitions(c, definitions):
    for text, value, input_text in definitions:
        c.add("definition", text)
        if not isinstance(value, dict):
            continue
        top_ql = value.get("QueryLanguage", "JSONPath")
        # Expressions anywhere in the definition.
        for key, v in walk(value):
            if not isinstance(v, str) or not isinstance(key, str):
                continue
            for body in jsonata_bodies(v):
                if len(body.encode()) <= JSONATA_MAX:
                    c.add("jsonata", body)
            if key.endswith(".$") or key in PATH_FIELDS or (key.endswith("Path") and v.startswith("$")):
                if v.lstrip().startswith("States."):
                    c.add("intrinsics", v)
                elif v.lstrip().startswith("$"):
                    c.add("jsonpath", v)
        # Single states for TestState.
        for i, (name, st, ql) in enumerate(states_of(value, top_ql)):
            st = dict(st)
            if ql == "JSONata" and "QueryLanguage" not in st:
                st["QueryLanguage"] = "JSONata"
            kind = st.get("Type")
            needs_mock = kind in ("Task", "Parallel", "Map")
            level = bytes([i % 3])
            state_text = json.dumps(st, indent=1)
            if needs_mock:
                mock_result = json.dumps([1, 2] if kind == "Map" else {"Payload": {"ok": True}})
                c.add("test_state", b"\0".join([state_text.encode(), input_text.encode(),
                                                 level + b"\x01", mock_result.encode()]))
                c.add("test_state", b"\0".join([state_text.encode(), input_text.encode(),
                                                 level + b"\x02\x02", b"States.TaskFailed",
                                                 b"", b"", b"", b"boom"]))
            else:
                c.add("test_state", b"\0".join([state_text.encode(), input_text.encode(), level]))
            # The whole machine with a state named, once per machine.
            if i == 0:
                c.add("test_state", b"\0".join([text.encode(), input_text.encode(), b"\x02",
                                                 b"", b'{"v": 1}', b"", name.encode()]))


HAND_JSONPATH = [
    "$", "$$", "$.a", "$.b[2].c", "$.b[-1]", "$.items[*].name", "$.items[?(@.price > 10)].id",
    "$.items[?(@.tags)]", "$..id", "$.b[0:2]", "$.b[::2]", "$.items.length()", "$.b.min()",
    "$.items[*].price.sum()", "$['a','s']", "$.obj['nested']['deep'][1][1][0]", "$$.Execution.Input.a",
    "$$.Map.Item.Value", "$v", "$o.a[1].b", "$.items[?(@.name == 'two')]", "$.items[?(@.id in [1,2])]",
    "$.items[?(@.name =~ /t.*/)]", "$.b[0,1]", "$.*", "$..*", "$.text", "$.unicode",
]

HAND_INTRINSICS = [
    "States.Format('Hello {}, {}!', $.s, $.a)", "States.StringToJson($.json)",
    "States.JsonToString($.obj)", "States.Array(1, 'two', $.b, States.UUID())",
    "States.ArrayPartition($.b, 2)", "States.ArrayContains($.b, 1)", "States.ArrayRange(1, 9, 2)",
    "States.ArrayGetItem($.b, 1)", "States.ArrayLength($.items)", "States.ArrayUnique($.b)",
    "States.Base64Encode($.s)", "States.Base64Decode($.b64)", "States.Hash($.s, 'SHA-256')",
    "States.JsonMerge($.obj, $$.Execution, false)", "States.MathRandom(1, 100)",
    "States.MathRandom(1, 100, 7)", "States.MathAdd($.a, -1)", "States.StringSplit('a,b,,c', ',')",
    "States.UUID()", "States.Format('{} \\' \\{ \\}', $v)", "States.Hash('x', 'MD5')",
]

HAND_JSONATA = [
    "$states.input.a + 1", "$states.input.items[price > 10].name", "$sum($states.input.items.price)",
    "$string($states.context)", "$partition([1,2,3,4,5], 2)", "$range(0, 10, 3)",
    "$hash('x', 'SHA-256')", "$random()", "$uuid()", "$parse('{\"a\": [1]}')",
    "($f := function($n){ $n <= 1 ? 1 : $n * $f($n - 1) }; $f(10))",
    "$states.input.items{name: price}", "$map($arr, function($x){ $x * 2 })",
    "$sort($arr)", "$states.input.obj ~> $keys()", "$formatNumber(1234.5, '#,##0.00')",
    "$now()", "$millis()", "$split('a,b', ',')", "$match('abc', /b/)", "$replace('aaa', 'a', 'b')",
    "$states.result.Payload.list[1]", "$states.errorOutput.Cause", "$v", "$o.a[1].b",
    "$toMillis('2024-01-01T00:00:00Z')", "$fromMillis(0)", "$base64encode('x')",
    "$states.input.b[$type($) = 'object']", "[1..5]", "$exists($states.input.n)",
]


def seed_api(c, definitions):
    model = json.loads((ROOT / "crates/api/model/stepfunctions-2016-11-23.json").read_text())
    shapes = model["shapes"]
    some_def = definitions[0][0] if definitions else '{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}'
    arns = {
        "stateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
        "executionArn": "arn:aws:states:us-east-1:123456789012:execution:sm:ex",
        "activityArn": "arn:aws:states:us-east-1:123456789012:activity:act",
        "stateMachineAliasArn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm:alias",
        "stateMachineVersionArn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm:1",
        "mapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:sm/m:1",
        "roleArn": "arn:aws:iam::123456789012:role/r",
        "resourceArn": "arn:aws:states:us-east-1:123456789012:stateMachine:sm",
    }

    def sample(shape_name, member, depth=0, full=True):
        sh = shapes[shape_name]
        t = sh["type"]
        if t == "structure":
            out = {}
            req = set(sh.get("required", []))
            for m, ref in sh.get("members", {}).items():
                if (full or m in req) and depth < 6:
                    out[m] = sample(ref["shape"], m, depth + 1, full)
            return out
        if t == "list":
            return [sample(sh["member"]["shape"], member, depth + 1, full)] if depth < 6 else []
        if t == "map":
            return {"k": sample(sh["value"]["shape"], member, depth + 1, full)}
        if t in ("integer", "long"):
            return sh.get("min", 1)
        if t == "float":
            return 1.0
        if t == "boolean":
            return True
        if t == "timestamp":
            return 1700000000
        if "enum" in sh:
            return sh["enum"][0]
        if member in arns:
            return arns[member]
        if member and member.lower().endswith("arn"):
            return arns["stateMachineArn"]
        if member == "definition":
            return some_def
        if member in ("input", "output", "result", "variables", "context"):
            return '{"a": 1}'
        if member in ("name", "key", "value", "description", "cause", "error"):
            return "n"
        return "x" * max(1, sh.get("min", 1))

    for i, (op_name, op) in enumerate(model["operations"].items()):
        pick = bytes([i])
        c.add("api_request", pick + b"{}")
        c.add("api_request", pick)
        inp = op.get("input", {}).get("shape")
        if not inp:
            continue
        for full in (True, False):
            c.add("api_request", pick + json.dumps(sample(inp, None, full=full)).encode())
        # A wrong type for every member (SerializationException paths).
        for m in shapes[inp].get("members", {}):
            c.add("api_request", pick + json.dumps({m: [{"x": None}]}).encode())


# stepwise.toml: every key the file knows, and the resource shapes a Task names.
HAND_CONFIG = [
    '[functions.f]\ncommand = ["python3", "f.py"]\ntimeout = 30\nconcurrency = 4\nenvironment = { A = "${SET}" }\nmemory_size = 256\n',
    '[functions.g]\nbootstrap = ["python3", "-m", "awslambdaric", "app.handler"]\ncwd = "fn"\n',
    '[functions.h]\nendpoint = "http://127.0.0.1:3001"\nfunction_name = "h-prod"\n',
    '[connections.c]\nAuthorizationType = "API_KEY"\n[connections.c.AuthParameters.ApiKeyAuthParameters]\nApiKeyName = "k"\nApiKeyValue = "$${NOT}${SET}"\n',
    '[connections.b]\nAuthorizationType = "BASIC"\n[connections.b.AuthParameters.BasicAuthParameters]\nUsername = "u"\nPassword = "p"\n[connections.b.AuthParameters.InvocationHttpParameters]\nHeaderParameters = [{ Key = "a", Value = "b", IsValueSecret = true }]\n',
    '[connections.o]\nAuthorizationType = "OAUTH_CLIENT_CREDENTIALS"\n[connections.o.AuthParameters.OAuthParameters]\nAuthorizationEndpoint = "https://auth"\nHttpMethod = "POST"\nClientParameters = { ClientID = "i", ClientSecret = "s" }\n',
    '[state_machines.t]\ndefinition = "t.asl.json"\n',
    "arn:aws:states:::lambda:invoke.waitForTaskToken",
    "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
    "arn:aws:states:::states:startExecution.sync:2",
    "arn:aws:states:::http:invoke",
]


def main():
    corpus = Corpus(sys.argv[1] if len(sys.argv) > 1 else ROOT / "fuzz/corpus")
    cases = Path(sys.argv[2] if len(sys.argv) > 2 else
                 os.environ.get("STEPWISE_CONFORMANCE_CASES", "/work/shared/conformance/cases"))
    definitions = []  # (text, parsed value or None, input text)
    files = sorted(cases.glob("*/definition.json")) if cases.is_dir() else []
    if not files:
        print(f"seed.py: no conformance cases under {cases}; seeding from testdata only", file=sys.stderr)
    for f in files:
        text = f.read_text()
        inp = f.parent / "input.json"
        input_text = inp.read_text() if inp.exists() else "{}"
        try:
            definitions.append((text, json.loads(text), input_text))
        except ValueError:
            definitions.append((text, None, input_text))
    for f in sorted((ROOT / "testdata").rglob("*.json")):
        text = f.read_text()
        try:
            definitions.append((text, json.loads(text), "{}"))
        except ValueError:
            definitions.append((text, None, "{}"))
    seed_definitions(corpus, definitions)
    for s in HAND_JSONPATH:
        corpus.add("jsonpath", s)
    for s in HAND_INTRINSICS:
        corpus.add("intrinsics", s)
    for s in HAND_JSONATA:
        corpus.add("jsonata", s)
    seed_api(corpus, definitions)
    for s in HAND_CONFIG:
        corpus.add("config", s)
    for f in sorted((ROOT / "examples").rglob("*.toml")):
        corpus.add("config", f.read_text())
    total = ", ".join(f"{t} +{n}" for t, n in sorted(corpus.counts.items())) or "nothing new"
    print(f"seed.py: {total}", file=sys.stderr)


if __name__ == "__main__":
    main()
