//! `chaoslab:sidecar/{store,chaos,telemetry}` linked in-process, in the
//! shape of wasmtime's WASI crates: [`SidecarCtx`] (what the host holds, the
//! sidecar's [`Services`]), [`SidecarView`] (what one call sees: the context
//! and its request's deadline) and [`add_to_linker`] taking a
//! `fn(&mut T) -> SidecarView<'_>`. Each WIT call goes to the sidecar
//! library's contract, converted between wasmtime's and the wire rendering
//! of the WIT types by chaoslab-world's `Mirror`.

use std::sync::Arc;
use std::time::Duration;

use chaoslab_sidecar::Services;
use chaoslab_world::host::{Mirror, chaos, store, telemetry};
use wasmtime::component::{HasData, Linker};

use super::RequestDeadline;

/// The in-process sidecar, shared by every request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct SidecarCtx {
    /// Store and chaos engine.
    services: Arc<Services>,
}

impl SidecarCtx {
    /// A context serving `services`.
    pub fn new(services: Services) -> Self {
        Self { services: Arc::new(services) }
    }

    /// The services (e.g. to serve them over loopback as well).
    pub fn services(&self) -> &Services {
        &self.services
    }
}

/// What one `chaoslab:sidecar` call sees.
pub struct SidecarView<'a> {
    /// The sidecar.
    ctx: &'a SidecarCtx,
    /// The calling request's deadline, which holds extend.
    deadline: &'a RequestDeadline,
}

impl<'a> SidecarView<'a> {
    /// A view of `ctx` for a request with `deadline`.
    pub fn new(ctx: &'a SidecarCtx, deadline: &'a RequestDeadline) -> Self {
        Self { ctx, deadline }
    }
}

/// The `HasData` marker: the linked functions see a [`SidecarView`].
struct HasSidecar;

impl HasData for HasSidecar {
    type Data<'a> = SidecarView<'a>;
}

/// Adds `chaoslab:sidecar/{store,chaos,telemetry}` to `linker`; `view`
/// finds the sidecar and deadline of a request's state.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> SidecarView<'_>,
) -> wasmtime::Result<()> {
    store::add_to_linker::<T, HasSidecar>(linker, view)?;
    chaos::add_to_linker::<T, HasSidecar>(linker, view)?;
    telemetry::add_to_linker::<T, HasSidecar>(linker, view)
}

impl store::Host for SidecarView<'_> {
    async fn incr(&mut self, key: String, delta: i64) -> Result<i64, store::Error> {
        self.ctx.services.incr(&key, delta).await.mirror()
    }

    async fn get(&mut self, key: String) -> Result<Option<Vec<u8>>, store::Error> {
        self.ctx.services.get(&key).await.mirror()
    }

    async fn set(&mut self, key: String, value: Vec<u8>, ttl_ms: Option<u64>) -> Result<(), store::Error> {
        self.ctx.services.set(&key, &value, ttl_ms).await.map_err(Mirror::mirror)
    }

    async fn ping(&mut self) -> Result<u64, store::Error> {
        self.ctx.services.ping().await.mirror()
    }
}

impl chaos::Host for SidecarView<'_> {
    async fn authorize(&mut self, bearer: String) -> Result<bool, chaos::Error> {
        self.ctx.services.authorize(&bearer).mirror()
    }

    async fn start(
        &mut self,
        fault: chaos::Fault,
        duration_seconds: u32,
        scope: chaos::Scope,
    ) -> Result<chaos::Experiment, chaos::Error> {
        self.ctx.services.start(fault.mirror(), duration_seconds, scope.mirror()).await.mirror()
    }

    async fn stop(&mut self, id: String) -> Result<chaos::Experiment, chaos::Error> {
        self.ctx.services.stop(&id).await.mirror()
    }

    async fn stop_all(&mut self) -> Result<Vec<chaos::Experiment>, chaos::Error> {
        self.ctx.services.stop_all().await.mirror()
    }

    async fn status_all(&mut self) -> Result<chaos::ClusterStatus, chaos::Error> {
        self.ctx.services.status_all().await.mirror()
    }

    async fn status(&mut self) -> Result<chaos::ChaosStatus, chaos::Error> {
        self.ctx.services.status().mirror()
    }

    async fn limits(&mut self) -> Result<chaos::ChaosLimits, chaos::Error> {
        self.ctx.services.limits().mirror()
    }

    async fn decide(&mut self, route: String, method: String) -> chaos::Decision {
        self.ctx.services.decide(&route, &method).mirror()
    }

    async fn hold(&mut self, ms: u64) -> bool {
        // A held request is chaos, not a slow guest: its time does not count
        // against the request timeout.
        self.deadline.extend(Duration::from_millis(ms));
        self.ctx.services.hold(ms).await
    }
}

impl telemetry::Host for SidecarView<'_> {
    async fn add_event(&mut self, name: String, attributes: Vec<telemetry::Attribute>) {
        Services::add_event(name, attributes.mirror());
    }

    async fn set_attribute(&mut self, key: String, value: String) {
        Services::set_attribute(key, value);
    }

    async fn add_counter(&mut self, name: String, delta: u64, attributes: Vec<telemetry::Attribute>) {
        Services::add_counter(name, delta, attributes.mirror());
    }

    async fn replica(&mut self) -> String {
        self.ctx.services.replica()
    }
}

#[cfg(test)]
mod tests {
    //! The host trait impls called directly, as a guest's imports would be,
    //! without Wasm: a real chaos engine, a real `redis-server`.

    use std::time::Instant;

    use chaoslab_sidecar::chaos::{ChaosEngine, EngineConfig, Limits, SystemClock};
    use chaoslab_sidecar::{RedisArgs, RedisStore, Secret};
    use chaoslab_tests::RedisServer;

    use super::*;
    use chaos::Host as _;
    use store::Host as _;

    async fn ctx(redis_url: &str) -> SidecarCtx {
        let config = EngineConfig {
            enabled: true,
            token: Some(Secret::new("tok", 1).unwrap()),
            seed: 1,
            limits: Limits::default(),
            replica: "replica-under-test".into(),
        };
        let chaos = ChaosEngine::new(config, Arc::new(SystemClock));
        let redis = RedisStore::connect(&RedisArgs::for_url(redis_url)).await.unwrap().with_chaos(chaos.clone());
        SidecarCtx::new(Services::new(redis, chaos, Default::default()).unwrap())
    }

    #[tokio::test]
    async fn store_calls_reach_redis_and_map_injected_faults() {
        let redis = RedisServer::start();
        let ctx = ctx(&redis.url()).await;
        let deadline = RequestDeadline::new(Duration::from_secs(5));
        let mut view = SidecarView::new(&ctx, &deadline);
        assert_eq!(view.incr("n".into(), 2).await, Ok(2));
        assert!(view.ping().await.is_ok());
        let fail = chaos::RedisSpec { mode: chaos::RedisMode::Fail, latency_ms: 0, percent: 100 };
        view.start(chaos::Fault::Redis(fail), 60, chaos::Scope::Replica).await.unwrap();
        let err = view.incr("n".into(), 1).await.unwrap_err();
        assert!(matches!(&err, store::Error::Unavailable(m) if m.contains("exp-1")), "{err:?}");
    }

    #[tokio::test]
    async fn chaos_calls_speak_wasmtime_types_end_to_end() {
        let ctx = ctx("redis://127.0.0.1:1").await;
        let deadline = RequestDeadline::new(Duration::from_secs(5));
        let mut view = SidecarView::new(&ctx, &deadline);
        assert_eq!(view.authorize("tok".into()).await, Ok(true));
        assert_eq!(view.authorize("nope".into()).await, Ok(false));
        let spec = chaos::ErrorsSpec { status: 503, percent: 100, routes: None, methods: Some(vec!["GET".into()]) };
        let exp = view.start(chaos::Fault::Errors(spec), 60, chaos::Scope::Replica).await.unwrap();
        assert_eq!(exp.id, "exp-1");
        assert_eq!(view.decide("/".into(), "GET".into()).await.fail_status, Some(503));
        assert_eq!(view.decide("/".into(), "PUT".into()).await.fail_status, None);
        let invalid = view
            .start(
                chaos::Fault::Latency(chaos::LatencySpec {
                    ms: 1,
                    jitter_ms: 0,
                    percent: 0,
                    routes: None,
                    methods: None,
                }),
                60,
                chaos::Scope::Replica,
            )
            .await;
        assert!(matches!(invalid, Err(chaos::Error::Invalid(f)) if f[0].field == "percent"));
        let stopped = view.stop("exp-1".into()).await.unwrap();
        assert_eq!(stopped.end_reason, Some(chaos::EndReason::Stopped));
        assert!(view.status().await.unwrap().active.is_empty());
    }

    #[tokio::test]
    async fn a_hold_extends_the_request_deadline_and_a_stop_releases_it() {
        let ctx = ctx("redis://127.0.0.1:1").await;
        let deadline = RequestDeadline::new(Duration::from_millis(100));
        let before = deadline.at();
        let mut view = SidecarView::new(&ctx, &deadline);
        view.start(chaos::Fault::Hang, 60, chaos::Scope::Replica).await.unwrap();
        let services = ctx.services().clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            services.stop_all().await.unwrap();
        });
        let started = Instant::now();
        assert!(!view.hold(10_000).await, "released early by the stop");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(deadline.at() >= before + Duration::from_secs(10), "the hold's time was granted");
    }
}
