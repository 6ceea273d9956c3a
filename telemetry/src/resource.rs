//! The resource every signal carries: `service.name` = `<name>-<role>` (the
//! Application Insights cloud role, so the application map shows the runtime
//! and the sidecar apart), `service.instance.id` = the replica (cloud role
//! instance), `service.version`, and `chaoslab.role`.

use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;

/// Which chaoslab process this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// `chaoslab up`: the runtime (and, in-process, the sidecar library).
    Runtime,
    /// `chaoslab-sidecar`.
    Sidecar,
}

impl Role {
    /// `runtime` or `sidecar`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Runtime => "runtime",
            Self::Sidecar => "sidecar",
        }
    }
}

/// The replica's name, decided once at start by [`set_replica`].
static REPLICA: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The replica's name: the one decided at start ([`set_replica`]), else
/// `CONTAINER_APP_REPLICA_NAME` (Container Apps), else the host name.
pub fn replica() -> String {
    REPLICA.get().cloned().unwrap_or_else(|| replica_name(None, None))
}

/// Records the replica's name for the whole process, before telemetry
/// starts: the resource, the request spans, `telemetry.replica` and the
/// chaos coordination all say this one. The first call wins.
pub fn set_replica(name: &str) {
    let _ = REPLICA.set(name.to_owned());
}

/// A replica's name: `explicit` when given, else `CONTAINER_APP_REPLICA_NAME`
/// (unique per replica on Container Apps), else the host name, with
/// `:port` when a port is known, so several replicas on one host (three
/// `chaoslab up` for a test) are told apart.
pub fn replica_name(explicit: Option<&str>, port: Option<u16>) -> String {
    if let Some(name) = explicit.filter(|n| !n.is_empty()) {
        return name.to_owned();
    }
    if let Some(name) = std::env::var("CONTAINER_APP_REPLICA_NAME").ok().filter(|r| !r.is_empty()) {
        return name;
    }
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()))
        .unwrap_or_else(|| "unknown".to_owned());
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host,
    }
}

/// The resource of `role` named `service_name` on `replica`. Attributes from
/// `OTEL_RESOURCE_ATTRIBUTES` are kept (the SDK's detectors run first).
pub fn build(service_name: &str, role: Role, replica: &str) -> Resource {
    Resource::builder()
        .with_service_name(format!("{service_name}-{}", role.as_str()))
        .with_attributes([
            KeyValue::new("service.instance.id", replica.to_owned()),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
            KeyValue::new("chaoslab.role", role.as_str()),
        ])
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::Key;

    #[test]
    fn an_explicit_name_wins_and_a_port_tells_hosts_apart() {
        assert_eq!(replica_name(Some("rep-7"), Some(8080)), "rep-7");
        if std::env::var_os("CONTAINER_APP_REPLICA_NAME").is_none() {
            let (a, b) = (replica_name(None, Some(1)), replica_name(None, Some(2)));
            assert!(a.ends_with(":1") && b.ends_with(":2") && a != b, "{a} {b}");
        }
    }

    #[test]
    fn role_and_replica_name_the_service() {
        let resource = build("chaoslab", Role::Sidecar, "rep-1");
        assert_eq!(resource.get(&Key::new("service.name")).unwrap().as_str(), "chaoslab-sidecar");
        assert_eq!(resource.get(&Key::new("service.instance.id")).unwrap().as_str(), "rep-1");
        assert_eq!(resource.get(&Key::new("chaoslab.role")).unwrap().as_str(), "sidecar");
    }
}
