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
    /// Staff console logins per client address.
    pub login_limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    /// Tracking and portal requests per access code or portal key, keyed
    /// by the token's hash (None: off; [`crate::limits::per_token`]).
    pub token_limiter: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    pub metrics: PrometheusHandle,
    /// Proxies whose `X-Forwarded-For` names the client
    /// ([`crate::extract::client_ip`]).
    pub trusted_proxies: Arc<[ipnet::IpNet]>,
}

impl AppState {
    pub fn new(
        app: Arc<App>,
        public_rate_per_minute: u32,
        token_rate_per_minute: u32,
        trusted_proxies: Vec<ipnet::IpNet>,
    ) -> Self {
        let public_limiter = NonZeroU32::new(public_rate_per_minute)
            .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))));
        let token_limiter = NonZeroU32::new(token_rate_per_minute)
            .map(|n| Arc::new(RateLimiter::keyed(Quota::per_minute(n))));
        // Twenty login attempts a minute per address: enough for people,
        // too few for guessing.
        let login_limiter = Arc::new(RateLimiter::keyed(Quota::per_minute(
            NonZeroU32::new(20).expect("not zero"),
        )));
        // Forget addresses whose quota has refilled, so that many different
        // clients cannot grow the tables without bound.
        let weak_public = public_limiter.as_ref().map(Arc::downgrade);
        let weak_login = Arc::downgrade(&login_limiter);
        let weak_token = token_limiter.as_ref().map(Arc::downgrade);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(login) = weak_login.upgrade() else {
                    break;
                };
                login.retain_recent();
                login.shrink_to_fit();
                if let Some(public) = weak_public.as_ref().and_then(|w| w.upgrade()) {
                    public.retain_recent();
                    public.shrink_to_fit();
                }
                if let Some(token) = weak_token.as_ref().and_then(|w| w.upgrade()) {
                    token.retain_recent();
                    token.shrink_to_fit();
                }
            }
        });
        Self {
            app,
            public_limiter,
            login_limiter,
            token_limiter,
            metrics: crate::metrics::handle(),
            trusted_proxies: trusted_proxies.into(),
        }
    }
}
