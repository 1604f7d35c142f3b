//! Request bodies: the size limit, the JSON content type, and `parse_json`, which turns a
//! body into a typed value or the 400 or 422 that says what is wrong with it.

use axum::http::{HeaderMap, header};

use crate::error::ApiError;

/// The largest request body accepted, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Whether a request says its body is JSON.
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("application/json"))
}

/// Parses a JSON body: malformed JSON is a 400, a well-formed document of the wrong shape a
/// 422 naming the field.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    // JSON is UTF-8 (RFC 8259); other bytes are not JSON at all, wherever they stand.
    if let Err(error) = std::str::from_utf8(body) {
        return Err(ApiError::MalformedJson(format!(
            "the body is not valid UTF-8 (byte {})",
            error.valid_up_to()
        )));
    }
    // Whether the body is well-formed JSON at all decides 400 or 422; serde_json alone
    // would call an integer where a name belongs a syntax error.
    let well_formed = || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok();
    // Every body this API takes is an object; serde would also read a struct from an array
    // of its fields in order, which no client means.
    if body
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|first| *first != b'{')
        && well_formed()
    {
        return Err(ApiError::invalid_field(
            ".",
            "the body must be a JSON object",
        ));
    }
    // Most bodies parse: read them without tracking the path, which only an error needs.
    if let Ok(parsed) = serde_json::from_slice(body) {
        return Ok(parsed);
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let response = match parsed {
        Ok(response) => response,
        Err(error) => {
            let mut field = error.path().to_string();
            if field.len() > 120 {
                // A path into a hostile, deeply nested document; its start says where.
                field = format!("{}…", &field[..field.floor_char_boundary(120)]);
            }
            let inner = error.into_inner();
            let is_shape = matches!(inner.classify(), serde_json::error::Category::Data)
                || (!inner.is_eof() && well_formed());
            return Err(if is_shape {
                ApiError::invalid_field(
                    if field.is_empty() {
                        ".".to_owned()
                    } else {
                        field
                    },
                    inner.to_string(),
                )
            } else {
                ApiError::MalformedJson(inner.to_string())
            });
        }
    };
    deserializer
        .end()
        .map_err(|error| ApiError::MalformedJson(error.to_string()))?;
    Ok(response)
}
