//! Loading and validating `spin.toml` (Spin manifest v2).
//!
//! [`load`] parses the file ([`model`]), resolves application variables and
//! templates ([`vars`]) and checks what Spin checks before serving: known
//! components, valid and non-clashing routes ([`route`]), existing sources;
//! and what chaoslab adds: no route under its control API's prefix.
//! Every error names the manifest file and the field at fault.

pub mod model;
pub mod route;
pub mod vars;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use route::{RESERVED_PREFIX, Route, RouteMatch, Router};

/// A validated manifest, with paths made absolute and templates expanded.
#[derive(Debug, Clone)]
pub struct AppManifest {
    /// The manifest file.
    pub path: PathBuf,
    /// `[application] name`.
    pub name: String,
    /// Components by id.
    pub components: BTreeMap<String, ComponentSpec>,
    /// `(route, component id)` for each `[[trigger.http]]`.
    pub routes: Vec<(Route, String)>,
}

/// One component, ready to load.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// The component id (`[component.<id>]`).
    pub id: String,
    /// Absolute path of the `.wasm`.
    pub source: PathBuf,
    /// Environment variables for the component.
    pub environment: BTreeMap<String, String>,
    /// Outbound hosts with templates expanded, e.g. `http://127.0.0.1:7070`.
    pub allowed_outbound_hosts: Vec<String>,
    /// `[component.<id>.variables]`, expanded.
    pub variables: BTreeMap<String, String>,
    /// `[component.<id>.dependencies]`: import key → dependency.
    pub dependencies: BTreeMap<String, model::Dependency>,
    /// `dependencies_inherit_configuration`.
    pub dependencies_inherit_configuration: bool,
    /// The build step from spin.toml, if any.
    pub build: Option<model::Build>,
    /// `tool.chaoslab.stateless`: it may serve requests from a reused instance.
    pub stateless: bool,
}

/// Why a manifest cannot be served. Each message names the file and field.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The file cannot be read.
    #[error("cannot read manifest {}: {source}", path.display())]
    Read {
        /// The manifest path.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped fields.
    #[error("{}: {source}", path.display())]
    Parse {
        /// The manifest path.
        path: PathBuf,
        /// The parser's error, with line, column and field.
        source: Box<toml::de::Error>,
    },
    /// An `allowed_outbound_hosts` entry cannot be parsed.
    #[error("{}: [component.{component}] allowed_outbound_hosts: {source}", path.display())]
    AllowedHost {
        /// The manifest path.
        path: PathBuf,
        /// The component id.
        component: String,
        /// What is wrong with the entry.
        source: crate::host::outbound::AllowedHostError,
    },
    /// A field has a value chaoslab cannot serve.
    #[error("{}: {field}: {message}", path.display())]
    Invalid {
        /// The manifest path.
        path: PathBuf,
        /// The field at fault, e.g. `[[trigger.http]] route "/x" component`.
        field: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// Loads and validates a manifest. `variable` looks up provider values of
/// application variables (Spin's `SPIN_VARIABLE_<NAME>`).
pub fn load(path: &Path, variable: impl Fn(&str) -> Option<String>) -> Result<AppManifest, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read { path: path.to_owned(), source })?;
    parse(path, &text, variable)
}

/// Validates manifest text as if read from `path`.
pub fn parse(path: &Path, text: &str, variable: impl Fn(&str) -> Option<String>) -> Result<AppManifest, ManifestError> {
    let invalid = |field: String, message: String| ManifestError::Invalid { path: path.to_owned(), field, message };
    let manifest: model::Manifest = toml::from_str(text)
        .map_err(|source| ManifestError::Parse { path: path.to_owned(), source: Box::new(source) })?;
    if manifest.spin_manifest_version != 2 {
        return Err(invalid(
            "spin_manifest_version".into(),
            format!("is {}, but only version 2 is supported", manifest.spin_manifest_version),
        ));
    }
    let values = vars::resolve(&manifest.variables, variable)
        .map_err(|(name, msg)| invalid(format!("[variables] {name}"), msg))?;
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();

    let mut components = BTreeMap::new();
    for (id, component) in &manifest.component {
        let mut hosts = Vec::with_capacity(component.allowed_outbound_hosts.len());
        for host in &component.allowed_outbound_hosts {
            let expanded = vars::expand(host, &values)
                .map_err(|msg| invalid(format!("[component.{id}] allowed_outbound_hosts"), msg))?;
            hosts.push(expanded);
        }
        let mut variables = BTreeMap::new();
        for (name, template) in &component.variables {
            let value = vars::expand(template, &values)
                .map_err(|msg| invalid(format!("[component.{id}.variables] {name}"), msg))?;
            variables.insert(name.clone(), value);
        }
        let mut dependencies = BTreeMap::new();
        for (key, dep) in &component.dependencies {
            let mut dep = dep.clone();
            dep.path = dir.join(&dep.path).display().to_string();
            dependencies.insert(key.clone(), dep);
        }
        components.insert(
            id.clone(),
            ComponentSpec {
                id: id.clone(),
                source: dir.join(&component.source),
                environment: component.environment.clone(),
                allowed_outbound_hosts: hosts,
                variables,
                dependencies,
                dependencies_inherit_configuration: component.dependencies_inherit_configuration,
                build: component.build.clone(),
                stateless: component.tool.chaoslab.stateless,
            },
        );
    }

    if manifest.trigger.http.is_empty() {
        return Err(invalid("[[trigger.http]]".into(), "no routes: add at least one [[trigger.http]]".into()));
    }
    let mut routes: Vec<(Route, String)> = Vec::new();
    for trigger in &manifest.trigger.http {
        let field = format!("[[trigger.http]] route {:?}", trigger.route);
        let route = Route::parse(&trigger.route).map_err(|e| invalid(field.clone(), e.to_string()))?;
        if route.is_reserved() {
            return Err(invalid(
                field,
                format!(
                    "the prefix {RESERVED_PREFIX} is reserved for chaoslab's control API (revisions); \
                     route the component elsewhere"
                ),
            ));
        }
        if let Some(exec) = trigger.executor.as_ref().filter(|e| e.kind != "spin") {
            return Err(invalid(
                format!("{field} executor"),
                format!("type {:?} is not supported; use \"spin\"", exec.kind),
            ));
        }
        if !components.contains_key(&trigger.component) {
            return Err(invalid(
                format!("{field} component"),
                format!(
                    "no component {:?} is defined (expected a [component.{}] table)",
                    trigger.component, trigger.component
                ),
            ));
        }
        if let Some((other, _)) = routes.iter().find(|(r, _)| r.clashes_with(&route)) {
            return Err(invalid(field, format!("clashes with route {:?}: both match the same paths", other.as_str())));
        }
        routes.push((route, trigger.component.clone()));
    }
    Ok(AppManifest { path: path.to_owned(), name: manifest.application.name, components, routes })
}

impl ComponentSpec {
    /// The field-naming error for a missing or unreadable source.
    pub fn missing_source(&self, manifest: &Path) -> ManifestError {
        let hint = match &self.build {
            Some(build) => format!("; build it with `{}` (or `chaoslab build`)", build.command),
            None => String::new(),
        };
        ManifestError::Invalid {
            path: manifest.to_owned(),
            field: format!("[component.{}] source", self.id),
            message: format!("{} does not exist{hint}", self.source.display()),
        }
    }
}

#[cfg(test)]
mod tests;
