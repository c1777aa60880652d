//! Material uploads: size and type checked before anything is stored.

use crate::http::error::ApiError;
use crate::http::i18n::Lang;
use crate::http::AppState;
use yichuang_core::Actor;

/// Where an upload goes: a case's material (by code), or a bundle application's shared
/// material (by name, filed with every part that asks for it).
pub enum Target<'a> {
    Case(i64, &'a str),
    Bundle(i64, &'a str),
}

/// Stores a file for a case's material. Refused uploads write nothing; a file whose command
/// fails is removed again if it was new.
pub async fn store_material(
    state: &AppState,
    actor: &Actor,
    case_id: i64,
    material: &str,
    file_name: &str,
    bytes: &[u8],
    lang: Lang,
) -> Result<i64, ApiError> {
    store_file(
        state,
        actor,
        Target::Case(case_id, material),
        file_name,
        bytes,
        lang,
    )
    .await
}

/// Checks and stores an upload for `target`: the submission id, or how many parts got it.
pub async fn store_file(
    state: &AppState,
    actor: &Actor,
    target: Target<'_>,
    file_name: &str,
    bytes: &[u8],
    lang: Lang,
) -> Result<i64, ApiError> {
    if bytes.len() > state.config.max_upload {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "upload.too_large",
            match lang {
                Lang::Zh => format!(
                    "文件超过 {} MB 上限。",
                    state.config.max_upload / 1024 / 1024
                ),
                Lang::En => format!(
                    "The file is larger than {} MB.",
                    state.config.max_upload / 1024 / 1024
                ),
            },
        ));
    }
    if bytes.is_empty() {
        return Err(ApiError::unprocessable(
            "upload.empty",
            lang,
            "文件为空。",
            "The file is empty.",
        ));
    }
    let Some(kind) = yichuang_core::upload::sniff(bytes) else {
        return Err(ApiError::new(
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "upload.type",
            lang.t(
                "只接受 PDF、JPEG、PNG 或 OFD 文件（按文件内容判断）。",
                "Only PDF, JPEG, PNG or OFD files are accepted (judged by content).",
            ),
        ));
    };
    let blobs = state.blobs.clone();
    let data = bytes.to_vec();
    let (hash, fresh) = tokio::task::spawn_blocking(move || blobs.put(&data))
        .await
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "store.unavailable",
                "file store",
            )
        })?
        .map_err(|e| ApiError::from_store(e, lang))?;
    let name: String = file_name
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .take(200)
        .collect();
    let name = if name.is_empty() {
        format!("file.{}", kind.ext())
    } else {
        name
    };
    let sub = |code: &str| yichuang_store::cases::NewSubmission {
        material_code: code.to_string(),
        hash: hash.clone(),
        file_name: name.clone(),
        content_type: kind.mime().to_string(),
        size: bytes.len() as i64,
    };
    let done = match target {
        Target::Case(case_id, material) => {
            state
                .store
                .add_submission(actor, case_id, sub(material))
                .await
        }
        Target::Bundle(app, material) => state
            .store
            .bundle_upload(actor, app, material, sub(""))
            .await
            .map(|n| n as i64),
    };
    match done {
        Ok(id) => Ok(id),
        Err(e) => {
            if fresh {
                state.blobs.forget(&hash);
            }
            Err(ApiError::from_store(e, lang))
        }
    }
}
