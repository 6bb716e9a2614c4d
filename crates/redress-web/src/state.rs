use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use metrics_exporter_prometheus::PrometheusHandle;
use redress_app::App;

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    /// Public, unauthenticated intake per client address (None: off).
    pub public_limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
    pub metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(app: Arc<App>, public_rate_per_minute: u32) -> Self {
        let public_limiter = NonZeroU32::new(public_rate_per_minute)
            .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))));
        if let Some(limiter) = &public_limiter {
            // Forget addresses whose quota has refilled, so that many
            // different clients cannot grow the table without bound.
            let weak = Arc::downgrade(limiter);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
                loop {
                    tick.tick().await;
                    let Some(limiter) = weak.upgrade() else { break };
                    limiter.retain_recent();
                    limiter.shrink_to_fit();
                }
            });
        }
        Self {
            app,
            public_limiter,
            metrics: crate::metrics::handle(),
        }
    }
}
