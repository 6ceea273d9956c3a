//! The control API under `/_chaoslab/` (axum, served by the runtime beside
//! the components; a manifest route under `/_chaoslab` is refused at
//! start-up). Every route needs the chaos token ([`ControlAuth`]); every
//! error is `application/problem+json` naming the field at fault.
//!
//! | route | answer |
//! |---|---|
//! | `GET /_chaoslab/revisions[?component=C]` | `200` every revision and the splits |
//! | `POST /_chaoslab/revisions` | `202` the new revision (`provisioning`, or `failed`: unreadable) + `Location` |
//! | `GET /_chaoslab/revisions/{id}` | `200` one revision |
//! | `POST /_chaoslab/revisions/{id}/activate` | `200` the revision, now serving 100 % |
//! | `GET`, `PUT /_chaoslab/traffic` | `200` the splits |

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use http_body_util::BodyExt;
use serde::Serialize;

use super::auth::{AuthError, ControlAuth};
use super::form::{self, DeployForm, FieldError, FormError, TrafficForm};
use super::model::Source;
use super::registry::{ControlError, Deploy, Revisions};
use crate::host::SidecarImports;
use crate::server::problem::document;

/// The reserved path prefix.
pub const PREFIX: &str = "/_chaoslab";
/// Largest JSON body of a control request.
const MAX_JSON: usize = 64 * 1024;

/// True for a path the control API answers.
pub fn is_control_path(path: &str) -> bool {
    path.strip_prefix(PREFIX).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// What the routes share.
pub struct ControlState<S: 'static> {
    /// The revisions.
    pub revisions: Arc<Revisions<S>>,
    /// Where the token is checked.
    pub auth: Arc<ControlAuth>,
    /// Largest uploaded `.wasm` (`--max-wasm-mb`).
    pub max_wasm_bytes: usize,
}

impl<S> Clone for ControlState<S> {
    fn clone(&self) -> Self {
        Self { revisions: self.revisions.clone(), auth: self.auth.clone(), max_wasm_bytes: self.max_wasm_bytes }
    }
}

/// The control API's routes, behind the token. Testable without a socket
/// (`tower::ServiceExt::oneshot`).
pub fn router<S: SidecarImports>(state: ControlState<S>) -> Router {
    let auth = state.auth.clone();
    Router::new()
        .route("/_chaoslab/revisions", get(list::<S>).post(deploy::<S>).fallback(not_allowed("GET, POST")))
        .route("/_chaoslab/revisions/{id}", get(one::<S>).fallback(not_allowed("GET")))
        .route("/_chaoslab/revisions/{id}/activate", post(activate::<S>).fallback(not_allowed("POST")))
        .route("/_chaoslab/traffic", get(traffic::<S>).put(set_traffic::<S>).fallback(not_allowed("GET, PUT")))
        .fallback(unknown)
        .layer(from_fn_with_state(auth, require_token))
        .with_state(state)
}

/// Lets through requests carrying the chaos token.
async fn require_token(State(auth): State<Arc<ControlAuth>>, req: Request, next: Next) -> Response {
    let header = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).unwrap_or("");
    let bearer = header.strip_prefix("Bearer ").or_else(|| header.strip_prefix("bearer ")).unwrap_or("").trim();
    match auth.authorize(bearer).await {
        Ok(true) => next.run(req).await,
        Ok(false) => {
            let mut resp = problem(
                StatusCode::UNAUTHORIZED,
                "send Authorization: Bearer <chaos token> (the token of /chaos/*)",
                None,
            );
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"chaoslab\""));
            resp
        }
        Err(err @ AuthError::Disabled) => problem(StatusCode::NOT_FOUND, &err.to_string(), None),
        Err(err @ AuthError::Unavailable(_)) => {
            tracing::warn!(error = %err, "control API: could not check the chaos token");
            let mut resp = problem(StatusCode::SERVICE_UNAVAILABLE, "the chaos token cannot be checked now", None);
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            resp
        }
    }
}

/// `GET /_chaoslab/revisions[?component=C]`.
async fn list<S: SidecarImports>(State(state): State<ControlState<S>>, uri: Uri) -> Response {
    let query = uri.query().unwrap_or("");
    let component = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "component").map(|(_, v)| v);
    answer(state.revisions.list(component.as_deref()), StatusCode::OK)
}

async fn one<S: SidecarImports>(State(state): State<ControlState<S>>, Path(id): Path<String>) -> Response {
    answer(state.revisions.get(&id), StatusCode::OK)
}

async fn activate<S: SidecarImports>(State(state): State<ControlState<S>>, Path(id): Path<String>) -> Response {
    answer(state.revisions.activate(&id), StatusCode::OK)
}

async fn traffic<S: SidecarImports>(State(state): State<ControlState<S>>) -> Response {
    json(StatusCode::OK, &state.revisions.traffic())
}

async fn set_traffic<S: SidecarImports>(
    State(state): State<ControlState<S>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match json_body(&headers, body).await {
        Ok(bytes) => bytes,
        Err(resp) => return resp,
    };
    match form::from_json::<TrafficForm>(&bytes) {
        Ok(shares) => answer(state.revisions.set_traffic(&shares), StatusCode::OK),
        Err(err) => form_error(err),
    }
}

/// `POST /_chaoslab/revisions`: a path (JSON) or the bytes (`application/wasm`, settings in the query).
async fn deploy<S: SidecarImports>(
    State(state): State<ControlState<S>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let deploy = if mime(&headers) == "application/wasm" {
        upload(&state, &uri, &headers, body).await
    } else {
        match json_body(&headers, body).await {
            Ok(bytes) => from_path(&state, &bytes).await,
            Err(resp) => Err(resp),
        }
    };
    let deploy = match deploy {
        Ok(deploy) => deploy,
        Err(resp) => return resp,
    };
    match state.revisions.deploy(deploy) {
        Ok(revision) => {
            let mut resp = json(StatusCode::ACCEPTED, &revision);
            if let Ok(location) = HeaderValue::try_from(format!("{PREFIX}/revisions/{}", revision.meta.id)) {
                resp.headers_mut().insert(header::LOCATION, location);
            }
            resp
        }
        Err(err) => control_error(err),
    }
}

/// A deploy of the uploaded bytes; its settings are in the query string.
async fn upload<S: SidecarImports>(
    state: &ControlState<S>,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Deploy, Response> {
    let form: DeployForm =
        form::from_json(form::query_object(uri.query().unwrap_or("")).to_string().as_bytes()).map_err(form_error)?;
    if form.source.is_some() {
        return Err(form_error(FormError::Malformed(FieldError {
            field: "source".into(),
            message: "not with an application/wasm body: the body is the component".into(),
        })));
    }
    let plan = form.plan().map_err(form_error)?;
    let bytes = limited(headers, body, state.max_wasm_bytes, "--max-wasm-mb").await?;
    let source = Source::Upload { bytes: bytes.len() };
    Ok(Deploy { component: form.component, bytes: Ok(bytes.to_vec()), source, plan })
}

/// A deploy of a `.wasm` the runtime reads (relative paths: from the manifest's directory).
async fn from_path<S: SidecarImports>(state: &ControlState<S>, body: &[u8]) -> Result<Deploy, Response> {
    let form: DeployForm = form::from_json(body).map_err(form_error)?;
    let plan = form.plan().map_err(form_error)?;
    let Some(source) = form.source else {
        return Err(form_error(FormError::Malformed(FieldError {
            field: "source".into(),
            message: "missing: name a .wasm path on the runtime's machine, or send the bytes as \
                      application/wasm with ?component=NAME"
                .into(),
        })));
    };
    let path = crate::app::manifest_dir(&state.revisions.app().manifest().path).join(&source);
    let shown = path.display().to_string();
    let read = tokio::task::spawn_blocking(move || std::fs::read(&path)).await;
    let bytes = match read {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(err)) => Err(format!("cannot read {shown}: {err}")),
        Err(join) => Err(format!("cannot read {shown}: {join}")),
    };
    Ok(Deploy { component: form.component, bytes, source: Source::Path { path: shown }, plan })
}

/// The body of a JSON request (at most [`MAX_JSON`]), or the answer refusing it.
async fn json_body(headers: &HeaderMap, body: Body) -> Result<Bytes, Response> {
    let mime = mime(headers);
    if !(mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))) {
        let detail = format!(
            "content-type must be application/json (or application/wasm to upload a component), got {}",
            if mime.is_empty() { "none" } else { &mime }
        );
        return Err(problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, &detail, None));
    }
    limited(headers, body, MAX_JSON, "a fixed limit").await
}

/// The whole body, refused with `413` past `max` bytes.
async fn limited(headers: &HeaderMap, mut body: Body, max: usize, limit: &str) -> Result<Bytes, Response> {
    let too_large = |len: String| {
        problem(StatusCode::PAYLOAD_TOO_LARGE, &format!("body is {len} bytes; the limit is {max} ({limit})"), None)
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(len) = declared.filter(|len| *len > max as u64) {
        discard(body).await;
        return Err(too_large(len.to_string()));
    }
    let mut collected = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|err| problem(StatusCode::BAD_REQUEST, &format!("reading the body failed: {err}"), None))?;
        let Ok(data) = frame.into_data() else { continue };
        if collected.len() + data.len() > max {
            discard(body).await;
            return Err(too_large("more than that".into()));
        }
        collected.extend_from_slice(&data);
    }
    Ok(collected.into())
}

/// Longest an over-limit body is read (and thrown away) before its `413`.
const DISCARD_FOR: Duration = Duration::from_secs(10);
/// Most bytes of an over-limit body read (and thrown away) before its `413`.
const DISCARD_MAX: usize = 1 << 30;

/// Reads the rest of a refused body, within [`DISCARD_FOR`] and
/// [`DISCARD_MAX`]: a client still writing a large upload (`chaoslab
/// revision deploy big.wasm`) would otherwise meet a closed connection
/// ("broken pipe") instead of reading the `413` that says why. Only
/// authorized callers get here (the token is checked first).
async fn discard(mut body: Body) {
    let drain = async {
        let mut seen = 0;
        while let Some(Ok(frame)) = body.frame().await {
            seen += frame.data_ref().map_or(0, Bytes::len);
            if seen > DISCARD_MAX {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(DISCARD_FOR, drain).await;
}

/// The request's media type, lower case, without parameters.
fn mime(headers: &HeaderMap) -> String {
    let value = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()
}

/// Any other path under the prefix.
async fn unknown(uri: Uri) -> Response {
    let detail = format!(
        "no control route {}; see /_chaoslab/revisions and /_chaoslab/traffic (README \"Revisions\")",
        uri.path()
    );
    problem(StatusCode::NOT_FOUND, &detail, None)
}

/// `405` with `Allow`.
fn not_allowed(allow: &'static str) -> impl Fn(http::Method) -> std::future::Ready<Response> + Clone + Send {
    move |method| {
        let mut resp =
            problem(StatusCode::METHOD_NOT_ALLOWED, &format!("{method} is not allowed here; use {allow}"), None);
        resp.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        std::future::ready(resp)
    }
}

fn answer<T: Serialize>(result: Result<T, ControlError>, status: StatusCode) -> Response {
    match result {
        Ok(value) => json(status, &value),
        Err(err) => control_error(err),
    }
}

fn control_error(err: ControlError) -> Response {
    match err {
        ControlError::Invalid { field, message } => {
            let detail = format!("{field}: {message}");
            problem(StatusCode::UNPROCESSABLE_ENTITY, &detail, Some(vec![FieldError { field, message }]))
        }
        ControlError::NotFound(detail) => problem(StatusCode::NOT_FOUND, &detail, None),
        ControlError::Conflict(detail) => problem(StatusCode::CONFLICT, &detail, None),
    }
}

fn form_error(err: FormError) -> Response {
    let (status, error) = match err {
        FormError::Malformed(e) => (StatusCode::BAD_REQUEST, e),
        FormError::OutOfBounds(e) => (StatusCode::UNPROCESSABLE_ENTITY, e),
    };
    let detail =
        if error.field.is_empty() { error.message.clone() } else { format!("{}: {}", error.field, error.message) };
    problem(status, &detail, Some(vec![error]))
}

fn json<T: Serialize>(status: StatusCode, value: &T) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn problem(status: StatusCode, detail: &str, errors: Option<Vec<FieldError>>) -> Response {
    let mut doc = document(status, detail);
    if let Some(errors) = errors {
        doc["errors"] = serde_json::to_value(errors).unwrap_or_default();
    }
    let mut resp = (status, doc.to_string()).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

#[cfg(test)]
mod tests {
    use super::is_control_path;

    #[test]
    fn the_prefix_is_a_whole_segment() {
        assert!(is_control_path("/_chaoslab") && is_control_path("/_chaoslab/") && is_control_path("/_chaoslab/x"));
        assert!(!is_control_path("/_chaoslabs") && !is_control_path("/") && !is_control_path("/x/_chaoslab"));
    }
}
