//! Spin HTTP route patterns and the router that picks the most specific one.
//!
//! Patterns: `/exact/path`, `/users/:id` (one segment bound to `id`), and a
//! trailing `/...` wildcard (`/...` matches everything). Like Spin, the most
//! specific route wins: an exact route beats a wildcard, more literal
//! segments beat fewer, and a parameter beats a wildcard tail.

use std::cmp::Ordering;
use std::fmt;

/// The path prefix of chaoslab's control API (`/_chaoslab/revisions`, …),
/// which no manifest route may claim.
pub const RESERVED_PREFIX: &str = "/_chaoslab";

/// One segment of a route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Must equal this text.
    Literal(String),
    /// Matches any one segment; its value is exposed under this name.
    Param(String),
}

/// A parsed route pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The pattern as written in spin.toml.
    raw: String,
    /// Segments before any wildcard.
    segments: Vec<Segment>,
    /// True for a trailing `/...`.
    wildcard: bool,
}

/// What a request path matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a> {
    /// The route that matched.
    pub route: &'a Route,
    /// `(name, value)` for each `:param`.
    pub params: Vec<(String, String)>,
    /// The rest of the path after the matched prefix (Spin's `spin-path-info`).
    pub path_info: String,
}

/// Why a route pattern is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// The pattern does not start with `/`.
    #[error("route {0:?} must start with '/'")]
    NoLeadingSlash(String),
    /// `...` appears anywhere but as the last segment.
    #[error("route {0:?}: '...' is only allowed as the last segment")]
    WildcardNotLast(String),
    /// A `:` with no name.
    #[error("route {0:?}: ':' must be followed by a parameter name")]
    EmptyParam(String),
}

impl Route {
    /// Parses a pattern from spin.toml.
    pub fn parse(raw: &str) -> Result<Self, RouteError> {
        let rest = raw.strip_prefix('/').ok_or_else(|| RouteError::NoLeadingSlash(raw.to_owned()))?;
        let mut parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
        let wildcard = parts.last() == Some(&"...");
        if wildcard {
            parts.pop();
        }
        let mut segments = Vec::with_capacity(parts.len());
        for part in parts {
            if part == "..." {
                return Err(RouteError::WildcardNotLast(raw.to_owned()));
            }
            segments.push(match part.strip_prefix(':') {
                Some("") => return Err(RouteError::EmptyParam(raw.to_owned())),
                Some(name) => Segment::Param(name.to_owned()),
                None => Segment::Literal(part.to_owned()),
            });
        }
        Ok(Self { raw: raw.to_owned(), segments, wildcard })
    }

    /// True for a route under [`RESERVED_PREFIX`] (its first segment is
    /// literally `_chaoslab`): the runtime answers those paths itself.
    pub fn is_reserved(&self) -> bool {
        let reserved = RESERVED_PREFIX.trim_start_matches('/');
        matches!(self.segments.first(), Some(Segment::Literal(first)) if first == reserved)
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// True when two patterns match exactly the same paths (parameter names
    /// aside), which Spin rejects as a clash.
    pub fn clashes_with(&self, other: &Self) -> bool {
        self.wildcard == other.wildcard
            && self.segments.len() == other.segments.len()
            && self.segments.iter().zip(&other.segments).all(|pair| match pair {
                (Segment::Literal(a), Segment::Literal(b)) => a == b,
                (Segment::Param(_), Segment::Param(_)) => true,
                _ => false,
            })
    }

    /// Matches a request path (without query).
    pub fn matches(&self, path: &str) -> Option<RouteMatch<'_>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        if parts.len() < self.segments.len() || (!self.wildcard && parts.len() != self.segments.len()) {
            return None;
        }
        let mut params = Vec::new();
        for (segment, part) in self.segments.iter().zip(&parts) {
            match segment {
                Segment::Literal(lit) if lit == part => {}
                Segment::Literal(_) => return None,
                Segment::Param(name) => params.push((name.clone(), (*part).to_owned())),
            }
        }
        let rest = &parts[self.segments.len()..];
        let path_info = if rest.is_empty() { String::new() } else { format!("/{}", rest.join("/")) };
        Some(RouteMatch { route: self, params, path_info })
    }

    /// Orders routes from least to most specific.
    fn specificity(&self, other: &Self) -> Ordering {
        let literals = |r: &Self| r.segments.iter().filter(|s| matches!(s, Segment::Literal(_))).count();
        (!self.wildcard)
            .cmp(&!other.wildcard)
            .then(self.segments.len().cmp(&other.segments.len()))
            .then(literals(self).cmp(&literals(other)))
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Routes to targets (component ids), most specific first.
#[derive(Debug, Clone)]
pub struct Router<T> {
    /// Sorted most specific first.
    routes: Vec<(Route, T)>,
}

impl<T> Router<T> {
    /// Builds a router; the caller has already rejected clashes.
    pub fn new(mut routes: Vec<(Route, T)>) -> Self {
        routes.sort_by(|a, b| b.0.specificity(&a.0));
        Self { routes }
    }

    /// The most specific route matching `path`, with its target.
    pub fn route(&self, path: &str) -> Option<(RouteMatch<'_>, &T)> {
        self.routes.iter().find_map(|(route, target)| Some((route.matches(path)?, target)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(patterns: &[&str]) -> Router<String> {
        Router::new(patterns.iter().map(|p| (Route::parse(p).unwrap(), (*p).to_owned())).collect())
    }

    fn winner(r: &Router<String>, path: &str) -> Option<String> {
        r.route(path).map(|(_, t)| t.clone())
    }

    #[test]
    fn most_specific_route_wins() {
        let r = router(&["/...", "/health", "/chaos/...", "/chaos/:id", "/chaos/status"]);
        assert_eq!(winner(&r, "/").as_deref(), Some("/..."));
        assert_eq!(winner(&r, "/health").as_deref(), Some("/health"));
        assert_eq!(winner(&r, "/health/x").as_deref(), Some("/..."));
        assert_eq!(winner(&r, "/chaos/status").as_deref(), Some("/chaos/status"));
        assert_eq!(winner(&r, "/chaos/abc").as_deref(), Some("/chaos/:id"));
        assert_eq!(winner(&r, "/chaos").as_deref(), Some("/chaos/..."));
        assert_eq!(winner(&r, "/chaos/a/b").as_deref(), Some("/chaos/..."));
    }

    #[test]
    fn exact_root_matches_only_root() {
        let r = router(&["/"]);
        assert!(winner(&r, "/").is_some());
        assert!(winner(&r, "/x").is_none());
    }

    #[test]
    fn params_and_path_info_are_reported() {
        let route = Route::parse("/users/:id/...").unwrap();
        let m = route.matches("/users/42/posts/7").unwrap();
        assert_eq!(m.params, vec![("id".to_owned(), "42".to_owned())]);
        assert_eq!(m.path_info, "/posts/7");
    }

    #[test]
    fn clashes_ignore_param_names() {
        let a = Route::parse("/a/:x").unwrap();
        assert!(a.clashes_with(&Route::parse("/a/:y").unwrap()));
        assert!(!a.clashes_with(&Route::parse("/a/b").unwrap()));
        assert!(!a.clashes_with(&Route::parse("/a/:x/...").unwrap()));
        assert!(Route::parse("/").unwrap().clashes_with(&Route::parse("//").unwrap()));
    }

    #[test]
    fn routes_under_the_control_prefix_are_reserved() {
        for reserved in ["/_chaoslab", "/_chaoslab/...", "/_chaoslab/revisions", "/_chaoslab/:x"] {
            assert!(Route::parse(reserved).unwrap().is_reserved(), "{reserved}");
        }
        for free in ["/...", "/:x/...", "/_chaoslabs", "/api/_chaoslab"] {
            assert!(!Route::parse(free).unwrap().is_reserved(), "{free}");
        }
    }

    #[test]
    fn invalid_patterns_are_rejected() {
        assert_eq!(Route::parse("health"), Err(RouteError::NoLeadingSlash("health".into())));
        assert_eq!(Route::parse("/.../x"), Err(RouteError::WildcardNotLast("/.../x".into())));
        assert_eq!(Route::parse("/a/:"), Err(RouteError::EmptyParam("/a/:".into())));
    }
}
