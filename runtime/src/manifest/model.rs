//! The serde model of the parts of Spin's manifest v2 (`spin.toml`) that
//! chaoslab uses. Like Spin, unknown fields are rejected, so a typo is an
//! error and not a silently ignored setting.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A whole `spin.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Must be `2`.
    pub spin_manifest_version: u32,
    /// `[application]`.
    pub application: Application,
    /// `[variables]`: application variables, set by `SPIN_VARIABLE_<NAME>`.
    #[serde(default)]
    pub variables: BTreeMap<String, Variable>,
    /// `[[trigger.http]]` and friends.
    #[serde(default)]
    pub trigger: Triggers,
    /// `[component.<id>]`.
    #[serde(default)]
    pub component: BTreeMap<String, Component>,
}

/// `[application]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Application {
    /// The application's name.
    pub name: String,
    /// Its version.
    #[serde(default)]
    pub version: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Authors.
    #[serde(default)]
    pub authors: Vec<String>,
}

/// One entry of `[variables]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    /// The value when no provider sets it. Exclusive with `required`.
    #[serde(default)]
    pub default: Option<String>,
    /// The variable must be set by a provider (`SPIN_VARIABLE_<NAME>`).
    #[serde(default)]
    pub required: bool,
    /// Secret values are never logged.
    #[serde(default)]
    pub secret: bool,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[trigger]`: chaoslab serves the HTTP trigger only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triggers {
    /// `[[trigger.http]]`.
    #[serde(default)]
    pub http: Vec<HttpTrigger>,
}

/// One `[[trigger.http]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTrigger {
    /// Optional trigger id.
    #[serde(default)]
    pub id: Option<String>,
    /// The route pattern: `/exact`, `/users/:id`, `/prefix/...`.
    pub route: String,
    /// The component (id) that serves the route.
    pub component: String,
    /// The executor; only `{ type = "spin" }` (the default) is supported.
    #[serde(default)]
    pub executor: Option<Executor>,
}

/// `executor = { type = "spin" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Executor {
    /// Executor type.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `[component.<id>]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Component {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Path of the `.wasm` file, relative to the manifest.
    pub source: String,
    /// Environment variables visible to the component.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Hosts the component may send requests to, e.g. `http://127.0.0.1:7070`
    /// or `http://{{ sidecar_host }}`. Everything else is denied.
    #[serde(default)]
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables (templates over application variables).
    #[serde(default)]
    pub variables: BTreeMap<String, String>,
    /// `[component.<id>.build]`, used by `spin build` and by chaoslab's tests.
    #[serde(default)]
    pub build: Option<Build>,
    /// Whether dependencies get the parent's configuration (outbound hosts).
    #[serde(default)]
    pub dependencies_inherit_configuration: bool,
    /// `[component.<id>.dependencies]`: imports plugged by other components.
    #[serde(default)]
    pub dependencies: BTreeMap<String, Dependency>,
    /// `[component.<id>.tool.<name>]`: settings of tools other than Spin,
    /// which Spin ignores; chaoslab reads its own, `tool.chaoslab`.
    #[serde(default)]
    pub tool: Tools,
}

/// `[component.<id>.tool]`: chaoslab's table, typed and checked; any other
/// tool's table is kept as Spin keeps it, unread.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Tools {
    /// `[component.<id>.tool.chaoslab]`.
    #[serde(default)]
    pub chaoslab: ChaoslabTool,
    /// Other tools' tables.
    #[serde(flatten)]
    pub other: BTreeMap<String, toml::Value>,
}

/// `[component.<id>.tool.chaoslab]`: what the component declares to chaoslab.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChaoslabTool {
    /// The component keeps no state of one request for the next, so one
    /// instance may serve several requests in sequence when `chaoslab up`
    /// runs with `--instance-reuse N` (not Spin's semantics; off by default).
    #[serde(default)]
    pub stateless: bool,
}

/// `[component.<id>.build]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// The shell command that builds `source`.
    pub command: String,
    /// Directory to run it in, relative to the manifest.
    #[serde(default)]
    pub workdir: Option<String>,
    /// Files whose change means a rebuild (for `spin watch`).
    #[serde(default)]
    pub watch: Vec<String>,
}

/// One `[component.<id>.dependencies]` entry: a local component by path.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    /// Path of the dependency's `.wasm`, relative to the manifest.
    pub path: String,
    /// Which export of the dependency satisfies the import (default: same name).
    #[serde(default)]
    pub export: Option<String>,
}
