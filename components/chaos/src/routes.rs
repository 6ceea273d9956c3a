//! The routes this component serves, decided once per request from the
//! method and path; the OpenAPI document ([`crate::openapi`]) lists the same
//! ones from the same constants. Paths are exact: `/chaos/` (a trailing
//! slash) or `/chaos/a/b` are no route (`404`).

use chaoslab_guest_http::{method_not_allowed, not_found};
use spin_sdk::http::{Method, Response};

/// The kinds of experiment, as route segments (`POST /chaos/{kind}`).
pub const KINDS: [&str; 5] = ["load", "hang", "latency", "errors", "redis"];
/// Where the OpenAPI document is served.
pub const OPENAPI: &str = "/openapi.json";
/// The prefix of the chaos control API.
pub const CHAOS: &str = "/chaos";
/// The status segment: `GET /chaos/status`.
pub const STATUS: &str = "status";

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /openapi.json`.
    OpenApi,
    /// `POST /chaos/{kind}`.
    Start(&'static str),
    /// `GET /chaos/status`.
    Status,
    /// `DELETE /chaos`.
    StopAll,
    /// `DELETE /chaos/{id}`.
    Stop(String),
}

/// Why a request has no route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such path.
    NotFound,
    /// The path exists with another method.
    MethodNotAllowed {
        /// The method asked for.
        method: String,
        /// The one method the path answers.
        allow: &'static str,
    },
}

impl Refusal {
    /// True when the refusal may be told without the chaos token: only for
    /// the public document's path.
    pub fn is_public(&self, path: &str) -> bool {
        path == OPENAPI
    }

    /// The answer: `404`, or `405` with `Allow`.
    pub fn answer(&self, path: &str) -> Response {
        match self {
            Self::NotFound => not_found(path),
            Self::MethodNotAllowed { method, allow } => method_not_allowed(method, allow),
        }
    }
}

/// The route of `method path`.
pub fn route(method: &Method, path: &str) -> Result<Route, Refusal> {
    let only = |wanted: Method, allow: &'static str, route: Route| {
        if *method == wanted { Ok(route) } else { Err(Refusal::MethodNotAllowed { method: method.to_string(), allow }) }
    };
    if path == OPENAPI {
        return only(Method::Get, "GET", Route::OpenApi);
    }
    let Some(rest) = path.strip_prefix(CHAOS) else { return Err(Refusal::NotFound) };
    let Some(segment) = rest.strip_prefix('/') else {
        return if rest.is_empty() { only(Method::Delete, "DELETE", Route::StopAll) } else { Err(Refusal::NotFound) };
    };
    if segment.is_empty() || segment.contains('/') {
        return Err(Refusal::NotFound);
    }
    if segment == STATUS {
        return only(Method::Get, "GET", Route::Status);
    }
    match KINDS.iter().find(|kind| **kind == segment) {
        Some(kind) => only(Method::Post, "POST", Route::Start(kind)),
        None => only(Method::Delete, "DELETE", Route::Stop(segment.to_owned())),
    }
}

/// The `scope` of `GET /chaos/status?{query}`: `true` for `scope=all`,
/// `false` for none or `scope=replica`; anything else is refused with why.
pub fn status_scope(query: &str) -> Result<bool, String> {
    let mut all = false;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        match pair.split_once('=') {
            Some(("scope", "all")) => all = true,
            Some(("scope", "replica")) => all = false,
            _ => return Err(format!("unknown query {pair:?}: the status takes only scope=replica or scope=all")),
        }
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_and_its_refusals() {
        assert_eq!(route(&Method::Get, "/openapi.json"), Ok(Route::OpenApi));
        assert_eq!(route(&Method::Post, "/chaos/hang"), Ok(Route::Start("hang")));
        assert_eq!(route(&Method::Get, "/chaos/status"), Ok(Route::Status));
        assert_eq!(route(&Method::Delete, "/chaos"), Ok(Route::StopAll));
        assert_eq!(route(&Method::Delete, "/chaos/exp-3"), Ok(Route::Stop("exp-3".into())));
        let not_allowed = |allow| Err(Refusal::MethodNotAllowed { method: "PUT".into(), allow });
        assert_eq!(route(&Method::Put, "/openapi.json"), not_allowed("GET"));
        assert_eq!(route(&Method::Put, "/chaos/load"), not_allowed("POST"));
        assert_eq!(route(&Method::Put, "/chaos/status"), not_allowed("GET"));
        assert_eq!(route(&Method::Put, "/chaos"), not_allowed("DELETE"));
        assert_eq!(route(&Method::Put, "/chaos/exp-1"), not_allowed("DELETE"));
    }

    #[test]
    fn the_status_scope_is_replica_or_all() {
        assert_eq!(status_scope(""), Ok(false));
        assert_eq!(status_scope("scope=replica"), Ok(false));
        assert_eq!(status_scope("scope=all"), Ok(true));
        for bad in ["scope=every", "scope", "x=1", "scope=all&x=1"] {
            assert!(status_scope(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn trailing_slashes_and_deeper_paths_are_no_route() {
        for path in ["/chaos/", "/chaos/hang/", "/chaos//hang", "/chaos/exp-1/x", "/chaosx", "/other"] {
            assert_eq!(route(&Method::Delete, path), Err(Refusal::NotFound), "{path}");
        }
    }
}
