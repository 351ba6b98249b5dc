//! Bot API objects we receive (updates and what methods return) and send (method parameters),
//! limited to what a chat bridge uses. Received types are lenient: every field Telegram may
//! leave out is optional or defaulted, unknown fields are ignored, unknown kinds of update,
//! chat or reaction deserialize instead of failing the whole update (Telegram adds new ones in
//! every Bot API release), and a field that does not parse is treated as absent (`lenient`).
//! Ids are i64: user and chat ids exceed 32 bits.

mod answers;
mod business;
mod kinds;
mod lenient;
mod media;
mod received;
mod sent;
#[cfg(test)]
mod tests;

pub use answers::*;
pub use business::*;
pub use kinds::*;
pub use media::*;
pub use received::*;
pub use sent::*;
