//! Media: `POST /uploads` hands out an upload URL, the fake's `POST /upload/{id}` takes the
//! multipart `data` field and answers the attachment token, `GET /files/{name}` serves
//! uploaded files, avatars and inbound media.
//!
//! Which step gives the token is where the schema and MAX's practice differ: `UploadEndpoint`
//! has a `token` "for video or audio", the docs' example returns it from the upload for video,
//! and images get `PhotoTokens` from the upload. The fake takes the tolerant reading: video
//! and audio get the token at both steps (the same one), every type gets it from the upload.

use axum::body::Body;
use axum::http::header;

use super::serving::{Incoming, Part};
use super::*;

const UPLOAD_TYPES: &[&str] = &["image", "video", "audio", "file"];

/// `POST /uploads?type=` → `UploadEndpoint`.
pub(super) fn upload_url(s: &mut FakeMaxState, request: &Incoming) -> Response {
    let upload_type = request.param("type").unwrap_or("");
    if !UPLOAD_TYPES.contains(&upload_type) {
        return bad_request("Parameter `type` must be one of image, video, audio, file");
    }
    let id = format!("{:024x}", 0x5eed_0000_0000_u64 + s.next);
    let attachment_token = fresh_token(s, upload_type);
    s.endpoints.insert(
        id.clone(),
        Endpoint {
            token: request.token.to_owned(),
            upload_type: upload_type.to_owned(),
            attachment_token: attachment_token.clone(),
        },
    );
    let mut answer = json!({ "url": format!("{}/upload/{id}", s.base) });
    if matches!(upload_type, "video" | "audio") {
        answer["token"] = json!(attachment_token);
    }
    Json(answer).into_response()
}

/// `POST /upload/{id}` (multipart, field `data`) → `PhotoTokens` for images, `UploadedInfo`
/// otherwise. The schema gives `UploadedInfo` only `token` (no `fileId`), so the fake sends
/// only that.
pub(super) fn upload(s: &mut FakeMaxState, id: &str, part: Option<Part>) -> Response {
    let Some(endpoint) = s.endpoints.get(id).cloned() else {
        return error(StatusCode::NOT_FOUND, "not.found", "Upload not found");
    };
    let Some(part) = part else {
        return bad_request("Multipart field `data` is required");
    };
    let name = format!("upload-{id}");
    let url = format!("{}/files/{name}", s.base);
    s.files.insert(name, part.bytes.clone());
    s.uploads.push(Upload {
        token: endpoint.token,
        upload_type: endpoint.upload_type.clone(),
        file_name: part.file_name,
        content_type: part.content_type,
        bytes: part.bytes,
        attachment_token: endpoint.attachment_token.clone(),
        url,
    });
    if endpoint.upload_type == "image" {
        let key = format!("p{id}");
        Json(json!({ "photos": { key: { "token": endpoint.attachment_token } } })).into_response()
    } else {
        Json(json!({ "token": endpoint.attachment_token })).into_response()
    }
}

/// A known file, with its type sniffed for JPEG and PNG (avatars, photos).
pub(super) fn serve_file(s: &FakeMaxState, name: &str) -> Response {
    let Some(bytes) = s.files.get(name) else {
        return error(StatusCode::NOT_FOUND, "not.found", "File not found");
    };
    let content_type = if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "application/octet-stream"
    };
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, bytes.len())
        .body(Body::from(bytes.clone()))
        .unwrap()
}

/// A token of MAX's look (base64url characters), unique in this fake.
fn fresh_token(s: &mut FakeMaxState, kind: &str) -> String {
    let n = s.next;
    s.next += 1;
    format!(
        "{kind}_{n:08x}-fAkEm4xT0k3n{:016x}",
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    )
}

/// What an attachment token is worth to `token`'s sends.
pub(super) enum TokenState<'a> {
    Ready(&'a Upload),
    /// Issued with the upload URL (video, audio), nothing uploaded yet.
    Pending,
    Unknown,
}

pub(super) fn token_state<'a>(
    s: &'a FakeMaxState,
    token: &str,
    attachment_token: &str,
) -> TokenState<'a> {
    if let Some(upload) = s
        .uploads
        .iter()
        .rev()
        .find(|u| u.token == token && u.attachment_token == attachment_token)
    {
        return TokenState::Ready(upload);
    }
    let pending = s
        .endpoints
        .values()
        .any(|e| e.token == token && e.attachment_token == attachment_token);
    if pending {
        TokenState::Pending
    } else {
        TokenState::Unknown
    }
}
