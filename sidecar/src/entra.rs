//! [`EntraCredentials`]: Microsoft Entra ID credentials for Azure Managed
//! Redis from a managed identity, kept fresh for the life of the process.
//!
//! redis-rs's own `EntraIdCredentialsProvider` (feature `entra-id`) does the
//! work: it asks azure_identity's `ManagedIdentityCredential` for a token for
//! `https://redis.azure.com/.default`, takes the Redis user from the token's
//! `oid` claim, fetches a new token 240 s before the current one expires, and
//! every connection it is attached to re-sends `AUTH` with each new token.
//! Two of its sharp edges are handled here:
//! - its refresh task ends for good once its retries are exhausted. A
//!   supervisor task follows the provider's stream and, when the stream
//!   reports that error, builds a new provider (after a backoff), forever.
//!   Connections subscribe to *this* type, whose stream carries only good
//!   credentials and keeps the last good ones across providers, so a blip of
//!   the identity endpoint never ends authentication;
//! - the first token: [`EntraCredentials::start`] waits for it explicitly,
//!   bounded, instead of letting it eat the first connection's timeout, and
//!   fails with the endpoint and its last error.
//!
//! Each token request goes through [`Observed`], which bounds it in time and
//! records its outcome. Tokens are never logged; the user (object id) is.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use azure_core::credentials::{AccessToken, TokenCredential, TokenRequestOptions};
use azure_core::http::{ClientOptions, RetryOptions};
use azure_identity::{ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId};
use futures_util::{Stream, StreamExt};
use redis::{BasicAuth, EntraIdCredentialsProvider, REDIS_SCOPE_DEFAULT, RedisError, RedisResult, RetryConfig};
use redis::{ErrorKind, StreamingCredentialsProvider};
use tokio::sync::watch;

/// Longest one token request to the identity endpoint may take; a hung
/// endpoint then counts as a failed attempt, which the provider retries.
const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// First delay of the provider's retries after a failed token request.
const RETRY_MIN_DELAY: Duration = Duration::from_millis(500);
/// Longest delay between the provider's retries.
const RETRY_MAX_DELAY: Duration = Duration::from_secs(30);
/// First wait before a provider that gave up is replaced.
const REBUILD_MIN_DELAY: Duration = Duration::from_secs(1);
/// Longest wait before a provider that gave up is replaced (doubling from the minimum).
const REBUILD_MAX_DELAY: Duration = Duration::from_secs(10);

/// Which identity to use and how hard to try.
#[derive(Debug, Clone)]
pub struct EntraSettings {
    /// Client id of the user-assigned identity; `None` = system-assigned.
    pub client_id: Option<String>,
    /// Retries of one refresh before the provider gives up and is replaced.
    pub retries: usize,
    /// Longest wait for the first token in [`EntraCredentials::start`].
    pub first_token_timeout: Duration,
}

/// A stream of Redis credentials from Entra ID. Cheap to clone: clones share
/// the supervisor, which stops when the last clone is dropped.
#[derive(Clone)]
pub struct EntraCredentials {
    /// Current credentials and token-request outcomes, shared with the supervisor.
    state: Arc<State>,
    /// Aborts the supervisor (and with it the provider) when the last clone goes.
    _supervisor: Arc<AbortOnDrop>,
}

/// What the supervisor and the token requests report.
#[derive(Debug)]
struct State {
    /// The last good credentials; `None` until the first token arrives.
    current: watch::Sender<Option<BasicAuth>>,
    /// The last failed token request, cleared by a success.
    last_error: Mutex<Option<RedisError>>,
    /// Where tokens come from, for messages.
    endpoint: String,
}

/// The first token, as [`EntraCredentials::start`] reports it.
#[derive(Debug, Clone)]
pub struct FirstToken {
    /// The Redis user: the identity's object id (`oid` claim).
    pub user: String,
    /// Time from start to the first token.
    pub elapsed: Duration,
}

impl EntraCredentials {
    /// Starts the supervised provider and waits, at most
    /// `settings.first_token_timeout`, for the first token.
    pub async fn start(settings: EntraSettings) -> Result<(Self, FirstToken), crate::SetupError> {
        let started = Instant::now();
        let state = Arc::new(State {
            current: watch::channel(None).0,
            last_error: Mutex::new(None),
            endpoint: identity_endpoint(),
        });
        // Fail early, with azure_identity's reason, on settings it cannot use.
        let credential = Observed::build(&settings, &state).map_err(crate::SetupError::Credential)?;
        let supervisor = tokio::spawn(supervise(credential, settings.clone(), state.clone()));
        let this = Self { state: state.clone(), _supervisor: Arc::new(AbortOnDrop(supervisor)) };

        let mut updates = state.current.subscribe();
        let first = tokio::time::timeout(settings.first_token_timeout, updates.wait_for(Option::is_some)).await;
        match first {
            Ok(Ok(creds)) => {
                let user = creds.as_ref().map(|c| c.username().to_owned()).unwrap_or_default();
                Ok((this, FirstToken { user, elapsed: started.elapsed() }))
            }
            _ => Err(crate::SetupError::FirstToken {
                endpoint: state.endpoint.clone(),
                after: started.elapsed(),
                last: state.last_error.lock().expect("last_error lock").clone(),
            }),
        }
    }

    /// The current Redis user (object id), once a token arrived.
    pub fn user(&self) -> Option<String> {
        self.state.current.borrow().as_ref().map(|c| c.username().to_owned())
    }
}

impl StreamingCredentialsProvider for EntraCredentials {
    /// The current credentials (when there are any), then each new one.
    fn subscribe(&self) -> Pin<Box<dyn Stream<Item = RedisResult<BasicAuth>> + Send + 'static>> {
        let mut updates = self.state.current.subscribe();
        updates.mark_changed();
        Box::pin(futures_util::stream::unfold(updates, |mut updates| async move {
            loop {
                updates.changed().await.ok()?;
                let creds = updates.borrow_and_update().clone();
                if let Some(creds) = creds {
                    return Some((Ok(creds), updates));
                }
            }
        }))
    }
}

impl std::fmt::Debug for EntraCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntraCredentials")
            .field("endpoint", &self.state.endpoint)
            .field("user", &self.user())
            .finish_non_exhaustive()
    }
}

/// Runs providers one after another: follows each one's stream, publishes
/// its credentials, and replaces it when it gives up.
async fn supervise(first: Arc<Observed>, settings: EntraSettings, state: Arc<State>) {
    let retry = RetryConfig::default()
        .set_number_of_retries(settings.retries)
        .set_min_delay(RETRY_MIN_DELAY)
        .set_max_delay(RETRY_MAX_DELAY);
    let mut first = Some(first);
    let mut backoff = REBUILD_MIN_DELAY;
    loop {
        let credential = match first.take().map_or_else(|| Observed::build(&settings, &state), Ok) {
            Ok(credential) => credential,
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?backoff, "cannot build the managed identity credential");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(REBUILD_MAX_DELAY);
                continue;
            }
        };
        match EntraIdCredentialsProvider::new_with_credential(credential, vec![REDIS_SCOPE_DEFAULT.to_owned()]) {
            Ok(mut provider) => {
                provider.start(retry.clone());
                let mut stream = provider.subscribe();
                while let Some(item) = stream.next().await {
                    match item {
                        Ok(creds) => {
                            state.current.send_replace(Some(creds));
                            backoff = REBUILD_MIN_DELAY;
                        }
                        Err(err) => {
                            tracing::warn!(endpoint = %state.endpoint, error = %err, retry_in = ?backoff,
                                "Entra token refresh gave up; replacing the credentials provider");
                            break;
                        }
                    }
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, retry_in = ?backoff, "cannot build the Entra credentials provider")
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(REBUILD_MAX_DELAY);
    }
}

/// azure_identity's `ManagedIdentityCredential`, each request bounded by
/// [`TOKEN_REQUEST_TIMEOUT`] and its outcome recorded in [`State`].
#[derive(Debug)]
struct Observed {
    /// The real credential (App Service / Container Apps protocol, or IMDS).
    inner: Arc<ManagedIdentityCredential>,
    /// Where outcomes go.
    state: Arc<State>,
}

impl Observed {
    /// A fresh credential (with an empty token cache) for `settings`.
    fn build(settings: &EntraSettings, state: &Arc<State>) -> Result<Arc<Self>, RedisError> {
        let options = ManagedIdentityCredentialOptions {
            user_assigned_id: settings.client_id.clone().map(UserAssignedId::ClientId),
            // One HTTP attempt per request: the provider's retry policy is the only one.
            client_options: ClientOptions { retry: RetryOptions::none(), ..ClientOptions::default() },
        };
        let inner = ManagedIdentityCredential::new(Some(options)).map_err(|err| {
            RedisError::from((ErrorKind::AuthenticationFailed, "managed identity credential", err.to_string()))
        })?;
        Ok(Arc::new(Self { inner, state: state.clone() }))
    }
}

#[async_trait::async_trait]
impl TokenCredential for Observed {
    async fn get_token(
        &self,
        scopes: &[&str],
        options: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        let result = match tokio::time::timeout(TOKEN_REQUEST_TIMEOUT, self.inner.get_token(scopes, options)).await {
            Ok(result) => result,
            Err(_elapsed) => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Io,
                format!("no answer within {TOKEN_REQUEST_TIMEOUT:?}"),
            )),
        };
        match &result {
            Ok(token) => {
                let expires_in = (token.expires_on - azure_core::time::OffsetDateTime::now_utc()).whole_seconds();
                tracing::info!(endpoint = %self.state.endpoint, expires_in_s = expires_in, "got an Entra token for redis");
                *self.state.last_error.lock().expect("last_error lock") = None;
            }
            Err(err) => {
                let cause = error_chain(err);
                tracing::warn!(endpoint = %self.state.endpoint, error = %cause, "Entra token request failed");
                *self.state.last_error.lock().expect("last_error lock") =
                    Some(RedisError::from((ErrorKind::AuthenticationFailed, "Entra token request failed", cause)));
            }
        }
        result
    }
}

/// `err` and its sources on one line (azure_core's message alone hides the
/// root cause, e.g. "failed to execute `reqwest` request" without "connection refused").
fn error_chain(err: &azure_core::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `IDENTITY_ENDPOINT=…` (App Service / Container Apps) or IMDS: where
/// azure_identity asks, for messages only (it reads the variables itself).
fn identity_endpoint() -> String {
    match std::env::var("IDENTITY_ENDPOINT") {
        Ok(endpoint) => format!("IDENTITY_ENDPOINT={endpoint}"),
        Err(_) => "IMDS (http://169.254.169.254, IDENTITY_ENDPOINT unset)".to_owned(),
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
