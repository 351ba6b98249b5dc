//! Calls to MessageGateway on behalf of an account, with the integration guide's recovery for
//! a refused token: when MG answers 401, ask the CRM for the module's current token
//! (`GET /api/v5/integration-modules/{code}`), store it, and retry once. When that does not
//! help, the account is marked as needing a reconnect and the settings page says so.

use std::future::Future;

use crate::crm::CrmClient;
use crate::domain::MgToken;
use crate::mg::{MgApi, MgClient, MgError, Priority};
use crate::store::{Account, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MgAccessError {
    #[error(transparent)]
    Mg(MgError),
    /// MG refuses the token and the CRM has no better one: the merchant must reconnect.
    #[error("MessageGateway no longer accepts this account's token")]
    NeedsReconnect,
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Clone, Debug)]
pub struct MgAccess {
    pub mg: MgClient,
    pub crm: CrmClient,
    pub store: Store,
    /// The module's code, to read it back from the CRM.
    pub module_code: String,
    /// The lane of the token's queue the calls wait in (`mg::Priority`); bulk by default.
    pub priority: Priority,
}

impl MgAccess {
    /// Runs `call` with the account's MG handle; on 401 recovers the token and runs it again.
    /// `account.mg_token` is updated in place when a new token was found.
    pub async fn call<T, F, Fut>(&self, account: &mut Account, call: F) -> Result<T, MgAccessError>
    where
        F: Fn(MgApi) -> Fut,
        Fut: Future<Output = Result<T, MgError>>,
    {
        match call(self.api(account)).await {
            Err(MgError::Unauthorized) => {}
            other => return other.map_err(MgAccessError::Mg),
        }
        tracing::warn!(crm = %account.crm_url, "MessageGateway refused the token: asking the CRM for the current one");
        let fresh = match self
            .crm
            .current_mg_token(&account.crm_url, &account.api_key, &self.module_code)
            .await
        {
            Ok(Some(token)) if token != account.mg_token.expose() => MgToken::new(token),
            Ok(_) => return self.give_up(account, "the CRM has no other token").await,
            Err(e) => return self.give_up(account, &e.to_string()).await,
        };
        let api = self.mg.api(&account.mg_endpoint_url, &fresh);
        match call(api.with_priority(self.priority)).await {
            Err(MgError::Unauthorized) => {
                self.give_up(account, "the CRM's current token is refused too")
                    .await
            }
            result => {
                // The new token worked (or failed for another reason, but was not refused).
                self.store.set_account_mg_token(&account.id, &fresh).await?;
                account.mg_token = fresh;
                account.needs_reconnect = false;
                tracing::info!(crm = %account.crm_url, "MessageGateway token recovered from the CRM");
                result.map_err(MgAccessError::Mg)
            }
        }
    }

    pub fn api(&self, account: &Account) -> MgApi {
        self.mg
            .api(&account.mg_endpoint_url, &account.mg_token)
            .with_priority(self.priority)
    }

    /// The same access for delivering customers' messages: their calls pass before the
    /// token's acks and other bulk calls waiting at the same time.
    pub fn for_customers(&self) -> Self {
        Self {
            priority: Priority::Customer,
            ..self.clone()
        }
    }

    async fn give_up<T>(&self, account: &mut Account, why: &str) -> Result<T, MgAccessError> {
        tracing::error!(crm = %account.crm_url, reason = why, "MessageGateway token cannot be recovered: the account needs a reconnect");
        self.store.mark_account_needs_reconnect(&account.id).await?;
        account.needs_reconnect = true;
        Err(MgAccessError::NeedsReconnect)
    }
}
