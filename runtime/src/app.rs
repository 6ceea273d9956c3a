//! [`App`]: a validated manifest with every component compiled and
//! pre-instantiated once, ready to serve requests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::host::{AllowedHost, HostState, OutboundPolicy};
use crate::manifest::{AppManifest, ComponentSpec, ManifestError, RouteMatch, Router};

/// Why an app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The manifest is invalid (file and field named).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A component failed to compile or link.
    #[error("{manifest}: [component.{id}] source {source_path}: {cause:#}")]
    Component {
        /// The manifest path.
        manifest: String,
        /// The component id.
        id: String,
        /// The `.wasm` path.
        source_path: String,
        /// What wasmtime said.
        cause: wasmtime::Error,
    },
}

/// One compiled component and what each of its requests gets.
pub struct LoadedComponent {
    /// Its id in spin.toml.
    pub id: String,
    /// Pre-linked, type-checked instance template.
    pub pre: ProxyPre<HostState>,
    /// Environment for its WASI context.
    pub env: Vec<(String, String)>,
    /// Where it may send HTTP requests.
    pub outbound: OutboundPolicy,
}

/// The served application.
pub struct App {
    /// `[application] name`.
    pub name: String,
    /// Route → component.
    router: Router<Arc<LoadedComponent>>,
}

impl App {
    /// Compiles every component of `manifest` with `engine`. `host_env` is
    /// added to each component's environment (e.g. `HOSTNAME`).
    pub fn load(engine: &Engine, manifest: &AppManifest, host_env: &[(String, String)]) -> Result<Self, LoadError> {
        let mut linker = Linker::<HostState>::new(engine);
        HostState::add_to_linker(&mut linker).expect("host interfaces link once");
        let mut loaded: BTreeMap<&str, Arc<LoadedComponent>> = BTreeMap::new();
        for (route, id) in &manifest.routes {
            if loaded.contains_key(id.as_str()) {
                continue;
            }
            let spec = &manifest.components[id];
            tracing::debug!(component = %id, route = %route, "compiling component");
            loaded.insert(id, Arc::new(load_component(engine, &linker, manifest, spec, host_env)?));
        }
        let routes = manifest.routes.iter().map(|(route, id)| (route.clone(), loaded[id.as_str()].clone())).collect();
        Ok(Self { name: manifest.name.clone(), router: Router::new(routes) })
    }

    /// The component serving `path`, if any.
    pub fn route(&self, path: &str) -> Option<(RouteMatch<'_>, &Arc<LoadedComponent>)> {
        self.router.route(path)
    }
}

/// Checks that every routed component's `.wasm` exists (before binding).
pub fn check_sources(manifest: &AppManifest) -> Result<(), ManifestError> {
    for (_, id) in &manifest.routes {
        let spec = &manifest.components[id];
        if !spec.source.is_file() {
            return Err(spec.missing_source(&manifest.path));
        }
    }
    Ok(())
}

fn load_component(
    engine: &Engine,
    linker: &Linker<HostState>,
    manifest: &AppManifest,
    spec: &ComponentSpec,
    host_env: &[(String, String)],
) -> Result<LoadedComponent, LoadError> {
    let fail = |cause: wasmtime::Error| LoadError::Component {
        manifest: manifest.path.display().to_string(),
        id: spec.id.clone(),
        source_path: spec.source.display().to_string(),
        cause,
    };
    let mut allowed = Vec::with_capacity(spec.allowed_outbound_hosts.len());
    for entry in &spec.allowed_outbound_hosts {
        allowed.push(AllowedHost::parse(entry).map_err(|message| ManifestError::Invalid {
            path: manifest.path.clone(),
            field: format!("[component.{}] allowed_outbound_hosts", spec.id),
            message,
        })?);
    }
    if !spec.source.is_file() {
        return Err(spec.missing_source(&manifest.path).into());
    }
    let component = Component::from_file(engine, &spec.source).map_err(fail)?;
    let instance_pre = linker.instantiate_pre(&component).map_err(fail)?;
    let pre = ProxyPre::new(instance_pre).map_err(fail)?;
    let mut env: Vec<(String, String)> = host_env.to_vec();
    env.extend(spec.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(LoadedComponent { id: spec.id.clone(), pre, env, outbound: OutboundPolicy::new(allowed) })
}

impl std::fmt::Debug for LoadedComponent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The directory relative paths in `manifest` are resolved against.
pub fn manifest_dir(manifest: &Path) -> &Path {
    manifest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}
