//! `chaoslab-test-guest`: a component that misbehaves on request, so the
//! runtime's tests can prove it contains guests:
//! - `/trap` panics (a Wasm trap);
//! - `/loop` spins forever (the runtime's epoch deadline must end it);
//! - `/outbound?url=U` sends a request to `U` (allowed only if listed in
//!   `allowed_outbound_hosts`);
//! - `/env?name=N` echoes the environment variable `N`;
//! - `/sleep?ms=N` sleeps N milliseconds, then answers (for drain tests).
//!
//! Deployed as a revision of the api component (routed at `/...`), it is a
//! bad build that looks healthy: `/health` answers like the api's (a Redis
//! PING through the sidecar), while `GET /` answers `500` — what a canary
//! must catch. With a readiness path of `/trap`, `/loop` or `/` it plays a
//! build that fails its health gate.

// The `#[http_component]` and `wit_bindgen` macros expand to the unsafe
// export glue of the component model ABI.
#![allow(unsafe_code)]

use chaoslab_world::wire::store;
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: Request) -> Response {
    let query = req.query().to_owned();
    let param = |name: &str| {
        query.split('&').find_map(|kv| kv.strip_prefix(name)?.strip_prefix('=')).unwrap_or_default().to_owned()
    };
    // The route is `/test/...` (or `/...` as an api revision); Spin passes
    // the rest of the path here.
    let path_info = req.header("spin-path-info").and_then(|v| v.as_str()).unwrap_or("").to_owned();
    match path_info.as_str() {
        "" | "/" => Response::new(500, "this build fails GET /"),
        "/health" => match store::ping() {
            Ok(_) => Response::new(200, "healthy"),
            Err(err) => Response::new(503, format!("unhealthy: {err:?}")),
        },
        "/trap" => panic!("test guest asked to trap"),
        "/loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "/outbound" => match spin_sdk::http::send::<_, Response>(Request::get(param("url"))).await {
            Ok(resp) => Response::new(200, format!("outbound status {}", resp.status())),
            Err(err) => Response::new(502, format!("outbound failed: {err}")),
        },
        "/env" => Response::new(200, std::env::var(param("name")).unwrap_or_default()),
        "/sleep" => {
            let ms: u64 = param("ms").parse().unwrap_or(0);
            std::thread::sleep(std::time::Duration::from_millis(ms));
            Response::new(200, format!("slept {ms} ms"))
        }
        other => Response::new(404, format!("no test route {other}")),
    }
}
