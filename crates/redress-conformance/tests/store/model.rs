//! Near-duplicate candidates (`case_texts`: by filter, within the
//! visibility, newest filed first, bounded) and the category model's
//! counts (`learn_category`, `category_model`), which must agree with the
//! domain's rule (`redress_domain::suggest::Model`).

use std::collections::BTreeSet;
use std::sync::Arc;

use redress_domain::suggest::{MIN_TOKEN_CASES, Model, ModelView};
use redress_store::{CaseFilter, LearntToken, Store, Visibility};

use crate::harness::{case, t};

fn tokens(words: &[&str]) -> BTreeSet<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn learnt(words: &BTreeSet<String>) -> Vec<LearntToken> {
    words
        .iter()
        .map(|w| LearntToken {
            token: w.clone(),
            hash: format!("h:{w}"),
        })
        .collect()
}

fn sorted(mut v: ModelView) -> ModelView {
    v.counts.sort();
    v.categories.sort_by(|a, b| a.category.cmp(&b.category));
    v
}

pub async fn the_model_counts_as_the_domain_rule_does(s: Arc<dyn Store>) {
    let cases: Vec<(&str, BTreeSet<String>)> = vec![
        ("delivery", tokens(&["快递", "没有", "张三"])),
        ("delivery", tokens(&["快递", "丢失"])),
        ("refunds-returns", tokens(&["退款", "没有"])),
        ("delivery", tokens(&["快递", "没有", "丢失"])),
        ("refunds-returns", tokens(&["退款", "快递", "丢失"])),
        ("refunds-returns", tokens(&["退款"])),
    ];
    let mut model = Model::default();
    for (category, words) in &cases {
        model.learn(category, words);
        s.learn_category(category.to_string(), learnt(words), MIN_TOKEN_CASES)
            .await
            .unwrap();
    }
    let asked = tokens(&["快递", "没有", "张三", "退款", "丢失", "别的"]);
    let stored = sorted(
        s.category_model(asked.iter().cloned().collect())
            .await
            .unwrap(),
    );
    assert_eq!(stored, sorted(model.view(&asked)));
    // 张三 was seen in one case only: never counted.
    assert!(stored.counts.iter().all(|(_, t, _)| t != "张三"));
    // 快递: seen in cases 1, 2, 4, 5: counted from the third on.
    let n = |c: &str, w: &str| {
        stored
            .counts
            .iter()
            .find(|(cat, t, _)| cat == c && t == w)
            .map(|x| x.2)
    };
    assert_eq!(n("delivery", "快递"), Some(1));
    assert_eq!(n("refunds-returns", "快递"), Some(1));
    assert_eq!(stored.vocabulary, 4, "快递, 没有, 丢失, 退款: {stored:?}");
    assert_eq!(stored.categories[0].cases, 3);
    // Only the tokens asked for.
    let one = s.category_model(vec!["退款".into()]).await.unwrap();
    assert!(one.counts.iter().all(|(_, t, _)| t == "退款") && !one.counts.is_empty());
}

pub async fn case_texts_are_found_by_filter_within_the_visibility(s: Arc<dyn Store>) {
    let mut rows = Vec::new();
    for n in 1..=6 {
        let mut r = case(n);
        r.search_tokens = format!("n{n} 丢失 快递");
        match n {
            // Another respondent, same category.
            4 => r.respondent_key = Some("merchant:m2".into()),
            // Another respondent and category.
            5 => {
                r.respondent_key = Some("merchant:m2".into());
                r.category = Some("pricing".into());
            }
            // Another department.
            6 => r.department = Some("legal".into()),
            _ => {}
        }
        s.insert_case(r.clone(), vec![], None).await.unwrap();
        rows.push(r);
    }
    let by_respondent = CaseFilter {
        respondent_key: Some("merchant:m1".into()),
        filed_from: Some(t(2)),
        filed_before: Some(t(100)),
        ..CaseFilter::default()
    };
    let by_category = CaseFilter {
        category: Some("delivery".into()),
        filed_from: Some(t(0)),
        filed_before: Some(t(100)),
        ..CaseFilter::default()
    };
    let found = s
        .case_texts(
            &Visibility::All,
            vec![by_respondent.clone(), by_category.clone()],
            10,
        )
        .await
        .unwrap();
    let nos: Vec<&str> = found.iter().map(|c| c.tracking_no.as_str()).collect();
    // By respondent (filed from t(2)), newest first: 6, 3, 2; then by
    // category, those not found yet: 4, 1.
    assert_eq!(
        nos,
        [
            "TS00000006",
            "TS00000003",
            "TS00000002",
            "TS00000004",
            "TS00000001"
        ]
    );
    let six = &found[0];
    assert_eq!(six.id, rows[5].id);
    assert_eq!(six.search_tokens, "n6 丢失 快递");
    assert_eq!(six.subject, "case 6");
    assert_eq!(six.created_at, t(6));
    assert_eq!(six.respondent_key.as_deref(), Some("merchant:m1"));
    assert_eq!(six.respondent_name.as_deref(), Some("Shop One"));

    // At most `limit` per filter, the newest.
    let found = s
        .case_texts(&Visibility::All, vec![by_category.clone()], 2)
        .await
        .unwrap();
    let nos: Vec<&str> = found.iter().map(|c| c.tracking_no.as_str()).collect();
    assert_eq!(nos, ["TS00000006", "TS00000004"]);

    // A handler of `ops` does not see the case of `legal`.
    let ops = Visibility::Departments {
        departments: vec!["ops".into()],
        reviewer: None,
    };
    let found = s
        .case_texts(&ops, vec![by_respondent, by_category], 10)
        .await
        .unwrap();
    let nos: Vec<&str> = found.iter().map(|c| c.tracking_no.as_str()).collect();
    assert_eq!(
        nos,
        ["TS00000003", "TS00000002", "TS00000004", "TS00000001"]
    );
}
