"""The function `stepwise bench --tasks` calls: one handler, run by a Lambda Runtime API
loop kept warm (`function.py runtime`, a `bootstrap`) or once with the event on stdin and
the result on stdout (`function.py oneshot`, a `command`). Python standard library only."""
import http.client, json, os, sys

def handler(event, context):
    return {"ok": True, "n": event.get("n") if isinstance(event, dict) else None}

def runtime():
    host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port))
    base = "/2018-06-01/runtime/invocation/"
    while True:
        conn.request("GET", base + "next")
        r = conn.getresponse()
        event = json.loads(r.read())
        rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
        try:
            body, kind = json.dumps(handler(event, None)), "response"
        except Exception as e:
            body, kind = json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)}), "error"
        conn.request("POST", base + rid + "/" + kind, body, {"Content-Type": "application/json"})
        conn.getresponse().read()

def oneshot():
    sys.stdout.write(json.dumps(handler(json.load(sys.stdin), None)))

{"runtime": runtime, "oneshot": oneshot}[sys.argv[1]]()
