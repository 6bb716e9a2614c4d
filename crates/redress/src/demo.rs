//! `redress serve --demo`: sample cases in every state, so that a newcomer
//! sees the whole process at once. Filed through the same use cases as
//! real work, by a demo intake agent, handler and reviewer.

use std::sync::Arc;

use redress_app::commands::{
    AcceptCommand, AppealCommand, DecideCommand, RejectCommand, RequestInfoCommand, ReviewCommand,
};
use redress_app::{App, Principal, StaffUser};
use redress_domain::{Measure, Outcome, ReviewChange, ReviewResult, Role};
use serde_json::json;

async fn staff(
    app: &App,
    username: &str,
    roles: Vec<Role>,
    departments: Vec<String>,
    level: i32,
) -> anyhow::Result<Principal> {
    let user = match app.store.get_user_by_username(username).await? {
        Some(u) => u,
        None => {
            let u = app
                .new_user(
                    username.into(),
                    format!("Demo {username}"),
                    redress_app::privacy::new_token(""),
                    roles,
                    departments,
                    level,
                )
                .await?;
            app.add_user(u.clone(), "system:demo").await?;
            u
        }
    };
    Ok(Principal::Staff(StaffUser {
        user,
        independent: false,
    }))
}

fn sample(i: usize) -> serde_json::Value {
    let subjects = [
        (
            "申请退款被拒绝",
            "订单已取消，但商家拒绝退款。",
            "refunds-returns",
        ),
        (
            "快递一直未送达",
            "快递显示已签收，但我没有收到包裹。",
            "delivery",
        ),
        (
            "商品与描述不符",
            "收到的手机颜色和型号都与页面描述不同。",
            "not-as-described",
        ),
        (
            "Counterfeit headphones",
            "The headphones I received are counterfeit.",
            "goods-quality",
        ),
        (
            "账号被盗用",
            "我的账号在异地登录并下单。",
            "account-security",
        ),
        (
            "虚假宣传",
            "商品页面宣称的功效与实际不符。",
            "false-advertising",
        ),
    ];
    let (subject, description, _) = subjects[i % subjects.len()];
    json!({
        "complainant": {"name": format!("演示用户{i}"), "email": format!("demo{i}@example.com"), "phone": format!("1380013{:04}", i)},
        "respondent": {"kind": "merchant", "id": format!("shop-{}", i % 3), "name": format!("演示商家{}", i % 3)},
        "subject": subject,
        "description": description,
        "demands": "退款并道歉",
        "channel": "phone",
    })
}

/// Files the demo cases; returns how many.
pub async fn fill(app: &Arc<App>) -> anyhow::Result<usize> {
    let intake = staff(app, "demo-intake", vec![Role::Intake], vec![], 1).await?;
    let depts: Vec<String> = app
        .store
        .list_departments()
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let handler = staff(app, "demo-handler", vec![Role::Handler], depts.clone(), 1).await?;
    let reviewer = staff(app, "demo-reviewer", vec![Role::Reviewer], depts, 5).await?;
    let categories = [
        "refunds-returns",
        "delivery",
        "not-as-described",
        "goods-quality",
        "account-security",
        "false-advertising",
    ];
    let e = |r: redress_app::AppError| anyhow::anyhow!("{r}");
    let mut n = 0;
    for i in 0..7 {
        let r = app
            .register(&intake, &sample(i), &format!("demo{i}"), None, None)
            .await
            .map_err(e)?;
        n += 1;
        let id: uuid::Uuid = serde_json::from_value(r.body["id"].clone())?;
        let no = r.body["tracking_no"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let token = r.body["access_token"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let accept = AcceptCommand {
            category: categories[i % categories.len()].into(),
            department: None,
        };
        let measure = |kind: &str| Measure {
            kind: kind.into(),
            description: None,
            amount: None,
            currency: None,
            duration_days: None,
        };
        let decide = DecideCommand {
            outcome: Outcome::Upheld,
            basis: vec!["《平台服务协议》第5.2条".into()],
            reply: "经核查，您的投诉成立，商家将全额退款。".into(),
            remedies: vec![Measure {
                amount: Some(199.0),
                currency: Some("CNY".into()),
                ..measure("refund")
            }],
            sanctions: vec![measure("warning")],
            actions: vec![],
        };
        let appeal = AppealCommand {
            reason: "退款金额不足".into(),
        };
        match i {
            0 => {} // submitted
            1 => {
                let ask = RequestInfoCommand {
                    items: vec!["订单截图".into(), "聊天记录".into()],
                    due_days: None,
                };
                app.request_info(&intake, id, &ask).await.map_err(e)?;
            }
            2 => {
                app.accept(&intake, id, &accept).await.map_err(e)?;
            }
            3 => {
                app.accept(&intake, id, &accept).await.map_err(e)?;
                app.decide(&handler, id, &decide).await.map_err(e)?;
            }
            4 => {
                app.accept(&intake, id, &accept).await.map_err(e)?;
                app.decide(&handler, id, &decide).await.map_err(e)?;
                app.appeal(&no, Some(&token), &appeal).await.map_err(e)?;
            }
            5 => {
                app.accept(&intake, id, &accept).await.map_err(e)?;
                app.decide(&handler, id, &decide).await.map_err(e)?;
                app.appeal(&no, Some(&token), &appeal).await.map_err(e)?;
                let review = ReviewCommand {
                    result: ReviewResult::Upheld,
                    basis: vec!["《平台服务协议》第5.2条".into()],
                    reply: "复核维持原处理结果。".into(),
                    change: ReviewChange::default(),
                };
                app.review(&reviewer, id, &review).await.map_err(e)?;
            }
            _ => {
                let reject = RejectCommand {
                    reason: "不属于平台受理范围".into(),
                    guidance: "请联系当地市场监管部门（12315）".into(),
                };
                app.reject(&intake, id, &reject).await.map_err(e)?;
            }
        }
    }
    Ok(n)
}
