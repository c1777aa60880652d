//! The supervision worker's loop.

use yichuang_store::Store;

/// The supervision worker: every `every`, sends the warnings and notices that have come due.
/// Safe to run in several processes against one database (each case is claimed once), and
/// safe to stop at any moment (a tick's claims commit with their notices or not at all).
pub fn spawn_supervision(store: Store, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let today = store.today();
            match store.flow_tick(today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    consents = n,
                    "default consent recorded for silent departments"
                ),
                Err(e) => tracing::warn!(error = %e, "workflow clock failed; retrying next tick"),
            }
            match store.step_tick(today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sent = n, "step supervision notices sent"),
                Err(e) => tracing::warn!(error = %e, "step supervision failed; retrying next tick"),
            }
            match store.supervise_tick(today).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sent = n, "supervision notices sent"),
                Err(e) => tracing::warn!(error = %e, "supervision tick failed; retrying next tick"),
            }
        }
    })
}
