//! Golden tests: valid manifests and the exact error text of invalid ones.

use std::path::Path;

use super::*;

const PATH: &str = "/app/spin.toml";

fn parse_ok(text: &str) -> AppManifest {
    parse(Path::new(PATH), text, |_| None).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(text: &str) -> String {
    match parse(Path::new(PATH), text, |_| None) {
        Ok(_) => panic!("manifest accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

const HEAD: &str = "spin_manifest_version = 2\n[application]\nname = \"demo\"\n";

fn with_api(rest: &str) -> String {
    format!(
        "{HEAD}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"api\"\n[component.api]\nsource = \"api.wasm\"\n{rest}"
    )
}

#[test]
fn the_project_manifest_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spin.toml");
    let err = load(&path, |_| None).unwrap_err().to_string();
    assert!(err.contains("[variables] link_token") && err.contains("SPIN_VARIABLE_LINK_TOKEN"), "{err}");
    let app = load(&path, |name| (name == "link_token").then(|| "t0ken".to_owned())).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(app.name, "chaoslab");
    assert!(app.routes.iter().any(|(r, c)| r.as_str() == "/..." && c == "api"));
    for id in ["api", "chaos"] {
        let c = &app.components[id];
        assert_eq!(c.allowed_outbound_hosts, ["http://127.0.0.1:7070"], "{id}");
        assert_eq!(c.variables["link_token"], "t0ken", "{id}");
        assert!(c.dependencies_inherit_configuration, "{id}");
        assert!(c.dependencies["chaoslab:sidecar"].path.ends_with("chaoslab_sidecar_link.wasm"), "{id}");
    }
}

#[test]
fn valid_manifest_resolves_paths_variables_and_routes() {
    let text = format!(
        "{HEAD}[variables]\nsidecar = {{ default = \"http://127.0.0.1:7070\" }}\n\
         [[trigger.http]]\nroute = \"/\"\ncomponent = \"api\"\n\
         [[trigger.http]]\nroute = \"/chaos/...\"\ncomponent = \"api\"\n\
         [component.api]\nsource = \"target/api.wasm\"\nallowed_outbound_hosts = [\"{{{{ sidecar }}}}\"]\n\
         environment = {{ A = \"1\" }}\n[component.api.build]\ncommand = \"make\"\n"
    );
    let app = parse_ok(&text);
    let api = &app.components["api"];
    assert_eq!(api.source, Path::new("/app/target/api.wasm"));
    assert_eq!(api.allowed_outbound_hosts, ["http://127.0.0.1:7070"]);
    assert_eq!(api.environment["A"], "1");
    assert_eq!(api.build.as_ref().unwrap().command, "make");
    assert_eq!(app.routes.len(), 2);
}

#[test]
fn provider_values_override_variable_defaults() {
    let text = format!(
        "{HEAD}[variables]\nhost = {{ default = \"http://a\" }}\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\nallowed_outbound_hosts = [\"{{{{ host }}}}\"]\n"
    );
    let app = parse(Path::new(PATH), &text, |n| (n == "host").then(|| "http://b:1".to_owned())).unwrap();
    assert_eq!(app.components["c"].allowed_outbound_hosts, ["http://b:1"]);
}

#[test]
fn golden_errors() {
    let cases: Vec<(String, &str)> = vec![
        (HEAD.replace("= 2", "= 1"), "/app/spin.toml: spin_manifest_version: is 1, but only version 2 is supported"),
        (HEAD.to_owned(), "/app/spin.toml: [[trigger.http]]: no routes: add at least one [[trigger.http]]"),
        (
            with_api("[[trigger.http]]\nroute = \"/x\"\ncomponent = \"nope\"\n"),
            "/app/spin.toml: [[trigger.http]] route \"/x\" component: no component \"nope\" is defined (expected a [component.nope] table)",
        ),
        (
            with_api("[[trigger.http]]\nroute = \"/...\"\ncomponent = \"api\"\n"),
            "/app/spin.toml: [[trigger.http]] route \"/...\": clashes with route \"/...\": both match the same paths",
        ),
        (
            with_api("[[trigger.http]]\nroute = \"/_chaoslab/...\"\ncomponent = \"api\"\n"),
            "/app/spin.toml: [[trigger.http]] route \"/_chaoslab/...\": the prefix /_chaoslab is reserved for \
             chaoslab's control API (revisions); route the component elsewhere",
        ),
        (
            with_api("[[trigger.http]]\nroute = \"nope\"\ncomponent = \"api\"\n"),
            "/app/spin.toml: [[trigger.http]] route \"nope\": route \"nope\" must start with '/'",
        ),
        (
            with_api("[[trigger.http]]\nroute = \"/w\"\ncomponent = \"api\"\nexecutor = { type = \"wagi\" }\n"),
            "/app/spin.toml: [[trigger.http]] route \"/w\" executor: type \"wagi\" is not supported; use \"spin\"",
        ),
        (
            with_api("allowed_outbound_hosts = [\"{{ missing }}\"]\n"),
            "/app/spin.toml: [component.api] allowed_outbound_hosts: \"{{ missing }}\" uses variable \"missing\", which [variables] does not declare",
        ),
        (
            format!(
                "{HEAD}[variables]\ntoken = {{ required = true }}\n[[trigger.http]]\nroute = \"/\"\ncomponent = \"c\"\n[component.c]\nsource = \"c.wasm\"\n"
            ),
            "/app/spin.toml: [variables] token: is required; set SPIN_VARIABLE_TOKEN",
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_err(&text), expected, "manifest:\n{text}");
    }
}

#[test]
fn unknown_and_mistyped_fields_name_the_field() {
    let err = parse_err(&with_api("allowed_http_hosts = []\n"));
    assert!(err.starts_with("/app/spin.toml: TOML parse error at line 9"), "{err}");
    assert!(err.contains("unknown field `allowed_http_hosts`"), "{err}");
    let err = parse_err(&with_api("environment = \"A=1\"\n"));
    assert!(err.contains("invalid type: string \"A=1\", expected a map"), "{err}");
}

#[test]
fn missing_source_names_the_field_and_the_build_command() {
    let app = parse_ok(&with_api("[component.api.build]\ncommand = \"cargo build\"\n"));
    let err = app.components["api"].missing_source(Path::new(PATH)).to_string();
    assert_eq!(
        err,
        "/app/spin.toml: [component.api] source: /app/api.wasm does not exist; build it with `cargo build` (or `chaoslab build`)"
    );
}

#[test]
fn a_component_declares_itself_stateless_in_chaoslabs_tool_table() {
    let app =
        parse_ok(&with_api("[component.api.tool.chaoslab]\nstateless = true\n[component.api.tool.other]\nx = 1\n"));
    assert!(app.components["api"].stateless);
    assert!(!parse_ok(&with_api("")).components["api"].stateless, "not declared: not stateless");
    let err = parse_err(&with_api("[component.api.tool.chaoslab]\nstatless = true\n"));
    assert!(err.contains("unknown field `statless`"), "{err}");
}
