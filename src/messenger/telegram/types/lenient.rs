//! Reading a received field leniently: what does not parse is treated as absent, and logged.

use std::marker::PhantomData;

use serde::{Deserialize, Deserializer};
use serde_with::{DefaultOnError, DeserializeAs};

/// A field that does not parse becomes its default (absent, empty), with a warning naming its
/// type. The value itself is never logged: it may be the customer's words.
pub type Lenient = DefaultOnError<Logged>;

/// Deserializes as usual, logging a failure before `DefaultOnError` swallows it.
pub struct Logged(PhantomData<()>);

impl<'de, T: Deserialize<'de>> DeserializeAs<'de, T> for Logged {
    fn deserialize_as<D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer).inspect_err(|_| {
            tracing::warn!(
                field = std::any::type_name::<T>(),
                "a field of a Telegram update did not parse: treated as absent"
            );
        })
    }
}
