#!/usr/bin/env python3
"""Writes crates/interp/model/mock-shapes.json: the output shapes TestState checks a
mocked Task result against (`mock.fieldValidationMode`), cut down from botocore's
service models to what that check needs.

Usage: scripts/gen-mock-shapes.py [BOTOCORE_DATA_DIR] [OUT]
(default: target/py-venv/lib/python3.11/site-packages/botocore/data, the file above).
Standard library only; run it again after updating botocore and commit the result.

The file:
  {"botocore": VERSION,
   "integrations": {KEY: {"service": SERVICE, "ops": {ACTION: SHAPE}}},
   "services": {SERVICE: {SHAPE: SHAPE_DEF}}}
KEY is how a Task resource names the integration: an optimized one (`dynamodb`, as in
`arn:aws:states:::dynamodb:getItem`) or `aws-sdk:NAME` (`arn:aws:states:::aws-sdk:s3:…`).
ACTION is the resource's action as written (`getItem`, `startExecution.sync:2`).
A SHAPE_DEF is a list, its first element the kind:
  ["o", {MEMBER: REF}, [REQUIRED…]]  structure (member names as Step Functions
                                     returns them: first letter upper case)
  ["l", REF]                         list
  ["m", REF]                         map (the values' shape; keys are not checked)
  ["s", {"enum": […], "min": N, "max": N}]   string or blob (constraints optional)
  ["n", {"min": N, "max": N}]        integer, long, float, double
A REF is a shape name of the same service, or one of "#s" (string, timestamp or blob
without constraints), "#n" (number without constraints), "#b" (boolean), "#a" (anything:
documents, event streams, and the fields Step Functions returns as JSON).
"""

import gzip
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "target/py-venv/lib/python3.11/site-packages/botocore/data")
OUT = os.path.join(ROOT, "crates/interp/model/mock-shapes.json")

# Services whose every operation is reachable through `aws-sdk:NAME:action`.
SDK_SERVICES = [
    "s3", "kms", "lambda", "dynamodb", "sqs", "sns", "secretsmanager", "ssm", "sts",
    "events", "stepfunctions", "ecs", "batch", "glue", "athena", "codebuild", "eks",
    "bedrock-runtime", "sagemaker",
]

# The SDK integration's name of a botocore service, where it differs.
SDK_NAMES = {"stepfunctions": "sfn", "events": "eventbridge", "bedrock-runtime": "bedrockruntime"}

# Optimized integrations: resource service → (botocore service, {action: operation}).
# `.sync` variants other than Step Functions' return another API's output and are not
# listed (not validated); `.waitForTaskToken` results come from SendTaskSuccess.
OPTIMIZED = {
    "lambda": ("lambda", {"invoke": "Invoke"}),
    "dynamodb": ("dynamodb", {a: a[0].upper() + a[1:] for a in
                              ["getItem", "putItem", "deleteItem", "updateItem"]}),
    "sns": ("sns", {"publish": "Publish"}),
    "sqs": ("sqs", {"sendMessage": "SendMessage"}),
    "events": ("events", {"putEvents": "PutEvents"}),
    "states": ("stepfunctions", {
        "startExecution": "StartExecution",
        "startExecution.sync": "DescribeExecution",
        "startExecution.sync:2": "DescribeExecution",
    }),
    "ecs": ("ecs", {"runTask": "RunTask"}),
    "batch": ("batch", {"submitJob": "SubmitJob"}),
    "glue": ("glue", {"startJobRun": "StartJobRun"}),
    "athena": ("athena", {a: a[0].upper() + a[1:] for a in [
        "startQueryExecution", "stopQueryExecution", "getQueryExecution", "getQueryResults"]}),
    "codebuild": ("codebuild", {a: a[0].upper() + a[1:] for a in [
        "startBuild", "stopBuild", "batchDeleteBuilds", "batchGetReports",
        "startBuildBatch", "stopBuildBatch", "retryBuildBatch", "deleteBuildBatch"]}),
    "eks": ("eks", {a: a[0].upper() + a[1:] for a in [
        "createCluster", "deleteCluster", "createFargateProfile", "deleteFargateProfile",
        "createNodegroup", "deleteNodegroup"]}),
    "sagemaker": ("sagemaker", {a: a[0].upper() + a[1:] for a in [
        "createEndpoint", "createEndpointConfig", "createHyperParameterTuningJob",
        "createLabelingJob", "createModel", "createProcessingJob", "createTrainingJob",
        "createTransformJob", "updateEndpoint"]}),
    "bedrock": ("bedrock-runtime", {"invokeModel": "InvokeModel"}),
}

# Members Step Functions returns as JSON rather than as the API's string or blob:
# (integration key, action) → members of the output shape that accept anything.
AS_JSON = {
    ("lambda", "invoke"): ["Payload"],
    ("bedrock", "invokeModel"): ["Body"],
    ("states", "startExecution.sync:2"): ["Input", "Output"],
}

# Constraints as AWS's TestState checked them when recorded, where botocore's model has
# moved on since: (service, shape) → constraints replacing the model's. Lambda's
# MemorySize: 10241 "exceeds the maximum value" (test_field_validation_mode
# integer_more_than_maximum_allowed, 2025-12-03); botocore now says 32768.
CONSTRAINTS = {
    ("lambda", "MemorySize"): {"min": 128, "max": 10240},
}


def sfn_cased(name):
    return name[:1].upper() + name[1:]


def latest(data, service):
    d = os.path.join(data, service)
    version = sorted(v for v in os.listdir(d) if os.path.isdir(os.path.join(d, v)))[-1]
    path = os.path.join(d, version, "service-2.json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


class Service:
    def __init__(self, name, model):
        self.name = name
        self.model = model
        self.shapes = {}

    def ref(self, name):
        """A reference to shape `name`, adding it (and what it reaches) to self.shapes."""
        s = self.model["shapes"][name]
        t = s["type"]
        if s.get("eventstream") or t == "structure" and s.get("document"):
            return "#a"
        if t in ("string", "blob", "timestamp"):
            c = {}
            if t != "timestamp":
                if "enum" in s:
                    c["enum"] = s["enum"]
                for k in ("min", "max"):
                    if k in s:
                        c[k] = s[k]
            if not c:
                return "#s"
            self.shapes.setdefault(name, ["s", c])
            return name
        if t in ("integer", "long", "float", "double"):
            c = CONSTRAINTS.get((self.name, name)) or {k: s[k] for k in ("min", "max") if k in s}
            if not c:
                return "#n"
            self.shapes.setdefault(name, ["n", c])
            return name
        if t == "boolean":
            return "#b"
        if name in self.shapes:
            return name
        if t == "structure":
            members = {}
            self.shapes[name] = ["o", members, [sfn_cased(r) for r in s.get("required", [])]]
            for m, ms in s["members"].items():
                members[sfn_cased(m)] = self.ref(ms["shape"])
        elif t == "list":
            self.shapes[name] = ["l", None]
            self.shapes[name][1] = self.ref(s["member"]["shape"])
        elif t == "map":
            self.shapes[name] = ["m", None]
            self.shapes[name][1] = self.ref(s["value"]["shape"])
        else:
            return "#a"
        return name

    def output(self, op):
        o = self.model["operations"][op].get("output")
        return self.ref(o["shape"]) if o else None


def lower_camel(op):
    return op[:1].lower() + op[1:]


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else DATA
    out = sys.argv[2] if len(sys.argv) > 2 else OUT
    services = {}
    integrations = {}

    def service(name):
        if name not in services:
            services[name] = Service(name, latest(data, name))
        return services[name]

    for name in SDK_SERVICES:
        svc = service(name)
        ops = {}
        for op in sorted(svc.model["operations"]):
            shape = svc.output(op)
            if shape is not None:
                ops[lower_camel(op)] = shape
        integrations["aws-sdk:" + SDK_NAMES.get(name, name)] = {"service": name, "ops": ops}

    for key, (name, actions) in OPTIMIZED.items():
        svc = service(name)
        ops = {}
        for action, op in actions.items():
            if op not in svc.model["operations"]:
                continue
            shape = svc.output(op)
            if shape is None:
                continue
            as_json = AS_JSON.get((key, action))
            if as_json:
                # A copy of the output shape with those members accepting any JSON.
                base = svc.shapes[shape]
                members = dict(base[1])
                for m in as_json:
                    members[m] = "#a"
                copy = f"{shape}@{key}:{action}"
                svc.shapes[copy] = ["o", members, base[2]]
                shape = copy
            ops[action] = shape
        integrations[key] = {"service": name, "ops": ops}

    version = "unknown"
    try:
        with open(os.path.join(os.path.dirname(data), "__init__.py"), encoding="utf-8") as f:
            for line in f:
                if line.startswith("__version__"):
                    version = line.split("=", 1)[1].strip().strip("'\"")
    except OSError:
        pass
    doc = {
        "botocore": version,
        "integrations": dict(sorted(integrations.items())),
        "services": {n: dict(sorted(s.shapes.items())) for n, s in sorted(services.items())},
    }
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, separators=(",", ":"), sort_keys=False)
        f.write("\n")
    size = os.path.getsize(out)
    print(f"{out}: {size} bytes, {len(integrations)} integrations, {len(services)} services")


if __name__ == "__main__":
    main()
