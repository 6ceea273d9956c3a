//! The loopback link's JSON wire format, timed in-process: encoding a call's
//! parameters and decoding its answer, as the bridge and the sidecar do, for
//! the two calls every data-plane request makes (`chaos.decide`, `store.incr`).
//! Compared with the bridge hop measured end to end, it shows whether a
//! compact binary format would be worth its cost.

use std::hint::black_box;
use std::time::Instant;

use chaoslab_world::wire::{chaos, store};

/// Nanoseconds per (encode params + decode params + encode answer + decode
/// answer) of `decide` + `incr`, the JSON work of one `GET /` across the link.
pub fn json_ns_per_request() -> f64 {
    const ROUNDS: u32 = 200_000;
    let decision = chaos::Decision { hang_ms: None, delay_ms: 0, fail_status: None, experiments: Vec::new() };
    let incr: Result<i64, store::Error> = Ok(123_456);
    let start = Instant::now();
    for _ in 0..ROUNDS {
        let params = serde_json::to_vec(&black_box(("/", "GET"))).expect("encode");
        let (route, method): (String, String) = serde_json::from_slice(&params).expect("decode");
        black_box((route, method));
        let answer = serde_json::to_vec(black_box(&decision)).expect("encode");
        black_box(serde_json::from_slice::<chaos::Decision>(&answer).expect("decode"));
        let params = serde_json::to_vec(&black_box(("chaoslab:visits", 1i64))).expect("encode");
        black_box(serde_json::from_slice::<(String, i64)>(&params).expect("decode"));
        let answer = serde_json::to_vec(black_box(&incr)).expect("encode");
        let _ = black_box(serde_json::from_slice::<Result<i64, store::Error>>(&answer).expect("decode"));
    }
    start.elapsed().as_nanos() as f64 / f64::from(ROUNDS)
}
