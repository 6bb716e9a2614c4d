//! Realistic cases for `redress-bench generate` (issue 16): the 12 default
//! categories within their 3 departments, about 5,000 respondents with a Zipf-like share,
//! filings spread over the last two years, and each case taken through the
//! domain's own transitions at plausible instants: accepted within 0–3
//! working days (some refused, some asked for material, of which some
//! lapse), decided within 1–20 working days of acceptance, 5 % of the
//! decisions appealed and reviewed, some withdrawn, some still running
//! past their deadline (flagged overdue, as the sweep does), a respondent
//! reply on most accepted cases and a rating on some closed ones. A step
//! whose instant is after `now` is not taken: recent cases are still open.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use rand::rngs::StdRng;
use redress_app::Vault;
use redress_domain::{
    ActorKind, Audience, Calendar, Case, Channel, Ctx, DeadlinePolicy, Locale, Outcome,
    ReviewChange, ReviewResult, Role, StaffRef,
};
use serde_json::json;

/// Shares (%) of the installation's 12 default categories
/// (`redress_app::admin::default_categories`, each within its department),
/// in their order: refunds and delivery the most common.
const CATEGORY_SHARE: [u32; 12] = [14, 10, 22, 14, 5, 4, 8, 6, 3, 3, 3, 8];

pub const RESPONDENTS: usize = 5_000;

/// The generator's state: the respondents' cumulative Zipf weights.
pub struct Realistic {
    cumulative: Vec<f64>,
    /// (department, category) codes, in the order of [`CATEGORY_SHARE`].
    categories: Vec<(String, String)>,
    policy: DeadlinePolicy,
    pub days: i64,
}

impl Realistic {
    /// Respondent `k` (0-based) has weight `1 / (k + 1)^0.9`: the first 1 %
    /// of respondents get some 38 % of the cases.
    pub fn new(days: i64) -> Realistic {
        let mut cumulative = Vec::with_capacity(RESPONDENTS);
        let mut sum = 0.0;
        for k in 0..RESPONDENTS {
            sum += 1.0 / ((k + 1) as f64).powf(0.9);
            cumulative.push(sum);
        }
        let categories = redress_app::admin::default_categories()
            .into_iter()
            .map(|c| (c.department, c.code))
            .collect();
        Realistic {
            cumulative,
            categories,
            policy: DeadlinePolicy::default(),
            days,
        }
    }

    fn respondent(&self, rng: &mut StdRng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let u = rng.gen_range(0.0..total);
        self.cumulative
            .partition_point(|c| *c <= u)
            .min(RESPONDENTS - 1)
    }

    fn category(&self, rng: &mut StdRng) -> (&str, &str) {
        let mut u = rng.gen_range(0..100u32);
        for (i, share) in CATEGORY_SHARE.iter().enumerate() {
            if u < *share
                && let Some((d, c)) = self.categories.get(i)
            {
                return (d, c);
            }
            u = u.saturating_sub(*share);
        }
        let (d, c) = &self.categories[0];
        (d, c)
    }

    /// Case number `i`, filed at a random instant of the last `days` days
    /// before `now` and taken as far as its drawn story goes by `now`.
    pub fn row(
        &self,
        i: usize,
        rng: &mut StdRng,
        vault: &Vault,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) -> anyhow::Result<redress_store::CaseRow> {
        // Filed at any time of the period, more by day than by night.
        let day = rng.gen_range(0..self.days);
        let minute = if rng.gen_bool(0.8) {
            rng.gen_range(8 * 60..22 * 60)
        } else {
            rng.gen_range(0..24 * 60)
        };
        let created =
            now - Duration::days(day + 1) + Duration::minutes(minute) - Duration::hours(8);
        let created = created.min(now - Duration::minutes(1));
        let respondent = self.respondent(rng);
        let (department, category) = self.category(rng);
        let channel = match rng.gen_range(0..100) {
            0..=59 => Channel::Web,
            60..=74 => Channel::Api,
            75..=84 => Channel::Email,
            85..=94 => Channel::Phone,
            95..=97 => Channel::Chat,
            _ => Channel::Letter,
        };
        let subject = [
            "申请退款被拒绝",
            "快递一直未送达",
            "商品与描述不符",
            "Counterfeit headphones",
            "账号被盗用",
            "虚假宣传",
        ][i % 6];
        let registration = json!({
            "complainant": {"name": format!("用户{i}"), "email": format!("user{i}@example.com"),
                            "phone": format!("139{:08}", i % 100_000_000)},
            "respondent": {"kind": "merchant", "id": format!("shop-{respondent}"),
                           "name": format!("商家{respondent}")},
            "subject": subject,
            "description": format!("订单{i}已取消，但商家拒绝退款，快递也没有退回。The merchant refuses a refund for order {i}."),
            "demands": "全额退款",
        });
        let input = redress_domain::parse_registration(&registration, created)
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let ctx_at = |at: DateTime<Utc>| Ctx {
            now: at,
            calendar,
            policy: &self.policy,
            actor: redress_domain::Actor::system("bench"),
        };
        let (mut case, _) = Case::register(
            uuid::Uuid::now_v7(),
            format!("RDGEN-{i:08}"),
            input,
            channel,
            vec![],
            &ctx_at(created),
        );
        case.locale = Locale::ZhCn;
        let handler = StaffRef {
            username: "handler".into(),
            level: 1,
            departments: vec![department.to_string()],
            independent: false,
            roles: vec![Role::Handler],
        };
        let reviewer = StaffRef {
            username: "reviewer".into(),
            level: 2,
            departments: vec![],
            independent: true,
            roles: vec![Role::Reviewer],
        };
        // Working days after an instant (24-hour working days).
        let after = |from: DateTime<Utc>, wd: f64| {
            calendar.after_working_seconds(from, (wd * 86_400.0) as i64)
        };
        let story = rng.gen_range(0..1000);
        let intake_at = after(created, rng.gen_range(0.0..3.0));
        let mut t = intake_at;
        // 3 %: withdrawn before any decision at intake.
        if story < 30 {
            if t <= now {
                let _ = case.withdraw(Some("已自行解决"), &ctx_at(t));
            }
            return self.finish(case, vault, calendar, now);
        }
        // 6 %: material asked for; 40 % of those lapse, others supply it.
        if story < 90 {
            if t > now {
                return self.finish(case, vault, calendar, now);
            }
            let _ = case.request_info(vec!["订单截图".into()], None, &ctx_at(t));
            if rng.gen_bool(0.4) {
                if let Some(due) = case.deadlines.supplement_due_at
                    && due + Duration::minutes(5) <= now
                {
                    let _ = case.lapse(&ctx_at(due + Duration::minutes(5)));
                }
                return self.finish(case, vault, calendar, now);
            }
            t = after(t, rng.gen_range(0.2..4.0));
            if t > now {
                return self.finish(case, vault, calendar, now);
            }
            let _ = case.supplement(Some("截图已上传".into()), &ctx_at(t));
            t = after(t, rng.gen_range(0.0..2.0));
        }
        // 5 %: refused.
        if (90..140).contains(&story) {
            if t <= now {
                let _ = case.reject("不属于受理范围", "请联系平台客服", &ctx_at(t));
            }
            return self.finish(case, vault, calendar, now);
        }
        if t > now {
            return self.finish(case, vault, calendar, now);
        }
        let _ = case.accept(category, department, Default::default(), &ctx_at(t));
        let accepted = t;
        // Most respondents reply, a few late.
        if rng.gen_bool(0.8) {
            let at = after(accepted, rng.gen_range(0.1..5.0));
            if at <= now {
                let _ = case.add_message(
                    Audience::Internal,
                    ActorKind::Respondent,
                    "我们已联系客户处理。",
                    &ctx_at(at),
                );
            }
        }
        // 2 %: withdrawn while handled; 3 %: stuck past the deadline.
        if (140..160).contains(&story) {
            let at = after(accepted, rng.gen_range(0.5..10.0));
            if at <= now {
                let _ = case.withdraw(Some("已和商家和解"), &ctx_at(at));
            }
            return self.finish(case, vault, calendar, now);
        }
        if (160..190).contains(&story) {
            return self.finish(case, vault, calendar, now);
        }
        // Decided within 1–20 working days (a few later than the 15 allowed).
        t = after(accepted, rng.gen_range(1.0..20.0));
        if t > now {
            return self.finish(case, vault, calendar, now);
        }
        let outcome = match rng.gen_range(0..100) {
            0..=34 => Outcome::Upheld,
            35..=54 => Outcome::PartiallyUpheld,
            55..=89 => Outcome::NotUpheld,
            _ => Outcome::Settled,
        };
        let _ = case.decide(
            outcome,
            vec!["平台规则第3条".into()],
            "经核实，处理如下。",
            vec![],
            vec![],
            vec![],
            &handler,
            15,
            &ctx_at(t),
        );
        let decided = t;
        // 5 % appealed within the window, reviewed within 1–10 working days.
        if rng.gen_bool(0.05) {
            let at = after(decided, rng.gen_range(0.1..2.0));
            if at > now {
                return self.finish(case, vault, calendar, now);
            }
            let _ = case.appeal("对处理结果不满意", &ctx_at(at));
            let at = after(at, rng.gen_range(1.0..10.0));
            if at > now {
                return self.finish(case, vault, calendar, now);
            }
            let modified = rng.gen_bool(0.3);
            let _ = case.review(
                if modified {
                    ReviewResult::Modified
                } else {
                    ReviewResult::Upheld
                },
                vec!["复核意见".into()],
                "复核完成。",
                ReviewChange {
                    outcome: modified.then_some(Outcome::Upheld),
                    ..ReviewChange::default()
                },
                &reviewer,
                15,
                &ctx_at(at),
            );
            t = at;
        } else if let Some(due) = case.deadlines.appeal_due_at
            && due + Duration::minutes(5) <= now
        {
            t = due + Duration::minutes(5);
            let _ = case.close_after_appeal_window(&ctx_at(t));
        }
        // 30 % rate the result.
        if rng.gen_bool(0.3) {
            let at = t + Duration::hours(rng.gen_range(1..72));
            if at <= now {
                let _ = case.rate(rng.gen_range(1..=5), None, &ctx_at(at));
            }
        }
        self.finish(case, vault, calendar, now)
    }

    /// Flags a staff deadline passed by `now` (as the sweep would have)
    /// and builds the stored row as the application does.
    fn finish(
        &self,
        mut case: Case,
        vault: &Vault,
        calendar: &Calendar,
        now: DateTime<Utc>,
    ) -> anyhow::Result<redress_store::CaseRow> {
        let ctx = Ctx {
            now,
            calendar,
            policy: &self.policy,
            actor: redress_domain::Actor::system("bench"),
        };
        let _ = case.flag_overdue(&ctx);
        let sweep_at = case.sweep_at(&self.policy, calendar);
        let sealing = redress_app::stored::new_sealing(vault, case.id);
        let mut row =
            redress_app::stored::to_row(&case, "0", None, 0, vault, Some(&sealing), sweep_at)?;
        row.report.zone = Some(calendar.tz().name().to_string());
        Ok(row)
    }
}
