//! A customer's file from Telegram to MG: `getFile`, then the download streamed straight into
//! MG's upload (never held whole, never by URL: Telegram's file URL holds the bot token).

use std::sync::Mutex;

use crate::bridge::delivery::DeliveryError;
use crate::messenger::telegram::delivery::TgDelivery;
use crate::messenger::telegram::TelegramError;
use crate::mg::{MgError, MgFileId};

use super::content::{Media, DOWNLOAD_LIMIT};

pub enum Fetched {
    Uploaded(MgFileId),
    /// Over the bot's download limit; the size when Telegram told it.
    TooLarge(Option<u64>),
}

pub async fn upload(d: &mut TgDelivery<'_>, media: &Media) -> Result<Fetched, DeliveryError> {
    let file = match d.via.bot.get_file(&media.file_id).await {
        Ok(file) => file,
        // getFile on a file over the limit: "Bad Request: file is too big".
        Err(e) if e.describes(400, "file is too big") => {
            return Ok(Fetched::TooLarge(media.file_size))
        }
        Err(e) => return Err(e.into()),
    };
    // The Bot API leaves `file_path` out for a file it will not hand to the bot; a path given
    // is its word that the download works, whatever the size.
    let Some(path) = file.file_path.filter(|p| !p.is_empty()) else {
        let size = file.file_size.or(media.file_size);
        return Ok(Fetched::TooLarge(size.filter(|s| *s > DOWNLOAD_LIMIT)));
    };

    // A stream is sent once, and `MgAccess::call` runs its closure again after recovering a
    // refused token, so each run downloads afresh. A Telegram failure is kept aside (the
    // closure may only fail with an `MgError`) and reported as what it is.
    let telegram_failure: Mutex<Option<TelegramError>> = Mutex::new(None);
    let failure = &telegram_failure;
    let bot = &d.via.bot;
    let (path, mime) = (path.as_str(), media.mime_type.as_str());
    let uploaded =
        d.mg.call(d.account, move |api| async move {
            let download = match bot.download_file(path).await {
                Ok(download) => download,
                Err(e) => {
                    *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    return Err(MgError::Unreachable("the Telegram download failed".into()));
                }
            };
            api.upload_file(download.into_body(), mime).await
        })
        .await;
    if let Some(e) = telegram_failure
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
    {
        return Err(e.into());
    }
    Ok(Fetched::Uploaded(uploaded?.id))
}
