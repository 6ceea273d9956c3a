//! The scope fields every start body shares — `scope`, `replicas`,
//! `replicas_percent` — read together into the WIT `scope`.

use serde::Deserialize;

use chaoslab_world::wire::chaos::Scope;

use crate::body::BodyError;

/// The `scope` field: which replicas an experiment reaches.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ScopeName {
    /// This replica (the default).
    Replica,
    /// Every replica, or a subset with `replicas` / `replicas_percent`.
    All,
}

/// serde `deserialize_with` of `scope`: absent is `None` (the field's
/// default), `null` is refused like any other non-scope.
pub fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<ScopeName>, D::Error> {
    ScopeName::deserialize(deserializer).map(Some)
}

/// The names of [`ScopeName`]'s cases (the OpenAPI document's enum).
pub const SCOPES: [&str; 2] = ["replica", "all"];

/// The scope a body asks for. A subset (`replicas` or `replicas_percent`)
/// implies `scope: "all"`; with `scope: "replica"`, or both given, it is a
/// 400 naming the field. Bounds are the engine's (422).
pub fn read(
    scope: Option<ScopeName>,
    replicas: Option<u32>,
    replicas_percent: Option<u32>,
) -> Result<Scope, BodyError> {
    let refuse =
        |field: &str, detail: &str| BodyError { status: 400, detail: detail.into(), field: Some(field.into()) };
    let subset = match (replicas, replicas_percent) {
        (Some(_), Some(_)) => return Err(refuse("replicas_percent", "give replicas or replicas_percent, not both")),
        (Some(n), None) => Some(Scope::Count(n)),
        (None, Some(p)) => Some(Scope::Percent(p)),
        (None, None) => None,
    };
    match (scope, subset) {
        (Some(ScopeName::Replica), Some(Scope::Percent(_))) => {
            Err(refuse("replicas_percent", "a share of the replicas needs scope \"all\" (or no scope)"))
        }
        (Some(ScopeName::Replica), Some(_)) => {
            Err(refuse("replicas", "a number of replicas needs scope \"all\" (or no scope)"))
        }
        (None | Some(ScopeName::Replica), None) => Ok(Scope::Replica),
        (Some(ScopeName::All), None) => Ok(Scope::All),
        (_, Some(subset)) => Ok(subset),
    }
}

/// `replica` or `all` (a subset is `all` with `replicas` or `replicas_percent`).
pub fn name(scope: &Scope) -> &'static str {
    match scope {
        Scope::Replica => "replica",
        Scope::All | Scope::Count(_) | Scope::Percent(_) => "all",
    }
}
