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

/// The replica's name: `CONTAINER_APP_REPLICA_NAME` (Container Apps), else
/// the host name.
pub fn replica() -> String {
    std::env::var("CONTAINER_APP_REPLICA_NAME")
        .ok()
        .filter(|r| !r.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_owned()))
        .unwrap_or_else(|| "unknown".to_owned())
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
    fn role_and_replica_name_the_service() {
        let resource = build("chaoslab", Role::Sidecar, "rep-1");
        assert_eq!(resource.get(&Key::new("service.name")).unwrap().as_str(), "chaoslab-sidecar");
        assert_eq!(resource.get(&Key::new("service.instance.id")).unwrap().as_str(), "rep-1");
        assert_eq!(resource.get(&Key::new("chaoslab.role")).unwrap().as_str(), "sidecar");
    }
}
