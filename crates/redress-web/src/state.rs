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
        Self {
            app,
            public_limiter,
            metrics: crate::metrics::handle(),
        }
    }
}
