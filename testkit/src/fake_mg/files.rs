//! Files: uploads (bytes or by URL), `GET /files/{id}`, and the token-less downloads.

use super::*;

pub(super) fn file_json(base: &str, f: &FakeFile) -> Value {
    let kind = match f.mime_type.split('/').next() {
        Some("image") => "image",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "file",
    };
    let url = format!("{base}/files/{}", f.id);
    json!({
        "id": f.id, "type": kind, "mime_type": f.mime_type, "size": f.bytes.len(),
        "url": url, "Url": url, "hash": hex::encode(Sha256::digest(&f.bytes)),
        "meta": {}, "source_url": f.source_url, "created_at": now_rfc3339(),
    })
}

pub(super) fn new_file_id(n: usize) -> String {
    format!("aa4ff988-bafb-43a0-9551-{n:012x}")
}

pub(super) async fn upload_file(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    headers: HeaderMap,
) -> Response {
    if call.raw.is_empty() {
        return bad("The file is empty");
    }
    // Raw bodies (v1) and multipart (the OpenAPI form) are both taken as they come.
    let mime_type = call
        .content_type
        .clone()
        .filter(|c| !c.starts_with("application/json") && !c.starts_with("multipart/"))
        .unwrap_or_else(|| "application/octet-stream".to_owned());
    let mut s = state.lock().unwrap();
    let file = FakeFile {
        id: new_file_id(s.files.len() + 1),
        mime_type,
        bytes: call.raw.clone(),
        source_url: None,
    };
    s.files.push(file.clone());
    Json(file_json(&base_of(&headers), &file)).into_response()
}

pub(super) async fn upload_file_by_url(
    State(state): State<Shared>,
    Extension(call): Extension<Call>,
    headers: HeaderMap,
) -> Response {
    let Some(url) = call.body.as_ref().and_then(|b| text(b, "url")) else {
        return bad("'url' is required");
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return bad("'url' is not a web URL");
    }
    let mut s = state.lock().unwrap();
    let file = FakeFile {
        id: new_file_id(s.files.len() + 1),
        mime_type: "image/jpeg".to_owned(),
        bytes: Bytes::from_static(b"\xff\xd8\xff fake jpeg"),
        source_url: Some(url.to_owned()),
    };
    s.files.push(file.clone());
    Json(file_json(&base_of(&headers), &file)).into_response()
}

pub(super) async fn get_file(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = state.lock().unwrap();
    match s.files.iter().find(|f| f.id == id) {
        Some(f) => Json(file_json(&base_of(&headers), f)).into_response(),
        None => error(StatusCode::NOT_FOUND, "File not found"),
    }
}

/// The bytes at the URL `file_json` gives.
pub(super) async fn download_file(
    State(state): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut s = state.lock().unwrap();
    s.downloads.push(Download {
        file_id: id.clone(),
        had_token: headers.contains_key("x-transport-token"),
    });
    match s.files.iter().find(|f| f.id == id) {
        Some(f) => (
            [(header::CONTENT_TYPE, f.mime_type.clone())],
            f.bytes.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

pub(super) fn base_of(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    format!("http://{host}/download")
}
