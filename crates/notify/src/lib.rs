//! Delivery of notices (C6). The outbox in the store holds what must be said; this crate says
//! it: one [`Adapter`] per channel (e-mail over SMTP, SMS over a signed HTTP gateway, the
//! in-app inbox) and the [`Deliverer`], which claims due notices, sends them at least once
//! with the notice's idempotency key, retries with jittered back-off, gives up after a limit
//! and stops calling a provider that is down (a circuit breaker per channel).

pub mod channels;

use futures::future::BoxFuture;
use futures::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yichuang_core::notify::{backoff_ms, Channel};
use yichuang_store::notify::{Delivered, Outgoing};
use yichuang_store::Store;

/// Why a send failed, as far as retrying goes.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// Worth another try later: a timeout, a refused connection, a 5xx or 429.
    #[error("temporary: {0}")]
    Temporary(String),
    /// The provider refused this notice itself (a bad number, say): retrying cannot help.
    #[error("refused: {0}")]
    Permanent(String),
}

/// One way of reaching people. `send` returns the provider's answer, kept in the delivery log.
pub trait Adapter: Send + Sync {
    fn channel(&self) -> Channel;
    fn send<'a>(&'a self, n: &'a Outgoing) -> BoxFuture<'a, Result<String, SendError>>;
}

/// How hard the worker tries.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Notices claimed per pass.
    pub batch: i64,
    /// Sends in flight at once.
    pub concurrency: usize,
    /// Attempts before a notice is given up. With the default back-off (5 s doubling to an
    /// hour) 16 attempts span about eight hours of a provider's failures.
    pub max_attempts: i64,
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Consecutive temporary failures that open a channel's breaker…
    pub breaker_threshold: u32,
    /// …for this long at first, doubling while probes keep failing, up to `breaker_cap`.
    pub breaker_open: Duration,
    pub breaker_cap: Duration,
    /// Pause when nothing was due.
    pub idle: Duration,
    /// How long a claimed notice is this worker's; after that (the worker died) another
    /// claims it. Longer than the slowest provider call.
    pub lease: Duration,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            batch: 64,
            concurrency: 16,
            max_attempts: 16,
            backoff_base: Duration::from_secs(5),
            backoff_cap: Duration::from_secs(3600),
            breaker_threshold: 5,
            breaker_open: Duration::from_secs(5),
            breaker_cap: Duration::from_secs(60),
            idle: Duration::from_millis(500),
            lease: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Breaker {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
        opened_for: Duration,
    },
    /// The open time is over: one notice goes through as a probe. If its answer never comes
    /// back to the breaker (the pass failed), another probe goes after `until`.
    HalfOpen {
        opened_for: Duration,
        until: Instant,
    },
}

/// What the breakers let through this pass.
enum Gate {
    All,
    Probe,
    None,
}

/// The delivery worker. Run one per process; several processes share a PostgreSQL outbox.
pub struct Deliverer {
    store: Store,
    adapters: HashMap<Channel, Arc<dyn Adapter>>,
    policy: Policy,
    public_url: String,
    breakers: Mutex<HashMap<Channel, Breaker>>,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub sent: usize,
    pub failed: usize,
    pub given_up: usize,
}

impl Pass {
    pub fn total(&self) -> usize {
        self.sent + self.failed + self.given_up
    }
}

impl Deliverer {
    pub fn new(
        store: Store,
        adapters: Vec<Arc<dyn Adapter>>,
        policy: Policy,
        public_url: &str,
    ) -> Deliverer {
        Deliverer {
            store,
            adapters: adapters.into_iter().map(|a| (a.channel(), a)).collect(),
            policy,
            public_url: public_url.to_string(),
            breakers: Mutex::new(HashMap::new()),
        }
    }

    /// Channels with an adapter; notices for the others wait, visible in the delivery log.
    pub fn channels(&self) -> Vec<Channel> {
        let mut v: Vec<Channel> = self.adapters.keys().copied().collect();
        v.sort_by_key(|c| c.code());
        v
    }

    fn gate(&self, ch: Channel) -> Gate {
        let mut b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        let state = b.entry(ch).or_insert(Breaker::Closed { failures: 0 });
        match *state {
            Breaker::Closed { .. } => Gate::All,
            Breaker::Open { until, opened_for } | Breaker::HalfOpen { opened_for, until }
                if Instant::now() >= until =>
            {
                *state = Breaker::HalfOpen {
                    opened_for,
                    until: Instant::now() + self.policy.lease,
                };
                Gate::Probe
            }
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => Gate::None,
        }
    }

    fn observe(&self, ch: Channel, ok: bool) {
        let mut b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        let state = b.entry(ch).or_insert(Breaker::Closed { failures: 0 });
        *state = match (*state, ok) {
            (_, true) => Breaker::Closed { failures: 0 },
            (Breaker::Closed { failures }, false)
                if failures + 1 < self.policy.breaker_threshold =>
            {
                Breaker::Closed {
                    failures: failures + 1,
                }
            }
            (Breaker::Closed { .. }, false) => {
                tracing::warn!(
                    channel = ch.code(),
                    "provider failing; pausing this channel"
                );
                Breaker::Open {
                    until: Instant::now() + self.policy.breaker_open,
                    opened_for: self.policy.breaker_open,
                }
            }
            (Breaker::HalfOpen { opened_for, .. } | Breaker::Open { opened_for, .. }, false) => {
                let next = (opened_for * 2).min(self.policy.breaker_cap);
                Breaker::Open {
                    until: Instant::now() + next,
                    opened_for: next,
                }
            }
        };
    }

    /// Whether a channel's provider is being left alone right now.
    pub fn paused(&self, ch: Channel) -> bool {
        let b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        matches!(
            b.get(&ch),
            Some(Breaker::Open { .. } | Breaker::HalfOpen { .. })
        )
    }

    fn lease_ms(&self) -> i64 {
        self.policy.lease.as_millis() as i64
    }

    /// Claims and sends what is due now; returns what happened.
    pub async fn pass(&self) -> yichuang_store::Result<Pass> {
        let mut all = Vec::new();
        let mut probes = Vec::new();
        for ch in self.channels() {
            match self.gate(ch) {
                Gate::All => all.push(ch),
                Gate::Probe => probes.push(ch),
                Gate::None => {}
            }
        }
        let mut claimed = Vec::new();
        if !all.is_empty() {
            claimed.extend(
                self.store
                    .claim_notices(self.policy.batch, &all, self.lease_ms(), &self.public_url)
                    .await?,
            );
        }
        for ch in &probes {
            let got = self
                .store
                .claim_notices(1, &[*ch], self.lease_ms(), &self.public_url)
                .await;
            match got {
                Ok(got) if !got.is_empty() => claimed.extend(got),
                other => {
                    // Nothing to probe with (or the claim failed): probe again next pass.
                    let mut b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(Breaker::HalfOpen { opened_for, .. }) = b.get(ch).copied() {
                        b.insert(
                            *ch,
                            Breaker::Open {
                                until: Instant::now(),
                                opened_for,
                            },
                        );
                    }
                    drop(b);
                    other?;
                }
            }
        }
        if claimed.is_empty() {
            return Ok(Pass::default());
        }
        let results: Vec<_> = futures::stream::iter(claimed)
            .map(|n| async move {
                // A breaker that opened during this pass stops the rest of its sends; those
                // are not the provider's failures, so they do not count against it again.
                let (r, counted) = match self.adapters.get(&n.channel) {
                    Some(a) if !self.paused_closed_mid_pass(n.channel) => (a.send(&n).await, true),
                    _ => (Err(SendError::Temporary("provider paused".into())), false),
                };
                (n, r, counted)
            })
            .buffer_unordered(self.policy.concurrency.max(1))
            .collect()
            .await;
        let mut pass = Pass::default();
        let now = yichuang_store::now_ms();
        let mut records = Vec::with_capacity(results.len());
        for (n, r, counted) in results {
            let outcome = match r {
                Ok(answer) => {
                    self.observe(n.channel, true);
                    pass.sent += 1;
                    Delivered::Sent(answer)
                }
                Err(SendError::Permanent(e)) => {
                    // The provider answered: it is up, whatever it thought of this notice.
                    self.observe(n.channel, true);
                    let e = e.replace(&n.address, &n.address_masked);
                    pass.given_up += 1;
                    tracing::warn!(id = n.id, to = %n.address_masked, error = %e, "notice refused by the provider");
                    Delivered::GivenUp(format!("refused: {e}"))
                }
                Err(SendError::Temporary(e))
                    if counted && n.attempts >= self.policy.max_attempts =>
                {
                    self.observe(n.channel, false);
                    let e = e.replace(&n.address, &n.address_masked);
                    pass.given_up += 1;
                    tracing::warn!(id = n.id, to = %n.address_masked, attempts = n.attempts, error = %e, "notice given up");
                    Delivered::GivenUp(e)
                }
                Err(SendError::Temporary(e)) => {
                    if counted {
                        self.observe(n.channel, false);
                    }
                    pass.failed += 1;
                    let wait = backoff_ms(
                        n.attempts as u32,
                        self.policy.backoff_base.as_millis() as u64,
                        self.policy.backoff_cap.as_millis() as u64,
                        rand::random::<f64>(),
                    );
                    Delivered::Retry {
                        answer: e,
                        at: now + wait as i64,
                        counted,
                    }
                }
            };
            records.push((n, outcome));
        }
        self.store.record_deliveries(records).await?;
        Ok(pass)
    }

    fn paused_closed_mid_pass(&self, ch: Channel) -> bool {
        let b = self.breakers.lock().unwrap_or_else(|e| e.into_inner());
        matches!(b.get(&ch), Some(Breaker::Open { .. }))
    }

    /// Runs passes until the task is dropped: straight on while there is work, pausing when
    /// there is none or the database is unavailable.
    pub async fn run(self: Arc<Self>) {
        loop {
            match self.pass().await {
                Ok(p) if p.total() > 0 => {
                    tracing::debug!(
                        sent = p.sent,
                        failed = p.failed,
                        given_up = p.given_up,
                        "delivery pass"
                    );
                }
                Ok(_) => tokio::time::sleep(self.policy.idle).await,
                Err(e) => {
                    tracing::warn!(error = %e, "delivery pass failed; retrying");
                    tokio::time::sleep(self.policy.idle).await;
                }
            }
        }
    }
}
