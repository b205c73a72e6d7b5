use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("stepwise.toml"), Path::new("."), &|k| {
        (k == "KEY").then(|| "s3cret".to_string())
    })
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn the_issue_example_loads() {
    let c = parse(
        r#"
[functions.check-inventory]
command = ["python3", "fn/check_inventory.py"]

[functions.charge-payment]
bootstrap = ["python3", "-m", "awslambdaric", "app.handler"]
timeout = 30
concurrency = 4

[functions.thumbnails]
endpoint = "http://127.0.0.1:3001/"

[connections.payments]
AuthorizationType = "API_KEY"
[connections.payments.AuthParameters.ApiKeyAuthParameters]
ApiKeyName = "x-api-key"
ApiKeyValue = "${KEY}"
"#,
    )
    .unwrap();
    assert_eq!(
        c.functions["check-inventory"].backend,
        Backend::Command(vec!["python3".into(), "fn/check_inventory.py".into()])
    );
    assert_eq!(c.functions["check-inventory"].timeout, DEFAULT_TIMEOUT);
    let pay = &c.functions["charge-payment"];
    assert_eq!(pay.timeout, Duration::from_secs(30));
    assert_eq!(pay.backend.kind(), "bootstrap");
    assert_eq!(
        c.functions["thumbnails"].backend,
        Backend::Endpoint {
            url: "http://127.0.0.1:3001".into(),
            function_name: "thumbnails".into()
        }
    );
    let conn = &c.connections["payments"];
    assert_eq!(conn.authorization_type, AuthorizationType::ApiKey);
    assert_eq!(
        conn.auth_parameters.api_key.as_ref().unwrap().value,
        "s3cret"
    );
}

#[test]
fn bad_files_name_the_key() {
    assert!(
        err("[functions.f]\ncommand = [\"sh\"]\nbootstrap = [\"b\"]\n")
            .contains("functions.f: give only one of command, bootstrap or endpoint")
    );
    assert!(err("[functions.f]\n").contains("functions.f: give one of"));
    assert!(
        err("[functions.f]\ncommand = [\"sh\"]\ntimout = 3\n").contains("unknown field `timout`")
    );
    assert!(err("[functions.f]\ncommand = [\"sh\"]\ntimeout = 0\n").contains("functions.f.timeout"));
    assert!(err("[functions.f]\ncommand = [\"sh\"]\nconcurrency = 0\n")
        .contains("functions.f.concurrency"));
    assert!(err("[functions.f]\ncommand = []\n").contains("functions.f.command"));
    assert!(err("[functions.\"a b\"]\ncommand = [\"sh\"]\n").contains("functions.a b"));
    assert!(err("[functions.f]\nendpoint = \"localhost:3000\"\n").contains("functions.f.endpoint"));
    assert!(
        err("[functions.f]\ncommand = [\"sh\"]\ncwd = \"no/such/dir\"\n")
            .contains("functions.f.cwd")
    );
    let e = err("[functions.f]\ncommand = [\"no-such-program-xyz\"]\n");
    assert!(
        e.contains("functions.f.command: the program 'no-such-program-xyz'"),
        "{e}"
    );
    let e = err("[functions.f]\nbootstrap = [\"./missing.sh\"]\n");
    assert!(e.contains("functions.f.bootstrap"), "{e}");
    assert!(err("[function.f]\ncommand = [\"sh\"]\n").contains("unknown field `function`"));
    assert!(err("[functions.f\n").contains("stepwise.toml"));
    assert!(err("[state_machines.t]\ndefinition = \"missing.json\"\n")
        .contains("state_machines.t.definition"));
    let e = err("[connections.c]\nAuthorizationType = \"API_KEY\"\n[connections.c.AuthParameters.ApiKeyAuthParameters]\nApiKeyName = \"k\"\nApiKeyValue = \"${NOPE}\"\n");
    assert!(
        e.contains("connections.c.AuthParameters.ApiKeyAuthParameters.ApiKeyValue: the environment variable NOPE is not set"),
        "{e}"
    );
    let e = err("[connections.c]\nAuthorizationType = \"BASIC\"\n[connections.c.AuthParameters.ApiKeyAuthParameters]\nApiKeyName = \"k\"\nApiKeyValue = \"v\"\n");
    assert!(
        e.contains("connections.c.AuthParameters.BasicAuthParameters"),
        "{e}"
    );
    assert!(err("[connections.c]\nAuthorizationType = \"TOKEN\"\n").contains("TOKEN"));
}

#[test]
fn webhooks_load_and_bad_ones_name_the_key() {
    let c = parse(
        r#"
[[webhooks]]
url = "http://127.0.0.1:9000/events"

[[webhooks]]
url = "https://hooks.example.com/x"
headers = { Authorization = "Bearer ${KEY}" }
timeout = 2.5
max_backoff = 0.5
"#,
    )
    .unwrap();
    assert_eq!(c.webhooks.len(), 2);
    assert_eq!(
        c.webhooks[0],
        Webhook::at("http://127.0.0.1:9000/events").unwrap()
    );
    assert_eq!(c.webhooks[0].max_backoff, WEBHOOK_MAX_BACKOFF);
    let w = &c.webhooks[1];
    assert_eq!(
        w.headers,
        vec![("Authorization".to_string(), "Bearer s3cret".to_string())]
    );
    assert_eq!(w.timeout, Duration::from_millis(2500));
    assert_eq!(w.max_backoff, Duration::from_millis(500));
    let e = err("[[webhooks]]\nurl = \"localhost:9000\"\n");
    assert!(
        e.contains("webhooks[0].url: 'localhost:9000' is not an http"),
        "{e}"
    );
    let e = err("[[webhooks]]\nurl = \"http://a/\"\n[[webhooks]]\nurl = \"ftp://b/\"\n");
    assert!(e.contains("webhooks[1].url"), "{e}");
    assert!(err("[[webhooks]]\nurl = \"not a url\"\n").contains("webhooks[0].url"));
    assert!(err("[[webhooks]]\nurl = \"http://a/\"\ntimeout = 0\n").contains("webhooks[0].timeout"));
    assert!(err("[[webhooks]]\nurl = \"http://a/\"\nmax_backoff = -1\n")
        .contains("webhooks[0].max_backoff"));
    assert!(
        err("[[webhooks]]\nurl = \"http://a/\"\nheaders = { \"a b\" = \"v\" }\n")
            .contains("webhooks[0].headers")
    );
    assert!(
        err("[[webhooks]]\nurl = \"http://a/\"\nretries = 3\n").contains("unknown field `retries`")
    );
    assert!(
        err("[[webhooks]]\nurl = \"http://a/\"\nheaders = { X = \"${NOPE}\" }\n")
            .contains("webhooks[0].headers.X: the environment variable NOPE is not set")
    );
    assert!(Webhook::at("https://h/").is_ok());
    assert!(Webhook::at("/relative").is_err());
}

#[test]
fn environment_variables_expand() {
    let env = |k: &str| (k == "A").then(|| "x".to_string());
    assert_eq!(expand("${A}-$${A}-$5", &env).unwrap(), "x-${A}-$5");
    assert!(expand("${B}", &env).is_err());
    assert!(expand("${A", &env).is_err());
}

#[test]
fn function_names_come_out_of_arns() {
    for s in [
        "f",
        "f:prod",
        "123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f",
        "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST",
    ] {
        assert_eq!(function_name_of(s), "f", "{s}");
    }
}
