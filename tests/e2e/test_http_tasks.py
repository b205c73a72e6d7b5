"""HTTP Tasks (`arn:aws:states:::http:invoke`) against a real local HTTP server, through
`stepwise serve --config` with an API-key connection whose secret comes from the
environment and never reaches the history."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import serve_own
import helpers
from helpers import create_sm, history, start, types, wait_for_execution

SECRET = "sk-e2e-4f1c9a"
CONNECTION = "arn:aws:events:us-east-1:123456789012:connection/payments/0c6b3d1e-7a51-4f0e-9d1e-5a2f7f1b9c11"


class Payments(BaseHTTPRequestHandler):
    """Charges cards: POST /charges (needs the API key), GET /charges/<id>, 404 otherwise."""

    seen: list[dict] = []

    def _reply(self, status: int, body: dict | str, content_type: str = "application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Payments", "v1")
        self.end_headers()
        self.wfile.write(data)

    def _record(self, body: bytes):
        Payments.seen.append({
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode(),
        })

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._record(body)
        if self.headers.get("x-api-key") != SECRET:
            return self._reply(401, {"message": "no key"})
        charge = json.loads(body)
        if charge.get("card", "").endswith("0002"):
            return self._reply(402, {"error": "card_declined"})
        self._reply(201, {"id": "ch_1", "amount": charge["amount"], "status": "succeeded"})

    def do_GET(self):
        self._record(b"")
        if self.path == "/slow":
            time.sleep(0.3)
            return self._reply(200, {"slow": True})
        if self.path.startswith("/charges/"):
            return self._reply(200, "plain text receipt", "text/plain")
        self._reply(404, {"message": "not found"})

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def payments():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Payments)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def sfn(payments, tmp_path_factory):
    config = tmp_path_factory.mktemp("http-tasks") / "stepwise.toml"
    config.write_text(
        '[connections.payments]\nAuthorizationType = "API_KEY"\n'
        '[connections.payments.AuthParameters.ApiKeyAuthParameters]\n'
        'ApiKeyName = "x-api-key"\nApiKeyValue = "${E2E_PAYMENTS_KEY}"\n'
    )
    os.environ["E2E_PAYMENTS_KEY"] = SECRET
    for endpoint in serve_own("0", ("--config", str(config))):
        client = helpers.client(endpoint)
        yield client
        client.close()


def http_definition(endpoint: str, method: str, **params) -> dict:
    return {"StartAt": "Call", "States": {"Call": {
        "Type": "Task",
        "Resource": "arn:aws:states:::http:invoke",
        "Parameters": {"ApiEndpoint": endpoint, "Method": method,
                       "Authentication": {"ConnectionArn": CONNECTION}, **params},
        "End": True,
    }}}


def run(sfn, definition, input=None):
    sm = create_sm(sfn, definition)["stateMachineArn"]
    arn = start(sfn, sm, input if input is not None else {})
    return arn, wait_for_execution(sfn, arn)


def test_a_post_with_the_connection_key_returns_aws_shaped_output(sfn, payments):
    Payments.seen.clear()
    definition = http_definition(
        f"{payments}/charges", "POST",
        **{"RequestBody": {"amount.$": "$.amount", "card": "4111111111111111"},
           "Headers": {"Idempotency-Key": "order-7"}, "QueryParameters": {"currency": "eur"}},
    )
    arn, d = run(sfn, definition, {"amount": 1250})
    assert d["status"] == "SUCCEEDED", d
    out = json.loads(d["output"])
    assert list(out) == ["Headers", "ResponseBody", "StatusCode", "StatusText"]
    assert out["StatusCode"] == 201
    assert out["StatusText"] == "Created"
    assert out["ResponseBody"] == {"id": "ch_1", "amount": 1250, "status": "succeeded"}
    assert out["Headers"]["x-payments"] == ["v1"]
    (req,) = Payments.seen
    assert req["method"] == "POST"
    assert req["path"] == "/charges?currency=eur"
    assert req["headers"]["x-api-key"] == SECRET
    assert req["headers"]["idempotency-key"] == "order-7"
    assert req["headers"]["user-agent"] == "Amazon|StepFunctions|HttpInvoke|us-east-1"
    assert req["headers"]["content-type"] == "application/json; charset=UTF-8"
    assert json.loads(req["body"]) == {"amount": 1250, "card": "4111111111111111"}
    events = history(sfn, arn)
    assert types(events)[2:5] == ["TaskScheduled", "TaskStarted", "TaskSucceeded"]
    scheduled = events[2]["taskScheduledEventDetails"]
    assert (scheduled["resourceType"], scheduled["resource"]) == ("http", "invoke")
    assert SECRET not in json.dumps(events, default=str)


def test_a_status_error_is_states_http_status_code_and_can_be_caught(sfn, payments):
    definition = http_definition(f"{payments}/charges", "POST", RequestBody={"amount": 5, "card": "4000000000000002"})
    definition["States"]["Call"].pop("End")
    definition["States"]["Call"]["Next"] = "Charged"
    definition["States"]["Call"]["Catch"] = [
        {"ErrorEquals": ["States.Http.StatusCode.402"], "ResultPath": "$.declined", "Next": "Declined"}]
    definition["States"]["Charged"] = {"Type": "Succeed"}
    definition["States"]["Declined"] = {"Type": "Pass", "End": True}
    arn, d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    declined = json.loads(d["output"])["declined"]
    assert declined["Error"] == "States.Http.StatusCode.402"
    assert "card_declined" in declined["Cause"]
    assert SECRET not in json.dumps(history(sfn, arn), default=str)


def test_text_bodies_stay_strings_and_404_fails_the_execution(sfn, payments):
    _, d = run(sfn, http_definition(f"{payments}/charges/ch_1", "GET"))
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["ResponseBody"] == "plain text receipt"
    _, d = run(sfn, http_definition(f"{payments}/nothing", "GET"))
    assert d["status"] == "FAILED"
    assert d["error"] == "States.Http.StatusCode.404"


def test_an_unknown_connection_says_which_config_key_to_add(sfn, payments):
    definition = http_definition(f"{payments}/charges", "GET")
    definition["States"]["Call"]["Parameters"]["Authentication"]["ConnectionArn"] = (
        "arn:aws:events:us-east-1:123456789012:connection/ledger/1")
    _, d = run(sfn, definition)
    assert d["status"] == "FAILED"
    assert d["error"] == "Events.ConnectionResource.ResourceNotFound"
    assert "[connections.ledger]" in d["cause"]


def test_a_closed_port_is_a_socket_error(sfn):
    _, d = run(sfn, http_definition("http://127.0.0.1:9/charges", "GET"))
    assert d["status"] == "FAILED"
    assert d["error"] == "States.Http.Socket"


def test_test_state_calls_http_for_real_and_reveals_secrets_only_when_asked(sfn, payments):
    Payments.seen.clear()
    state = http_definition(f"{payments}/charges", "POST", RequestBody={"amount": 7, "card": "4111111111111111"})["States"]["Call"]
    for reveal in (False, True):
        r = sfn.test_state(definition=json.dumps(state), roleArn=helpers.ROLE_ARN, input="{}",
                           inspectionLevel="TRACE", revealSecrets=reveal)
        assert r["status"] == "SUCCEEDED", r
        assert json.loads(r["output"])["StatusCode"] == 201
        request = r["inspectionData"]["request"]
        response = r["inspectionData"]["response"]
        assert request["method"] == "POST"
        assert request["url"] == f"{payments}/charges"
        assert json.loads(request["body"]) == {"amount": 7, "card": "4111111111111111"}
        assert (SECRET in request["headers"]) == reveal, request["headers"]
        assert response["statusCode"] == "201"
        assert response["statusMessage"] == "Created"
        assert json.loads(response["body"])["id"] == "ch_1"
    assert len(Payments.seen) == 2


def test_under_time_scale_0_a_calls_timeout_stays_real(sfn, payments):
    """The server runs with --time-scale 0: Waits are instant, but a call's TimeoutSeconds
    must leave it time to answer."""
    definition = http_definition(f"{payments}/slow", "GET")
    definition["States"]["Call"]["TimeoutSeconds"] = 10
    _, d = run(sfn, definition)
    assert d["status"] == "SUCCEEDED", d
    assert json.loads(d["output"])["ResponseBody"] == {"slow": True}
