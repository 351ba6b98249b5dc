//! Accounts: one row per connected CRM account.

use secrecy::ExposeSecret;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{now_unix, Store, StoreError};
use crate::crypto::fingerprint;
use crate::domain::{AccountId, Activity, ApiKey, ClientId, CrmUrl, MgToken};
use crate::i18n::Lang;

const CLIENT_ID: &str = "account.client_id";
const API_KEY: &str = "account.api_key";
const MG_TOKEN: &str = "account.mg_token";

/// A stored account with its secrets opened.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: AccountId,
    pub client_id: ClientId,
    pub crm_url: CrmUrl,
    pub api_key: ApiKey,
    pub mg_endpoint_url: String,
    pub mg_token: MgToken,
    pub activity: Activity,
    /// MG refused the token and the CRM gave no working one: connect again.
    pub needs_reconnect: bool,
    /// The language of the cards sent to the account's customers.
    pub language: Lang,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a successful connect flow stores.
#[derive(Debug)]
pub struct ConnectedAccount<'a> {
    pub client_id: &'a ClientId,
    pub crm_url: &'a CrmUrl,
    pub api_key: &'a ApiKey,
    pub mg_endpoint_url: &'a str,
    pub mg_token: &'a MgToken,
    /// The language of the page the merchant connected from.
    pub language: Lang,
}

const ACCOUNT_COLUMNS: &str = "account_id, client_id_enc, crm_url, api_key_enc, mg_endpoint_url, \
     mg_token_enc, active, frozen, needs_reconnect, language, created_at, updated_at";

// Spans name only what is not secret (`skip_all`, then the fields by hand): the clientId, the
// API key and the MG token never enter one.
impl Store {
    #[tracing::instrument(skip_all, fields(crm = %crm_url))]
    pub async fn find_account_by_crm_url(
        &self,
        crm_url: &CrmUrl,
    ) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE crm_url = $1");
        let row = sqlx::query(&sql)
            .bind(crm_url.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.account_from_row(&row)).transpose()
    }

    pub async fn find_account(&self, id: &AccountId) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE account_id = $1");
        let row = sqlx::query(&sql)
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.account_from_row(&row)).transpose()
    }

    /// No fields in the span: the clientId is a secret.
    #[tracing::instrument(skip_all)]
    pub async fn find_account_by_client_id(
        &self,
        client_id: &ClientId,
    ) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM account WHERE client_id_hash = $1");
        let row = sqlx::query(&sql)
            .bind(fingerprint(CLIENT_ID, client_id.as_str()))
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| self.account_from_row(&row)).transpose()
    }

    /// Accounts the CRM has switched on and not frozen that have (or had) a bot: the ones
    /// whose MG channels may need reconciling. A page of at most `limit`, in id order, after
    /// `after` (from the start when `None`).
    #[tracing::instrument(skip_all)]
    pub async fn enabled_accounts_with_channels_after(
        &self,
        after: Option<&AccountId>,
        limit: usize,
    ) -> Result<Vec<Account>, StoreError> {
        let sql = format!(
            "SELECT {ACCOUNT_COLUMNS} FROM account WHERE active = 1 AND frozen = 0 \
             AND account_id > $1 \
             AND EXISTS (SELECT 1 FROM channel WHERE channel.account_id = account.account_id) \
             ORDER BY account_id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(after.map_or("", AccountId::as_str))
            .bind(limit as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| self.account_from_row(row)).collect()
    }

    /// Inserts the account, or updates the row of the same CRM: reconnecting never makes a
    /// second row. A (re)connected account starts active and unfrozen.
    #[tracing::instrument(skip_all, fields(crm = %account.crm_url))]
    pub async fn save_connected_account(
        &self,
        account: &ConnectedAccount<'_>,
    ) -> Result<AccountId, StoreError> {
        let now = now_unix();
        let id: String = sqlx::query_scalar(
            "INSERT INTO account (account_id, client_id_hash, client_id_enc, crm_url, api_key_enc, \
                 mg_endpoint_url, mg_token_enc, active, frozen, language, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, 0, $9, $8, $8) \
             ON CONFLICT (crm_url) DO UPDATE SET \
                 client_id_hash = excluded.client_id_hash, client_id_enc = excluded.client_id_enc, \
                 api_key_enc = excluded.api_key_enc, mg_endpoint_url = excluded.mg_endpoint_url, \
                 mg_token_enc = excluded.mg_token_enc, active = 1, frozen = 0, needs_reconnect = 0, \
                 language = excluded.language, updated_at = excluded.updated_at \
             RETURNING account_id",
        )
        .bind(AccountId::generate().as_str())
        .bind(fingerprint(CLIENT_ID, account.client_id.as_str()))
        .bind(self.cipher.seal(CLIENT_ID, account.client_id.as_str()))
        .bind(account.crm_url.as_str())
        .bind(self.cipher.seal(API_KEY, account.api_key.expose()))
        .bind(account.mg_endpoint_url)
        .bind(self.cipher.seal(MG_TOKEN, account.mg_token.expose()))
        .bind(now)
        .bind(account.language.code())
        .fetch_one(&self.pool)
        .await?;
        Ok(AccountId::from_stored(id))
    }

    /// Stores what the CRM's activity callback says, and the CRM's new address when it moved.
    /// Returns false when no account has this clientId.
    #[tracing::instrument(
        skip_all,
        fields(active = activity.active, freeze = activity.freeze, moved = new_crm_url.is_some())
    )]
    pub async fn record_activity(
        &self,
        client_id: &ClientId,
        activity: Activity,
        new_crm_url: Option<&CrmUrl>,
    ) -> Result<bool, StoreError> {
        let result = sqlx::query(
            "UPDATE account SET active = $1, frozen = $2, crm_url = COALESCE($3, crm_url), \
                 updated_at = $4 \
             WHERE client_id_hash = $5",
        )
        .bind(i64::from(activity.active))
        .bind(i64::from(activity.freeze))
        .bind(new_crm_url.map(|u| u.as_str().to_owned()))
        .bind(now_unix())
        .bind(fingerprint(CLIENT_ID, client_id.as_str()))
        .execute(&self.pool)
        .await?;
        Ok(result.rows_affected() == 1)
    }

    /// Replaces the MG token (after the CRM handed out a new one) and clears `needs_reconnect`.
    #[tracing::instrument(skip_all, fields(account = account_id.as_str()))]
    pub async fn set_account_mg_token(
        &self,
        account_id: &AccountId,
        token: &MgToken,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE account SET mg_token_enc = $1, needs_reconnect = 0, updated_at = $2 \
             WHERE account_id = $3",
        )
        .bind(self.cipher.seal(MG_TOKEN, token.expose()))
        .bind(now_unix())
        .bind(account_id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(account = account_id.as_str()))]
    pub async fn mark_account_needs_reconnect(
        &self,
        account_id: &AccountId,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE account SET needs_reconnect = 1, updated_at = $1 WHERE account_id = $2",
        )
        .bind(now_unix())
        .bind(account_id.as_str())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    fn account_from_row(&self, row: &AnyRow) -> Result<Account, StoreError> {
        let client_id = self
            .cipher
            .open(CLIENT_ID, &row.try_get::<String, _>("client_id_enc")?)?;
        let client_id = ClientId::parse(client_id.expose_secret())
            .ok_or_else(|| StoreError::Corrupt("a stored clientId has the wrong shape".into()))?;
        let api_key = self
            .cipher
            .open(API_KEY, &row.try_get::<String, _>("api_key_enc")?)?;
        let api_key = ApiKey::parse(api_key.expose_secret())
            .map_err(|_| StoreError::Corrupt("a stored API key has the wrong shape".into()))?;
        let mg_token = self
            .cipher
            .open(MG_TOKEN, &row.try_get::<String, _>("mg_token_enc")?)?;
        Ok(Account {
            id: AccountId::from_stored(row.try_get("account_id")?),
            client_id,
            crm_url: CrmUrl::from_trusted(row.try_get("crm_url")?),
            api_key,
            mg_endpoint_url: row.try_get("mg_endpoint_url")?,
            mg_token: MgToken::new(mg_token.expose_secret().to_owned()),
            activity: Activity {
                active: row.try_get::<i64, _>("active")? != 0,
                freeze: row.try_get::<i64, _>("frozen")? != 0,
            },
            needs_reconnect: row.try_get::<i64, _>("needs_reconnect")? != 0,
            language: Lang::from_tag(&row.try_get::<String, _>("language")?).unwrap_or_default(),
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}
