//! [`App`]: a validated manifest behind a router, each routed component
//! compiled and pre-instantiated once as its revision 1. The [`Compiler`]
//! that made them stays with the app: new revisions of a component are
//! compiled the same way (`crate::revisions`).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::host::{AllowedHost, HostState, OutboundPolicy, SidecarImports, Variables};
use crate::manifest::{AppManifest, ComponentSpec, ManifestError, RouteMatch, Router};
use crate::revisions::ComponentSlot;
use crate::server::warm::WarmPool;
use chaoslab_compose::{self as compose, ComposeError, Plug};

/// Why an app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The manifest is invalid (file and field named).
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// A component failed to compile or link.
    #[error("{manifest}: [component.{id}] source {source_path}: {cause}")]
    Component {
        /// The manifest path.
        manifest: String,
        /// The component id.
        id: String,
        /// The `.wasm` path.
        source_path: String,
        /// What went wrong.
        cause: Box<CompileError>,
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

/// Why a component's bytes did not become a servable component, by stage.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A declared dependency cannot be plugged (`--link loopback`).
    #[error("[component.{id}.dependencies] {key:?}: {cause}")]
    Dependency {
        /// The component id.
        id: String,
        /// The dependency key at fault.
        key: String,
        /// What is wrong.
        cause: Box<DependencyError>,
    },
    /// Not a valid component, or wasmtime could not compile it.
    #[error("{0:#}")]
    Compile(wasmtime::Error),
    /// Its imports cannot all be satisfied.
    #[error("{0:#}")]
    Link(wasmtime::Error),
    /// It does not export `wasi:http/incoming-handler`.
    #[error("not an HTTP component: {0:#}")]
    NotHttp(wasmtime::Error),
}

/// What every request of a component gets, whichever revision serves it:
/// the settings of its `[component.<id>]` table.
#[derive(Debug)]
pub struct ComponentHost {
    /// Environment for its WASI context.
    pub env: Vec<(String, String)>,
    /// Where it may send HTTP requests.
    pub outbound: OutboundPolicy,
    /// Its `[component.<id>.variables]`.
    pub variables: Variables,
    /// It declared `tool.chaoslab.stateless`: its instances may be reused
    /// (`--instance-reuse`).
    pub stateless: bool,
}

/// One compiled revision of a component and what each of its requests gets.
pub struct LoadedComponent<S: 'static> {
    /// Its id in spin.toml.
    pub id: String,
    /// Pre-linked, type-checked instance template.
    pub pre: ProxyPre<HostState<S>>,
    /// The component's settings, shared by all its revisions.
    pub host: Arc<ComponentHost>,
    /// Size of the compiled code in memory (what keeping the revision costs).
    pub code_bytes: usize,
    /// Instances kept between requests (`--instance-reuse`); empty otherwise.
    pub warm: WarmPool<S>,
}

/// Compiles a component's bytes as the manifest declares it: composed with
/// its dependencies when the link mode says so, linked, checked to be an
/// HTTP component. Shared by start-up and by new revisions.
pub struct Compiler<S: 'static> {
    /// The engine every revision is compiled with.
    engine: Engine,
    /// Host interfaces (WASI, WASI HTTP, variables, the in-process link).
    linker: Linker<HostState<S>>,
    /// The validated manifest (dependencies, settings).
    manifest: AppManifest,
    /// Per component: what its requests get.
    hosts: BTreeMap<String, Arc<ComponentHost>>,
}

/// The served application.
pub struct App<S: 'static> {
    /// `[application] name`.
    pub name: String,
    /// Route → the component's slot (its serving revisions).
    router: Router<Arc<ComponentSlot<S>>>,
    /// Each routed component's slot, by id.
    slots: BTreeMap<String, Arc<ComponentSlot<S>>>,
    /// How new revisions are compiled.
    compiler: Compiler<S>,
}

impl<S: SidecarImports> App<S> {
    /// Compiles every routed component of `manifest` with `engine`, linked as
    /// `link` says, as its revision 1. Like Spin, it passes no host
    /// environment to components: only their manifest `environment` (the
    /// replica's name comes from the sidecar, `telemetry.replica`).
    pub fn load(engine: &Engine, manifest: &AppManifest, link: &S) -> Result<Self, LoadError> {
        let mut linker = Linker::<HostState<S>>::new(engine);
        HostState::<S>::add_to_linker(&mut linker).expect("host interfaces link once");
        let mut hosts = BTreeMap::new();
        for (_, id) in &manifest.routes {
            if !hosts.contains_key(id) {
                hosts.insert(id.clone(), Arc::new(component_host(manifest, &manifest.components[id], link)?));
            }
        }
        let compiler = Compiler { engine: engine.clone(), linker, manifest: manifest.clone(), hosts };
        let mut slots: BTreeMap<String, Arc<ComponentSlot<S>>> = BTreeMap::new();
        for (route, id) in &manifest.routes {
            if slots.contains_key(id) {
                continue;
            }
            let spec = &manifest.components[id];
            tracing::debug!(component = %id, route = %route, "compiling component");
            let bytes = std::fs::read(&spec.source).map_err(|_| spec.missing_source(&manifest.path))?;
            let loaded = compiler.compile(id, &bytes).map_err(|cause| match cause {
                CompileError::Dependency { id, key, cause } => {
                    LoadError::Dependency { manifest: manifest.path.display().to_string(), id, key, cause }
                }
                cause => LoadError::Component {
                    manifest: manifest.path.display().to_string(),
                    id: id.clone(),
                    source_path: spec.source.display().to_string(),
                    cause: Box::new(cause),
                },
            })?;
            slots.insert(id.clone(), Arc::new(ComponentSlot::first(loaded, &bytes, &spec.source)));
        }
        let routes = manifest.routes.iter().map(|(route, id)| (route.clone(), slots[id].clone())).collect();
        Ok(Self { name: manifest.name.clone(), router: Router::new(routes), slots, compiler })
    }
}

impl<S: 'static> App<S> {
    /// The component serving `path`, if any.
    pub fn route(&self, path: &str) -> Option<(RouteMatch<'_>, &Arc<ComponentSlot<S>>)> {
        self.router.route(path)
    }

    /// The routed components' slots, by id.
    pub fn slots(&self) -> &BTreeMap<String, Arc<ComponentSlot<S>>> {
        &self.slots
    }

    /// How new revisions are compiled.
    pub fn compiler(&self) -> &Compiler<S> {
        &self.compiler
    }

    /// The manifest served.
    pub fn manifest(&self) -> &AppManifest {
        &self.compiler.manifest
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

/// What the requests of `spec` get: environment, outbound policy, variables.
fn component_host<S: SidecarImports>(
    manifest: &AppManifest,
    spec: &ComponentSpec,
    link: &S,
) -> Result<ComponentHost, ManifestError> {
    let mut allowed = Vec::with_capacity(spec.allowed_outbound_hosts.len());
    for entry in &spec.allowed_outbound_hosts {
        allowed.push(AllowedHost::parse(entry).map_err(|source| ManifestError::AllowedHost {
            path: manifest.path.clone(),
            component: spec.id.clone(),
            source,
        })?);
    }
    let env: Vec<(String, String)> = spec.environment.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut outbound = OutboundPolicy::new(allowed);
    if let Some(origin) = link.sidecar_origin() {
        outbound = outbound.with_sidecar(origin.clone());
    }
    Ok(ComponentHost { env, outbound, variables: Arc::new(spec.variables.clone()), stateless: spec.stateless })
}

impl<S: SidecarImports> Compiler<S> {
    /// Compiles `bytes` as a revision of the routed component `id`. Slow
    /// (Cranelift): run it off the request path.
    pub fn compile(&self, id: &str, bytes: &[u8]) -> Result<LoadedComponent<S>, CompileError> {
        let spec = &self.manifest.components[id];
        let host = self.hosts[id].clone();
        let component = if S::COMPOSES_DEPENDENCIES && !spec.dependencies.is_empty() {
            let composed = composed(spec, bytes.to_vec())?;
            Component::new(&self.engine, &composed).map_err(CompileError::Compile)?
        } else {
            Component::new(&self.engine, bytes).map_err(CompileError::Compile)?
        };
        let instance_pre = self.linker.instantiate_pre(&component).map_err(|cause| {
            let hint = if S::COMPOSES_DEPENDENCIES {
                format!(
                    " (with --link loopback, imports of chaoslab:sidecar come from the sidecar-link bridge: \
                     declare it under [component.{}.dependencies])",
                    spec.id
                )
            } else {
                String::new()
            };
            CompileError::Link(cause.context(format!("linking the component's imports{hint}")))
        })?;
        let pre = ProxyPre::new(instance_pre).map_err(CompileError::NotHttp)?;
        let code = component.image_range();
        let code_bytes = (code.end as usize).saturating_sub(code.start as usize);
        Ok(LoadedComponent { id: spec.id.clone(), pre, host, code_bytes, warm: WarmPool::new() })
    }
}

/// The component's bytes (`socket`) composed with its declared dependencies.
fn composed(spec: &ComponentSpec, socket: Vec<u8>) -> Result<Vec<u8>, CompileError> {
    let fail = |key: &str, cause: DependencyError| CompileError::Dependency {
        id: spec.id.clone(),
        key: key.to_owned(),
        cause: Box::new(cause),
    };
    if !spec.dependencies_inherit_configuration {
        let key = spec.dependencies.keys().next().map_or("", String::as_str);
        return Err(fail(key, DependencyError::NotInherited));
    }
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
            ComposeError::Graph { .. } | ComposeError::InvalidComponent { .. } => {
                spec.dependencies.keys().cloned().collect::<Vec<_>>().join(", ")
            }
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
