//! spin.toml stays valid for the Spin CLI (3.x and 4.x), checked against a
//! model of the rules of Spin's manifest v2 (its JSON schema and loader):
//! allowed keys at every level, required fields, id and variable name
//! syntax, templates that name declared variables, and the component
//! dependency shapes. Only what Spin 3.0 already accepts is allowed.

use std::path::Path;

use toml::Value;
use toml::value::Table;

/// Every rule violation of `text`, one message each (empty: valid).
fn violations(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let doc: Table = match toml::from_str(text) {
        Ok(doc) => doc,
        Err(e) => return vec![format!("not TOML: {e}")],
    };
    keys(&mut out, "top level", &doc, &["spin_manifest_version", "application", "variables", "trigger", "component"]);
    if doc.get("spin_manifest_version").and_then(Value::as_integer) != Some(2) {
        out.push("spin_manifest_version must be 2".into());
    }
    match doc.get("application").and_then(Value::as_table) {
        Some(app) => {
            keys(&mut out, "[application]", app, &["name", "version", "description", "authors", "trigger", "tool"]);
            if app.get("name").and_then(Value::as_str).is_none_or(str::is_empty) {
                out.push("[application] name is required".into());
            }
        }
        None => out.push("[application] is required".into()),
    }
    let empty = Table::new();
    let variables = doc.get("variables").and_then(Value::as_table).unwrap_or(&empty);
    for (name, var) in variables {
        let field = format!("[variables] {name}");
        if !lower_snake(name) {
            out.push(format!("{field}: name must be lower_snake_case"));
        }
        let Some(var) = var.as_table() else {
            out.push(format!("{field}: must be a table"));
            continue;
        };
        keys(&mut out, &field, var, &["description", "default", "required", "secret"]);
        let has_default = var.get("default").is_some_and(Value::is_str);
        let required = var.get("required").and_then(Value::as_bool).unwrap_or(false);
        if has_default == required {
            out.push(format!("{field}: needs exactly one of a string default or required = true"));
        }
    }
    let components = doc.get("component").and_then(Value::as_table).unwrap_or(&empty);
    let triggers = doc.get("trigger").and_then(Value::as_table).unwrap_or(&empty);
    keys(&mut out, "[trigger]", triggers, &["http"]);
    for trigger in triggers.get("http").and_then(Value::as_array).into_iter().flatten() {
        let Some(t) = trigger.as_table() else { continue };
        keys(&mut out, "[[trigger.http]]", t, &["route", "component", "executor", "id"]);
        if !t.get("route").is_some_and(|r| r.is_str() || r.get("private").and_then(Value::as_bool) == Some(true)) {
            out.push("[[trigger.http]] route must be a string or { private = true }".into());
        }
        if !t.get("component").and_then(Value::as_str).is_some_and(|c| components.contains_key(c)) {
            out.push(format!("[[trigger.http]] component {:?} is not a defined component", t.get("component")));
        }
    }
    for (id, component) in components {
        check_component(&mut out, id, component, variables);
    }
    out
}

fn check_component(out: &mut Vec<String>, id: &str, component: &Value, variables: &Table) {
    let field = format!("[component.{id}]");
    if !kebab(id) {
        out.push(format!("{field}: id must be kebab-case"));
    }
    let Some(c) = component.as_table() else { return out.push(format!("{field}: must be a table")) };
    keys(
        out,
        &field,
        c,
        &[
            "source",
            "description",
            "variables",
            "environment",
            "files",
            "exclude_files",
            "allowed_http_hosts",
            "allowed_outbound_hosts",
            "key_value_stores",
            "sqlite_databases",
            "ai_models",
            "build",
            "tool",
            "dependencies_inherit_configuration",
            "dependencies",
        ],
    );
    if !c.get("source").is_some_and(Value::is_str) {
        out.push(format!("{field} source: a path string is required"));
    }
    for host in c.get("allowed_outbound_hosts").and_then(Value::as_array).into_iter().flatten() {
        let host = host.as_str().unwrap_or_default();
        check_template(out, &format!("{field} allowed_outbound_hosts"), host, variables);
        if !host.contains("{{") && !host.contains("://") {
            out.push(format!("{field} allowed_outbound_hosts: {host:?} needs a scheme"));
        }
    }
    for (name, value) in c.get("variables").and_then(Value::as_table).into_iter().flatten() {
        if !lower_snake(name) {
            out.push(format!("[component.{id}.variables] {name}: name must be lower_snake_case"));
        }
        check_template(out, &format!("[component.{id}.variables] {name}"), value.as_str().unwrap_or(""), variables);
    }
    if let Some(build) = c.get("build").and_then(Value::as_table) {
        keys(out, &format!("[component.{id}.build]"), build, &["command", "workdir", "watch"]);
        if !build.get("command").is_some_and(Value::is_str) {
            out.push(format!("[component.{id}.build] command must be a string (arrays need a newer Spin)"));
        }
    }
    if c.get("dependencies_inherit_configuration").is_some_and(|v| !v.is_bool()) {
        out.push(format!("{field} dependencies_inherit_configuration must be a boolean"));
    }
    for (key, dep) in c.get("dependencies").and_then(Value::as_table).into_iter().flatten() {
        check_dependency(out, &format!("[component.{id}.dependencies] {key:?}"), key, dep);
    }
}

fn check_dependency(out: &mut Vec<String>, field: &str, key: &str, dep: &Value) {
    let (name, _version) = key.split_once('@').unwrap_or((key, ""));
    let (package, interface) = name.split_once('/').map_or((name, None), |(p, i)| (p, Some(i)));
    let valid_package = package.split_once(':').is_some_and(|(ns, pkg)| kebab(ns) && kebab(pkg));
    if !valid_package || interface.is_some_and(|i| !kebab(i)) {
        return out.push(format!("{field}: key must be a package (ns:pkg[@ver]) or interface (ns:pkg/iface[@ver])"));
    }
    let table = match dep {
        Value::String(_) => return, // a registry version requirement
        Value::Table(t) => t,
        _ => return out.push(format!("{field}: must be a version string or a table")),
    };
    if table.contains_key("path") {
        keys(out, field, table, &["path", "export"]);
    } else if table.contains_key("version") {
        keys(out, field, table, &["version", "registry", "package", "export"]);
    } else {
        out.push(format!("{field}: a table needs `path` (local component) or `version` (registry)"));
    }
    if table.contains_key("export") && interface.is_none() {
        out.push(format!("{field}: `export` is allowed only for an interface key, not a whole package"));
    }
}

/// Adds a violation for every key of `table` outside `allowed`.
fn keys(out: &mut Vec<String>, field: &str, table: &Table, allowed: &[&str]) {
    for key in table.keys().filter(|k| !allowed.contains(&k.as_str())) {
        out.push(format!("{field}: unknown key {key:?} (not accepted by Spin 3.x)"));
    }
}

/// `{{ name }}` must name a declared application variable.
fn check_template(out: &mut Vec<String>, field: &str, text: &str, variables: &Table) {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let Some(end) = rest[start..].find("}}") else { return out.push(format!("{field}: unclosed {{{{")) };
        let name = rest[start + 2..start + end].trim();
        if !variables.contains_key(name) {
            out.push(format!("{field}: template uses undeclared variable {name:?}"));
        }
        rest = &rest[start + end + 2..];
    }
}

/// Spin's `LowerSnakeId`: lowercase words joined by single underscores.
fn lower_snake(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.split('_').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// Spin's `KebabId`: lowercase words joined by single hyphens.
fn kebab(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.split('-').all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

#[test]
fn the_project_manifests_are_valid_for_spin() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    for manifest in ["spin.toml", "tests/fixtures/spin.toml", "examples/python/spin.toml"] {
        let text = std::fs::read_to_string(root.join(manifest)).unwrap();
        assert_eq!(violations(&text), Vec::<String>::new(), "{manifest}");
    }
}

#[test]
fn the_model_rejects_what_spin_rejects() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let good = std::fs::read_to_string(root.join("spin.toml")).unwrap();
    let cases = [
        ("[application]\n", "[application]\ntargets = [\"spin-up:3.2\"]\n", "unknown key \"targets\""),
        (
            "link_token = { required = true, secret = true }",
            "link_token = { required = true, default = \"x\" }",
            "exactly one",
        ),
        ("sidecar_url = \"{{ sidecar_url }}\"", "sidecar_url = \"{{ sidecar }}\"", "undeclared variable \"sidecar\""),
        (
            "\"chaoslab:sidecar\" = { path = \"target/",
            "\"chaoslab:sidecar\" = { export = \"x\", path = \"target/",
            "only for an interface key",
        ),
        (
            "\"chaoslab:sidecar\" = { path",
            "\"chaoslab:sidecar\" = { inherit_configuration = true, path",
            "unknown key \"inherit_configuration\"",
        ),
        ("\"chaoslab:sidecar\" = {", "\"ChaosLab\" = {", "must be a package"),
        ("[component.api]\n", "[component.api]\nprofile = {}\n", "unknown key \"profile\""),
        ("[component.api]", "[component.Api]", "kebab-case"),
    ];
    for (from, to, expected) in cases {
        assert!(good.contains(from), "fixture text {from:?} not in spin.toml");
        let found = violations(&good.replacen(from, to, 1));
        assert!(found.iter().any(|v| v.contains(expected)), "{to:?}: expected {expected:?}, got {found:?}");
    }
}
