//! [`App`]: a validated manifest with every component compiled and
//! pre-instantiated once, ready to serve requests.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::host::{AllowedHost, HostState, OutboundPolicy, SidecarImports, Variables};
use crate::manifest::{AppManifest, ComponentSpec, ManifestError, RouteMatch, Router};
use chaoslab_compose::{self as compose, ComposeError, Plug};

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
    /// A dependency cannot be plugged (`--link loopback`).
    #[error("{manifest}: [component.{id}.dependencies] {key:?}: {cause}")]
    Dependency {
        /// The manifest path.
        manifest: String,
        /// The component id.
        id: String,
        /// The dependency key.
        key: String,
        /// What is wrong.
        cause: Box<DependencyError>,
    },
}

/// Why a dependency cannot be plugged.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    /// Its `.wasm` cannot be read.
    #[error("cannot read {path}: {source}{hint}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
        /// How to build it.
        hint: String,
    },
    /// The composition failed.
    #[error(transparent)]
    Compose(#[from] ComposeError),
    /// The component does not share its configuration with dependencies.
    #[error(
        "the sidecar-link bridge needs the component's variables and outbound hosts: \
         set dependencies_inherit_configuration = true"
    )]
    NotInherited,
}

/// One compiled component and what each of its requests gets.
pub struct LoadedComponent<S: 'static> {
    /// Its id in spin.toml.
    pub id: String,
    /// Pre-linked, type-checked instance template.
    pub pre: ProxyPre<HostState<S>>,
    /// Environment for its WASI context.
    pub env: Vec<(String, String)>,
    /// Where it may send HTTP requests.
    pub outbound: OutboundPolicy,
    /// Its `[component.<id>.variables]`.
    pub variables: Variables,
}

/// The served application.
pub struct App<S: 'static> {
    /// `[application] name`.
    pub name: String,
    /// Route → component.
    router: Router<Arc<LoadedComponent<S>>>,
}

impl<S: SidecarImports> App<S> {
    /// Compiles every component of `manifest` with `engine`, linked as `link`
    /// says. Like Spin, it passes no host environment to components: only
    /// their manifest `environment` (the replica's name comes from the
    /// sidecar, `telemetry.replica`).
    pub fn load(engine: &Engine, manifest: &AppManifest, link: &S) -> Result<Self, LoadError> {
        let mut linker = Linker::<HostState<S>>::new(engine);
        HostState::<S>::add_to_linker(&mut linker).expect("host interfaces link once");
        let mut loaded: BTreeMap<&str, Arc<LoadedComponent<S>>> = BTreeMap::new();
        for (route, id) in &manifest.routes {
            if loaded.contains_key(id.as_str()) {
                continue;
            }
            let spec = &manifest.components[id];
            tracing::debug!(component = %id, route = %route, "compiling component");
            loaded.insert(id, Arc::new(load_component(engine, &linker, manifest, spec, link)?));
        }
        let routes = manifest.routes.iter().map(|(route, id)| (route.clone(), loaded[id.as_str()].clone())).collect();
        Ok(Self { name: manifest.name.clone(), router: Router::new(routes) })
    }

    /// The component serving `path`, if any.
    pub fn route(&self, path: &str) -> Option<(RouteMatch<'_>, &Arc<LoadedComponent<S>>)> {
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

fn load_component<S: SidecarImports>(
    engine: &Engine,
    linker: &Linker<HostState<S>>,
    manifest: &AppManifest,
    spec: &ComponentSpec,
    link: &S,
) -> Result<LoadedComponent<S>, LoadError> {
    let fail = |cause: wasmtime::Error| LoadError::Component {
        manifest: manifest.path.display().to_string(),
        id: spec.id.clone(),
        source_path: spec.source.display().to_string(),
        cause,
    };
    let mut allowed = Vec::with_capacity(spec.allowed_outbound_hosts.len());
    for entry in &spec.allowed_outbound_hosts {
        allowed.push(AllowedHost::parse(entry).map_err(|source| ManifestError::AllowedHost {
            path: manifest.path.clone(),
            component: spec.id.clone(),
            source,
        })?);
    }
    if !spec.source.is_file() {
        return Err(spec.missing_source(&manifest.path).into());
    }
    let component = if S::COMPOSES_DEPENDENCIES && !spec.dependencies.is_empty() {
        let bytes = composed(manifest, spec)?;
        Component::new(engine, &bytes).map_err(fail)?
    } else {
        Component::from_file(engine, &spec.source).map_err(fail)?
    };
    let instance_pre = linker.instantiate_pre(&component).map_err(|cause| {
        let hint = if S::COMPOSES_DEPENDENCIES {
            format!(
                " (with --link loopback, imports of chaoslab:sidecar come from the sidecar-link bridge: \
                 declare it under [component.{}.dependencies])",
                spec.id
            )
        } else {
            String::new()
        };
        fail(cause.context(format!("linking the component's imports{hint}")))
    })?;
    let pre = ProxyPre::new(instance_pre).map_err(fail)?;
    let env: Vec<(String, String)> = spec.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut outbound = OutboundPolicy::new(allowed);
    if let Some(origin) = link.sidecar_origin() {
        outbound = outbound.with_sidecar(origin.clone());
    }
    let variables = Arc::new(spec.variables.clone());
    Ok(LoadedComponent { id: spec.id.clone(), pre, env, outbound, variables })
}

/// The component's bytes composed with its declared dependencies.
fn composed(manifest: &AppManifest, spec: &ComponentSpec) -> Result<Vec<u8>, LoadError> {
    let fail = |key: &str, cause: DependencyError| LoadError::Dependency {
        manifest: manifest.path.display().to_string(),
        id: spec.id.clone(),
        key: key.to_owned(),
        cause: Box::new(cause),
    };
    if !spec.dependencies_inherit_configuration {
        let key = spec.dependencies.keys().next().map_or("", String::as_str);
        return Err(fail(key, DependencyError::NotInherited));
    }
    let socket = std::fs::read(&spec.source).map_err(|_| spec.missing_source(&manifest.path))?;
    let mut plugs = Vec::with_capacity(spec.dependencies.len());
    for (key, dep) in &spec.dependencies {
        let bytes = std::fs::read(&dep.path).map_err(|source| {
            let hint = match spec.build.as_ref() {
                Some(build) => format!("; build it with `chaoslab build` (runs `{}`)", build.command),
                None => String::new(),
            };
            fail(key, DependencyError::Read { path: dep.path.clone(), source, hint })
        })?;
        plugs.push(Plug { key, path: &dep.path, bytes, export: dep.export.as_deref() });
    }
    compose::compose(socket, plugs).map_err(|cause| {
        let key = match &cause {
            ComposeError::NoMatchingImport { key, .. }
            | ComposeError::MissingExport { key, .. }
            | ComposeError::BadKey { key }
            | ComposeError::ExportNeedsInterface { key } => key.clone(),
            ComposeError::Graph { .. } => spec.dependencies.keys().cloned().collect::<Vec<_>>().join(", "),
        };
        fail(&key, cause.into())
    })
}

impl<S: 'static> std::fmt::Debug for LoadedComponent<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedComponent").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The directory relative paths in `manifest` are resolved against.
pub fn manifest_dir(manifest: &Path) -> &Path {
    manifest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."))
}
