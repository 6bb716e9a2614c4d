//! Respondent scorecards (`GET /reports/respondents`) and spike alerts
//! (`GET /alerts`, and their e-mail to supervisors), SPEC §10 and
//! docs/reports.md. Both are answered from the report rollups
//! (`redress_store::rollup`), never by reading the case rows.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use redress_domain::{Reason, RespondentKind, Role};
pub use redress_store::rollup::Subject;
use redress_store::rollup::{self, DailyQuery, RollupQuery};
use serde::{Deserialize, Serialize};

use crate::App;
use crate::access::Principal;
use crate::error::{AppError, AppResult};
use crate::report::parse_days;

/// The spike rule's numbers (settings `spike_alerts.*`, docs/operations.md): a
/// subject's count on a local day is a spike when it is at least
/// `min_count` and above `mean + sigmas × max(sd, min_sd)` of its own
/// previous `baseline_days` days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AlertRule {
    pub min_count: i64,
    pub sigmas: f64,
    pub min_sd: f64,
    pub baseline_days: u32,
}

impl Default for AlertRule {
    fn default() -> Self {
        Self {
            min_count: 10,
            sigmas: 3.0,
            min_sd: 1.0,
            baseline_days: 28,
        }
    }
}

impl AlertRule {
    /// The rule, or what is wrong with it (`redress serve` refuses to
    /// start).
    pub fn checked(&self) -> Result<AlertRule, String> {
        if !(1..=1_000_000).contains(&self.min_count) {
            return Err(format!(
                "spike_alerts.min_count must be from 1 to 1000000, not {}",
                self.min_count
            ));
        }
        if !(self.sigmas.is_finite() && (0.0..=100.0).contains(&self.sigmas)) {
            return Err(format!(
                "spike_alerts.sigmas must be from 0 to 100, not {}",
                self.sigmas
            ));
        }
        if !(self.min_sd.is_finite() && (0.0..=1_000_000.0).contains(&self.min_sd)) {
            return Err(format!(
                "spike_alerts.min_sd must be from 0 to 1000000, not {}",
                self.min_sd
            ));
        }
        if !(1..=365).contains(&self.baseline_days) {
            return Err(format!(
                "spike_alerts.baseline_days must be from 1 to 365, not {}",
                self.baseline_days
            ));
        }
        Ok(self.clone())
    }
}

/// Rounded to 0.01.
fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Rounded to 0.0001 (a share).
fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

/// A query parameter's text, trimmed, when not empty.
fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn share(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| round4(part as f64 / whole as f64))
}

// ---------------------------------------------------------------------
// Scorecards

/// What the caller asks of `GET /reports/respondents`: the query string.
#[derive(Debug, Clone, Default)]
pub struct ScorecardParams {
    pub from: Option<String>,
    pub to: Option<String>,
    pub sort: Option<String>,
    pub order: Option<String>,
    pub limit: Option<String>,
}

/// How scorecards can be sorted; each has its own default order (the
/// worst first: most cases, most upheld, fewest replies on time).
pub const SORTS: [&str; 7] = [
    "volume",
    "upheld_share",
    "partially_upheld_share",
    "reply_on_time_rate",
    "repeat_complainants",
    "change",
    "name",
];

/// The default and largest number of scorecards answered.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// One respondent's figures of the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecard {
    /// `kind:id`.
    pub respondent: String,
    pub kind: String,
    pub id: String,
    /// The name an admin registered for the respondent, if any.
    pub name: Option<String>,
    /// Cases filed in the period.
    pub volume: i64,
    /// Decisions made in the period, and of those upheld and partially
    /// upheld (the outcome in force).
    pub decided: i64,
    pub upheld: i64,
    pub partially_upheld: i64,
    pub upheld_share: Option<f64>,
    pub partially_upheld_share: Option<f64>,
    /// Reply deadlines settled in the period, met, missed or late.
    pub replies_due: i64,
    pub replies_on_time: i64,
    pub replies_late: i64,
    pub reply_on_time_rate: Option<f64>,
    /// Cases filed in the period by a complainant who had an earlier case
    /// against this respondent.
    pub repeat_complainants: i64,
    pub repeat_share: Option<f64>,
    /// Cases filed in the period of the same length just before, and the
    /// change (this period minus that one).
    pub previous_volume: i64,
    pub change: i64,
}

/// The answer of `GET /reports/respondents`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scorecards {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    /// The period the trend compares with.
    pub previous_from_day: NaiveDate,
    pub previous_to_day: NaiveDate,
    pub time_zone: String,
    pub sort: String,
    pub order: String,
    /// Respondents with any figure in the period (before `limit`).
    pub total: usize,
    pub items: Vec<Scorecard>,
}

#[derive(Debug, Default)]
struct Counts {
    volume: i64,
    repeat: i64,
    decided: i64,
    upheld: i64,
    partially: i64,
    due: i64,
    on_time: i64,
}

/// The order of two optional numbers: absent ones last whatever the
/// direction.
fn by_opt(a: Option<f64>, b: Option<f64>, desc: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            if desc { o.reverse() } else { o }
        }
    }
}

/// Sorts scorecards by `sort` (one of [`SORTS`]), descending or not;
/// ties by volume (most first), then key.
pub fn sort_scorecards(items: &mut [Scorecard], sort: &str, desc: bool) {
    items.sort_by(|a, b| {
        let num = |x: i64, y: i64| if desc { y.cmp(&x) } else { x.cmp(&y) };
        let primary = match sort {
            "upheld_share" => by_opt(a.upheld_share, b.upheld_share, desc),
            "partially_upheld_share" => {
                by_opt(a.partially_upheld_share, b.partially_upheld_share, desc)
            }
            "reply_on_time_rate" => by_opt(a.reply_on_time_rate, b.reply_on_time_rate, desc),
            "repeat_complainants" => num(a.repeat_complainants, b.repeat_complainants),
            "change" => num(a.change, b.change),
            "name" => {
                let key = |s: &Scorecard| s.name.clone().unwrap_or_else(|| s.respondent.clone());
                let o = key(a).cmp(&key(b));
                if desc { o.reverse() } else { o }
            }
            _ => num(a.volume, b.volume),
        };
        primary
            .then(b.volume.cmp(&a.volume))
            .then(a.respondent.cmp(&b.respondent))
    });
}

impl App {
    /// `GET /reports/respondents`: a scorecard per respondent with any
    /// figure in the period, sorted, at most `limit`.
    pub async fn respondent_scorecards(
        &self,
        who: &Principal,
        p: &ScorecardParams,
    ) -> AppResult<Scorecards> {
        who.staff()?.require(Role::Supervisor)?;
        let (from, to) = parse_days(self, p.from.as_deref(), p.to.as_deref())?;
        let mut errors = redress_domain::FieldErrors::new();
        let sort = match text(&p.sort) {
            None => "volume",
            Some(s) => match SORTS.iter().find(|x| **x == s) {
                Some(x) => *x,
                None => {
                    errors.add("sort", Reason::one_of(SORTS));
                    "volume"
                }
            },
        };
        let default_desc = !matches!(sort, "reply_on_time_rate" | "name");
        let desc = match text(&p.order) {
            None => default_desc,
            Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                errors.add("order", Reason::one_of(["asc", "desc"]));
                default_desc
            }
        };
        let limit = match text(&p.limit) {
            None => DEFAULT_LIMIT,
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.add(
                        "limit",
                        Reason::IntRange {
                            a: 1,
                            b: MAX_LIMIT as i64,
                        },
                    );
                    DEFAULT_LIMIT
                }
            },
        };
        errors.into_result()?;
        let q = RollupQuery {
            from,
            to,
            department: None,
            category: None,
            metrics: rollup::RESPONDENT_METRICS.to_vec(),
            group: rollup::Group::Period,
        };
        let mut per: BTreeMap<String, Counts> = BTreeMap::new();
        for r in self.store.report_rollup(&q).await? {
            let c = per.entry(r.dim).or_default();
            let slot = match r.metric.as_str() {
                rollup::FILED_RESPONDENT => &mut c.volume,
                rollup::RESPONDENT_REPEAT => &mut c.repeat,
                rollup::RESPONDENT_DECIDED => &mut c.decided,
                rollup::RESPONDENT_UPHELD => &mut c.upheld,
                rollup::RESPONDENT_PARTIALLY_UPHELD => &mut c.partially,
                rollup::RESPONDENT_REPLY_DUE => &mut c.due,
                rollup::RESPONDENT_REPLY_ON_TIME => &mut c.on_time,
                _ => continue,
            };
            *slot += r.n;
        }
        let len = (to - from).num_days() + 1;
        let prev_q = RollupQuery {
            from: from - Duration::days(len),
            to: from - Duration::days(1),
            metrics: vec![rollup::FILED_RESPONDENT],
            ..q.clone()
        };
        let mut previous: HashMap<String, i64> = HashMap::new();
        for r in self.store.report_rollup(&prev_q).await? {
            *previous.entry(r.dim).or_default() += r.n;
        }
        let mut items: Vec<Scorecard> = per
            .into_iter()
            .filter(|(_, c)| c.volume != 0 || c.decided != 0 || c.due != 0)
            .map(|(key, c)| {
                let (kind, id) = key.split_once(':').unwrap_or(("", key.as_str()));
                let previous_volume = previous.get(&key).copied().unwrap_or(0);
                Scorecard {
                    kind: kind.to_string(),
                    id: id.to_string(),
                    name: None,
                    volume: c.volume,
                    decided: c.decided,
                    upheld: c.upheld,
                    partially_upheld: c.partially,
                    upheld_share: share(c.upheld, c.decided),
                    partially_upheld_share: share(c.partially, c.decided),
                    replies_due: c.due,
                    replies_on_time: c.on_time,
                    replies_late: c.due - c.on_time,
                    reply_on_time_rate: share(c.on_time, c.due),
                    repeat_complainants: c.repeat,
                    repeat_share: share(c.repeat, c.volume),
                    previous_volume,
                    change: c.volume - previous_volume,
                    respondent: key,
                }
            })
            .collect();
        let total = items.len();
        if sort == "name" {
            // Names first, so that the sort sees them.
            for item in &mut items {
                item.name = self.respondent_name(&item.respondent).await?;
            }
            sort_scorecards(&mut items, sort, desc);
            items.truncate(limit);
        } else {
            sort_scorecards(&mut items, sort, desc);
            items.truncate(limit);
            for item in &mut items {
                item.name = self.respondent_name(&item.respondent).await?;
            }
        }
        Ok(Scorecards {
            from_day: from,
            to_day: to,
            previous_from_day: prev_q.from,
            previous_to_day: prev_q.to,
            time_zone: self.config.time_zone.name().to_string(),
            sort: sort.to_string(),
            order: if desc { "desc" } else { "asc" }.to_string(),
            total,
            items,
        })
    }

    /// The name an admin registered for the respondent `kind:id`, if any.
    pub async fn respondent_name(&self, key: &str) -> AppResult<Option<String>> {
        let Some((kind, id)) = key.split_once(':') else {
            return Ok(None);
        };
        let Ok(kind) = kind.parse::<RespondentKind>() else {
            return Ok(None);
        };
        Ok(self.store.get_respondent(kind, id).await?.map(|r| r.name))
    }
}

// ---------------------------------------------------------------------
// Spike alerts

/// One spike: a subject's count on a local day above its own baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub subject_kind: Subject,
    /// The respondent key (`kind:id`) or the category code.
    pub subject_id: String,
    /// The respondent's registered name or the category's name, if any.
    pub name: Option<String>,
    /// The category's English name, if it has one.
    #[serde(skip)]
    pub name_en: Option<String>,
    pub day: NaiveDate,
    pub count: i64,
    /// The mean and (population) standard deviation of the subject's
    /// counts on the `baseline_days` days before `day` (days without
    /// cases count as 0).
    pub baseline_mean: f64,
    pub baseline_sd: f64,
    /// `baseline_mean + sigmas × max(baseline_sd, min_sd)`: the count is
    /// above it.
    pub threshold: f64,
}

/// The answer of `GET /alerts`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alerts {
    pub from_day: NaiveDate,
    pub to_day: NaiveDate,
    pub time_zone: String,
    pub rule: AlertRule,
    /// Newest day first, then the biggest count.
    pub items: Vec<Alert>,
}

/// The longest period `GET /alerts` looks at (days).
pub const MAX_ALERT_DAYS: i64 = 366;

/// How often the background job looks for spikes to mail, at most
/// (seconds).
const ALERT_JOB_EVERY: i64 = 60;

/// Mean and population standard deviation.
fn mean_sd(values: &[f64]) -> (f64, f64) {
    if values.is_empty() {
        return (0.0, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    (mean, var.sqrt())
}

/// Whether `count` is a spike over `baseline` under `rule`; the baseline's
/// mean, sd and the threshold.
pub fn spike(count: i64, baseline: &[f64], rule: &AlertRule) -> (bool, f64, f64, f64) {
    let (mean, sd) = mean_sd(baseline);
    let threshold = mean + rule.sigmas * sd.max(rule.min_sd);
    (
        count >= rule.min_count && count as f64 > threshold,
        mean,
        sd,
        threshold,
    )
}

impl App {
    /// `GET /alerts`: the spikes of the period's days (default the last
    /// 30 days up to today).
    pub async fn alerts(
        &self,
        who: &Principal,
        from: Option<&str>,
        to: Option<&str>,
    ) -> AppResult<Alerts> {
        who.staff()?.require(Role::Supervisor)?;
        let (from, to) = parse_days(self, from, to)?;
        if (to - from).num_days() >= MAX_ALERT_DAYS {
            return Err(AppError::invalid(
                "from",
                Reason::DateBetween {
                    from: (to - Duration::days(MAX_ALERT_DAYS - 1)).to_string(),
                    to: to.to_string(),
                },
            ));
        }
        let items = self.spikes(from, to).await?;
        Ok(Alerts {
            from_day: from,
            to_day: to,
            time_zone: self.config.time_zone.name().to_string(),
            rule: self.config.alerts.clone(),
            items,
        })
    }

    /// The spikes on the local days `[from, to]`, from the rollups: the
    /// subject-days at `min_count` or more, then those subjects' counts of
    /// the baseline days before.
    pub async fn spikes(&self, from: NaiveDate, to: NaiveDate) -> AppResult<Vec<Alert>> {
        let rule = &self.config.alerts;
        let days = i64::from(rule.baseline_days);
        let mut out = Vec::new();
        let categories = self.store.list_categories().await?;
        for subject in [Subject::Respondent, Subject::Category] {
            let candidates = self
                .store
                .report_daily(&DailyQuery {
                    subject,
                    from,
                    to,
                    min: rule.min_count,
                    only: Vec::new(),
                })
                .await?;
            if candidates.is_empty() {
                continue;
            }
            let subjects: Vec<String> = candidates
                .iter()
                .map(|c| c.subject.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut history: HashMap<(String, NaiveDate), i64> = HashMap::new();
            for chunk in subjects.chunks(200) {
                for c in self
                    .store
                    .report_daily(&DailyQuery {
                        subject,
                        from: from - Duration::days(days),
                        to,
                        min: 1,
                        only: chunk.to_vec(),
                    })
                    .await?
                {
                    history.insert((c.subject, c.day), c.n);
                }
            }
            for c in candidates {
                let baseline: Vec<f64> = (1..=days)
                    .map(|i| {
                        history
                            .get(&(c.subject.clone(), c.day - Duration::days(i)))
                            .copied()
                            .unwrap_or(0) as f64
                    })
                    .collect();
                let (is_spike, mean, sd, threshold) = spike(c.n, &baseline, rule);
                if !is_spike {
                    continue;
                }
                let (name, name_en) = match subject {
                    Subject::Respondent => (self.respondent_name(&c.subject).await?, None),
                    Subject::Category => categories
                        .iter()
                        .find(|k| k.code == c.subject)
                        .map(|k| (Some(k.name.clone()), k.name_en.clone()))
                        .unwrap_or((None, None)),
                };
                out.push(Alert {
                    subject_kind: subject,
                    subject_id: c.subject,
                    name,
                    name_en,
                    day: c.day,
                    count: c.n,
                    baseline_mean: round2(mean),
                    baseline_sd: round2(sd),
                    threshold: round2(threshold),
                });
            }
        }
        out.sort_by(|a, b| {
            b.day
                .cmp(&a.day)
                .then(b.count.cmp(&a.count))
                .then(a.subject_kind.cmp(&b.subject_kind))
                .then(a.subject_id.cmp(&b.subject_id))
        });
        Ok(out)
    }

    /// From the sweep, at most once a minute of the app's clock: mails
    /// the spikes of yesterday and today (local days) that were not
    /// mailed yet.
    pub(crate) async fn alert_job(&self) {
        let now = self.now();
        {
            let mut last = self.alerts_checked.lock().expect("alerts lock");
            if last.is_some_and(|t| now >= t && now - t < Duration::seconds(ALERT_JOB_EVERY)) {
                return;
            }
            *last = Some(now);
        }
        match self.mail_alerts(now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(alerts = n, "spike alerts mailed to supervisors"),
            Err(e) => tracing::warn!(error = %e, "the spike alert job failed"),
        }
        match self.mail_scheduled_report(now).await {
            Ok(false) => {}
            Ok(true) => tracing::info!("the scheduled report was mailed to supervisors"),
            Err(e) => tracing::warn!(error = %e, "the scheduled report job failed"),
        }
    }

    /// Mails each spike of yesterday and today not mailed yet to the
    /// supervisors with an address: each (subject, day) is recorded in
    /// `alerts_sent` first, so that it leaves once across restarts and
    /// instances. The number mailed.
    pub async fn mail_alerts(&self, now: DateTime<Utc>) -> AppResult<u64> {
        if self.config.senders.email.is_none() {
            return Ok(0);
        }
        if self.staff_emails(Role::Supervisor).await?.is_empty() {
            return Ok(0);
        }
        let today = self.calendar().local_date(now);
        let mut sent = 0;
        for a in self.spikes(today - Duration::days(1), today).await? {
            if !self
                .store
                .claim_alert(a.subject_kind, &a.subject_id, a.day, now)
                .await?
            {
                continue;
            }
            let (kind_zh, kind_en) = match a.subject_kind {
                Subject::Respondent => ("被投诉人", "respondent"),
                Subject::Category => ("投诉类别", "category"),
            };
            let name = a.name.clone().unwrap_or_else(|| a.subject_id.clone());
            let name_en = a.name_en.clone().unwrap_or_else(|| name.clone());
            let link = format!(
                "{}/staff/alerts?from={d}&to={d}",
                self.config.public_url.trim_end_matches('/'),
                d = a.day
            );
            self.mail_supervisors(
                format!(
                    "【投诉激增】{kind_zh} {name} {day} 投诉 {count} 件 / Spike: {kind_en} {name_en}, {count} on {day}",
                    day = a.day,
                    count = a.count
                ),
                format!(
                    "{kind_zh}“{name}”（{id}）在 {day} 收到 {count} 件投诉，高于其前 {days} 天的基线\
                     （平均 {mean}，标准差 {sd}，阈值 {threshold}）。\n详情：{link}\n\n\
                     The {kind_en} \"{name_en}\" ({id}) had {count} complaints on {day}, above its \
                     baseline of the {days} days before (mean {mean}, standard deviation {sd}, \
                     threshold {threshold}).\nDetails: {link}\n",
                    id = a.subject_id,
                    day = a.day,
                    count = a.count,
                    days = self.config.alerts.baseline_days,
                    mean = a.baseline_mean,
                    sd = a.baseline_sd,
                    threshold = a.threshold,
                ),
            )
            .await?;
            sent += 1;
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_needs_the_minimum_and_the_floor_of_the_deviation() {
        let rule = AlertRule::default();
        let flat = vec![0.0; 28];
        // Nothing before: the threshold is 0 + 3 × 1 = 3; the minimum decides.
        assert!(!spike(9, &flat, &rule).0);
        assert!(spike(10, &flat, &rule).0);
        // A steady 8 a day: sd 0, floored to 1, threshold 11.
        let steady = vec![8.0; 28];
        let (hit, mean, sd, threshold) = spike(11, &steady, &rule);
        assert!(!hit);
        assert_eq!((mean, sd, threshold), (8.0, 0.0, 11.0));
        assert!(spike(12, &steady, &rule).0);
        assert!(AlertRule::default().checked().is_ok());
        assert!(
            AlertRule {
                baseline_days: 0,
                ..AlertRule::default()
            }
            .checked()
            .is_err()
        );
    }

    #[test]
    fn scorecards_sort_with_absent_rates_last() {
        let card = |key: &str, volume: i64, rate: Option<f64>| Scorecard {
            respondent: key.into(),
            kind: "merchant".into(),
            id: key.into(),
            name: None,
            volume,
            decided: 0,
            upheld: 0,
            partially_upheld: 0,
            upheld_share: None,
            partially_upheld_share: None,
            replies_due: 0,
            replies_on_time: 0,
            replies_late: 0,
            reply_on_time_rate: rate,
            repeat_complainants: 0,
            repeat_share: None,
            previous_volume: 0,
            change: volume,
        };
        let mut items = vec![
            card("a", 1, None),
            card("b", 5, Some(0.5)),
            card("c", 3, Some(0.1)),
        ];
        sort_scorecards(&mut items, "reply_on_time_rate", false);
        let keys: Vec<&str> = items.iter().map(|i| i.respondent.as_str()).collect();
        assert_eq!(keys, ["c", "b", "a"]);
        sort_scorecards(&mut items, "volume", true);
        let keys: Vec<&str> = items.iter().map(|i| i.respondent.as_str()).collect();
        assert_eq!(keys, ["b", "c", "a"]);
    }
}
