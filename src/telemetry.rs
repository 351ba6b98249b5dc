//! Logging: `tracing` with either human-readable or JSON output. `RUST_LOG` overrides the
//! configured filter. Errors are logged with their causes: `error = %telemetry::chain(&e)`.

use std::error::Error;
use std::fmt;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: a second call (tests) keeps the first subscriber instead of panicking.
    let _ = match settings.format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
}

/// An error with its sources, `outer: cause: root cause`, for logs: a layer's error often says
/// only what failed ("database error") and keeps why in its source. A source whose text the
/// previous one already quotes is left out. Formats only when the event is recorded.
pub fn chain<'a>(error: &'a (dyn Error + 'static)) -> Chain<'a> {
    Chain(error)
}

/// See [`chain`].
pub struct Chain<'a>(&'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = self.0.to_string();
        f.write_str(&last)?;
        let mut source = self.0.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !last.contains(&text) {
                write!(f, ": {text}")?;
            }
            last = text;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    enum Outer {
        #[error("database error")]
        Database(#[source] std::io::Error),
        #[error("quoting: {0}")]
        Quoting(#[source] std::io::Error),
    }

    #[test]
    fn a_chain_shows_each_cause_once() {
        let io = || std::io::Error::other("disk full");
        assert_eq!(
            chain(&Outer::Database(io())).to_string(),
            "database error: disk full"
        );
        assert_eq!(
            chain(&Outer::Quoting(io())).to_string(),
            "quoting: disk full"
        );
        let wrapped = anyhow::Error::from(Outer::Database(io())).context("saving the account");
        assert_eq!(
            chain(wrapped.as_ref()).to_string(),
            "saving the account: database error: disk full"
        );
    }
}
