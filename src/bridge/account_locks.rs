//! One account's channel changes (adding, removing, reconciling bots) run one at a time in a
//! process: a lock per account, made on first use and forgotten when nobody holds or waits for
//! it, so the map holds the accounts whose channels are changing now, not every account a
//! start-up reconcile ever went through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::store::Account;

/// The locks, by account id.
#[derive(Clone, Debug, Default)]
pub struct AccountLocks(Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>);

/// One account's channel lock, held until dropped.
pub struct AccountGuard {
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
    locks: AccountLocks,
    account: String,
}

impl AccountLocks {
    pub async fn lock(&self, account: &Account) -> AccountGuard {
        let key = account.id.as_str().to_owned();
        let lock = self
            .0
            .lock()
            .expect("account lock map poisoned")
            .entry(key.clone())
            .or_default()
            .clone();
        AccountGuard {
            guard: Some(lock.lock_owned().await),
            locks: self.clone(),
            account: key,
        }
    }

    /// Accounts with a lock in the map (tests).
    pub fn len(&self) -> usize {
        self.0.lock().expect("account lock map poisoned").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for AccountGuard {
    fn drop(&mut self) {
        // Our guard's `Arc` goes first; then the map's is the last one unless someone waits
        // (a waiter cloned it under the map's lock, which we hold while looking).
        drop(self.guard.take());
        let mut map = self.locks.0.lock().expect("account lock map poisoned");
        if map
            .get(&self.account)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            map.remove(&self.account);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, Activity, ApiKey, ClientId, CrmUrl, MgToken};

    fn account(id: &str) -> Account {
        Account {
            id: AccountId::from_stored(id.to_owned()),
            client_id: ClientId::generate(),
            crm_url: CrmUrl::from_trusted(format!("https://{id}.example.com")),
            api_key: ApiKey::parse("key").unwrap(),
            mg_endpoint_url: "https://mg.example.com".into(),
            mg_token: MgToken::new("token".into()),
            activity: Activity {
                active: true,
                freeze: false,
            },
            needs_reconnect: false,
            language: Default::default(),
            created_at: 0,
            updated_at: 0,
        }
    }

    #[tokio::test]
    async fn a_lock_is_forgotten_once_nobody_holds_or_waits_for_it() {
        let locks = AccountLocks::default();
        let (a, b) = (account("a"), account("b"));
        let held = locks.lock(&a).await;
        let other = locks.lock(&b).await;
        assert_eq!(locks.len(), 2);
        drop(other);
        assert_eq!(locks.len(), 1);
        // A waiter keeps the lock in the map when the holder lets go, and gets it.
        let waiter = {
            let locks = locks.clone();
            let a = a.clone();
            tokio::spawn(async move { locks.lock(&a).await })
        };
        while Arc::strong_count(locks.0.lock().unwrap().get("a").unwrap()) < 3 {
            tokio::task::yield_now().await;
        }
        drop(held);
        assert_eq!(locks.len(), 1);
        let second = tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("the waiter gets the lock")
            .unwrap();
        drop(second);
        assert!(locks.is_empty());
    }
}
