//! Who may use the control API: whoever holds the chaos token — the same
//! bearer token as `/chaos/*`. The token lives in the sidecar's chaos
//! engine: when the sidecar's services run in this process (in-process,
//! or `--link loopback` serving its own sidecar) they are asked directly;
//! an external `chaoslab-sidecar` (`--sidecar-url`) is asked over its link
//! RPC, `POST {url}/v1/chaos/authorize` with the link token (wit/README.md).

use std::time::Duration;

use chaoslab_sidecar::{Secret, Services};
use chaoslab_world::wire::chaos::Error as ChaosError;

/// How long the sidecar may take to check a token.
const SIDECAR_TIMEOUT: Duration = Duration::from_secs(2);

/// Where the chaos token is checked.
pub enum ControlAuth {
    /// The sidecar's services in this process.
    Services(Services),
    /// An external sidecar, over its link RPC.
    Sidecar {
        /// `POST` target: `{sidecar url}/v1/chaos/authorize`.
        endpoint: String,
        /// The link's shared secret.
        link_token: Secret,
        /// Pooled connections to it.
        client: reqwest::Client,
    },
}

/// Why a token could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Chaos is switched off (`--no-chaos`): there is no token.
    #[error("chaos is switched off on this replica (--no-chaos), so there is no token for the control API")]
    Disabled,
    /// The sidecar could not answer.
    #[error("the sidecar could not check the token: {0}")]
    Unavailable(String),
}

impl ControlAuth {
    /// Asks the external sidecar at `url` (e.g. `http://127.0.0.1:7070`).
    pub fn sidecar(url: &str, link_token: Secret) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(SIDECAR_TIMEOUT).build()?;
        Ok(Self::Sidecar { endpoint: format!("{}/v1/chaos/authorize", url.trim_end_matches('/')), link_token, client })
    }

    /// True when `bearer` is the chaos token (compared in constant time by the engine).
    pub async fn authorize(&self, bearer: &str) -> Result<bool, AuthError> {
        let answer = match self {
            Self::Services(services) => services.authorize(bearer),
            Self::Sidecar { endpoint, link_token, client } => {
                let body = serde_json::json!([bearer]).to_string();
                let resp = client
                    .post(endpoint)
                    .bearer_auth(link_token.expose())
                    .header(http::header::CONTENT_TYPE, "application/json")
                    .body(body)
                    .send()
                    .await
                    .map_err(|err| AuthError::Unavailable(format!("{endpoint}: {err}")))?;
                let status = resp.status();
                if status == http::StatusCode::UNAUTHORIZED {
                    return Err(AuthError::Unavailable("the sidecar refused the link token".into()));
                }
                if !status.is_success() {
                    return Err(AuthError::Unavailable(format!("{endpoint} answered {status}")));
                }
                let bytes = resp.bytes().await.map_err(|err| AuthError::Unavailable(format!("{endpoint}: {err}")))?;
                serde_json::from_slice::<Result<bool, ChaosError>>(&bytes)
                    .map_err(|err| AuthError::Unavailable(format!("{endpoint}: unexpected answer: {err}")))?
            }
        };
        match answer {
            Ok(ok) => Ok(ok),
            Err(ChaosError::Disabled) => Err(AuthError::Disabled),
            Err(other) => Err(AuthError::Unavailable(format!("{other:?}"))),
        }
    }
}
