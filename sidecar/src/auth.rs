//! The authentication mode of the Redis connection: `--redis-auth` checked
//! against what the URL carries, so a setting that would be ignored (or would
//! send a password nobody asked for) fails at start-up instead.

use redis::ConnectionInfo;

use crate::config::RedisAuth;
use crate::error::SetupError;

/// The mode to use: the one asked for, else `password` when the URL carries
/// a password, else `none`.
pub fn resolve(requested: Option<RedisAuth>, info: &ConnectionInfo) -> Result<RedisAuth, SetupError> {
    let settings = info.redis_settings();
    let has_password = settings.password().is_some_and(|p| !p.is_empty());
    let has_user = settings.username().is_some_and(|u| !u.is_empty());
    match requested {
        None if has_password => Ok(RedisAuth::Password),
        None => Ok(RedisAuth::None),
        Some(RedisAuth::Password) if !has_password => Err(SetupError::PasswordMissing),
        Some(RedisAuth::Entra) if has_password || has_user => Err(SetupError::CredentialsInUrl),
        Some(RedisAuth::None) if has_password => Err(SetupError::UnexpectedPassword),
        Some(mode) => Ok(mode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::parse;

    fn mode(requested: Option<RedisAuth>, url: &str) -> Result<RedisAuth, SetupError> {
        resolve(requested, &parse(url).unwrap())
    }

    #[test]
    fn default_is_password_only_when_the_url_has_one() {
        assert_eq!(mode(None, "redis://127.0.0.1:6379").unwrap(), RedisAuth::None);
        assert_eq!(mode(None, "redis://:secret@127.0.0.1:6379").unwrap(), RedisAuth::Password);
        assert_eq!(mode(None, "rediss://app:secret@host.example:10000/0").unwrap(), RedisAuth::Password);
        assert_eq!(mode(None, "redis+unix:///tmp/r.sock").unwrap(), RedisAuth::None);
    }

    #[test]
    fn explicit_modes_are_checked_against_the_url() {
        assert_eq!(mode(Some(RedisAuth::Entra), "rediss://host.example:10000").unwrap(), RedisAuth::Entra);
        assert!(matches!(mode(Some(RedisAuth::Password), "redis://h:1"), Err(SetupError::PasswordMissing)));
        assert!(matches!(mode(Some(RedisAuth::Entra), "rediss://u:p@h:1"), Err(SetupError::CredentialsInUrl)));
        assert!(matches!(mode(Some(RedisAuth::None), "redis://:p@h:1"), Err(SetupError::UnexpectedPassword)));
    }
}
