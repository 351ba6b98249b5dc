//! An operator's attachment, as every messenger's outbound side fetches it from MG: described
//! first (`GET /files/{id}`), refused before any download when it is larger than the messenger
//! takes, and then downloaded reading no more than the memory reserved for it.

use bytes::Bytes;

use crate::bridge::delivery::{Delivery, DeliveryError};
use crate::mg::{MgError, WebhookItem};

/// What a download may exceed the size MG declared by. MG's size is its own record of the
/// stored file, so it should be exact; the slack keeps a rounding or a header difference from
/// failing a delivery while still bounding what is held (tolerant reading of `size`).
const DECLARED_SLACK: u64 = 64 * 1024;

/// An attachment MG has described but that is not downloaded yet.
pub struct MgFile {
    pub url: String,
    pub mime_type: Option<String>,
    /// The size MG gave, if it gave one.
    pub declared: Option<u64>,
    /// Memory to hold for it: the declared size (and the slack), else the messenger's limit.
    pub reserve: u64,
    limit: u64,
}

impl<M> Delivery<'_, M> {
    /// Asks MG about an attachment; `too_big` is the messenger's refusal of one over `limit`.
    pub async fn describe_file(
        &mut self,
        item: &WebhookItem,
        limit: u64,
        too_big: &str,
    ) -> Result<MgFile, DeliveryError> {
        if item.size.is_some_and(|size| size > limit) {
            return Err(DeliveryError::failed(too_big));
        }
        let id = item.id.clone();
        let info = self
            .mg
            .call(self.account, |api| {
                let id = id.clone();
                async move { api.get_file(&id).await }
            })
            .await?;
        let declared = info.size.or(item.size);
        if declared.is_some_and(|size| size > limit) {
            return Err(DeliveryError::failed(too_big));
        }
        let url = info
            .download_url()
            .ok_or_else(|| DeliveryError::failed("MessageGateway gave no download URL for a file"))?
            .to_owned();
        Ok(MgFile {
            url,
            mime_type: info.mime_type.filter(|m| !m.trim().is_empty()),
            declared,
            reserve: declared.map_or(limit, |size| size + DECLARED_SLACK),
            limit,
        })
    }

    /// Downloads a described file from the URL MG gave, without the token, reading no more
    /// than was reserved for it.
    pub async fn download_file(&mut self, file: &MgFile) -> Result<Bytes, DeliveryError> {
        let limit = file.reserve.min(file.limit);
        match self.mg.api(self.account).download(&file.url, limit).await {
            // A body past the size MG declared would overrun the memory reserved for it.
            Err(MgError::Api { status: 413, .. }) if file.declared.is_some() => Err(
                DeliveryError::failed("the file is larger than MessageGateway said it is"),
            ),
            other => Ok(other?),
        }
    }
}
