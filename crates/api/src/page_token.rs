//! `nextToken`: opaque to clients, bound to the listing it continues, and signed.
//!
//! A token carries the position of the next page and an HMAC-SHA256 tag over the
//! listing (`scope`: which list, and every request member but `nextToken` and
//! `maxResults`) and that position, keyed by a secret drawn when the process starts.
//! So a token is refused (`InvalidToken`) when altered, made up, replayed against
//! another listing (another execution's history), or issued by an earlier process.

use crate::error::ApiError;
use crate::sigv4::{hex, unhex};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Bytes of the tag kept in a token (128 bits).
const TAG_BYTES: usize = 16;

fn key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut k = [0u8; 32];
        for chunk in k.chunks_mut(8) {
            chunk.copy_from_slice(&stepwise_engine::sources::random_u64().to_le_bytes());
        }
        k
    })
}

/// The request members that define the listing, in a fixed order.
fn listing(scope: &str, request: &Value) -> Vec<u8> {
    let members: BTreeMap<&str, &Value> = request
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| *k != "nextToken" && *k != "maxResults")
                .map(|(k, v)| (k.as_str(), v))
                .collect()
        })
        .unwrap_or_default();
    let mut out = scope.as_bytes().to_vec();
    out.push(0);
    out.extend_from_slice(
        serde_json::to_string(&members)
            .unwrap_or_default()
            .as_bytes(),
    );
    out
}

fn tag(scope: &str, request: &Value, position: &str) -> Vec<u8> {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key()) else {
        return Vec::new();
    };
    mac.update(&listing(scope, request));
    mac.update(&[0]);
    mac.update(position.as_bytes());
    mac.finalize().into_bytes()[..TAG_BYTES].to_vec()
}

/// A token for the page that starts at `position` of the listing `scope`.
pub fn issue(scope: &str, request: &Value, position: &str) -> String {
    format!(
        "{}.{}",
        hex(position.as_bytes()),
        hex(&tag(scope, request, position))
    )
}

/// The position a token names, if it was issued for this listing by this process.
pub fn read(scope: &str, request: &Value, token: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::new("InvalidToken", "Invalid Token: 'Invalid token'");
    let (position, given) = token.split_once('.').ok_or_else(invalid)?;
    let position =
        String::from_utf8(unhex(position).ok_or_else(invalid)?).map_err(|_| invalid())?;
    let given = unhex(given).ok_or_else(invalid)?;
    if given.len() != TAG_BYTES {
        return Err(invalid());
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key()) else {
        return Err(invalid());
    };
    mac.update(&listing(scope, request));
    mac.update(&[0]);
    mac.update(position.as_bytes());
    mac.verify_truncated_left(&given).map_err(|_| invalid())?;
    Ok(position)
}

#[cfg(test)]
#[path = "tests/page_token.rs"]
mod tests;
