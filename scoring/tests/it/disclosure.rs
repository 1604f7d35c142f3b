//! The account manager's attack, played out: an adversarial solver collects every report a
//! role other than admin can get (every breakdown, before and after each new answer, with
//! answers of their own injected), works out which protected answers lie behind each figure,
//! and tries to isolate one of them by arithmetic: a figure over fewer than `k` protected
//! answers, the difference of two figures, a total minus the groups shown, or any other
//! linear combination of the figures (exact rank tests over two large prime fields).
//!
//! Which answers lie behind a figure is found from the numbers themselves, not from the
//! release's own bookkeeping: each real protected answer in turn is changed (keeping its 0–10
//! answer in the same category, so no group changes members), every report is computed
//! again, and the figures that moved are the ones that answer is behind.
//!
//! On generated programmes with small groups the solver must find nothing behind
//! [`disclosure::release`], and it must find the attacks on reports computed the way they
//! were before it (live aggregates, injected answers counted), so it can fail. The same
//! holds when the answers are split between two survey versions and the reader gets each
//! version's reports and the reports over both (which, released with any other batch size
//! than the version's own, the solver breaks).

use std::collections::{BTreeMap, BTreeSet};

use rapport_scoring::disclosure::{self, Arrival};
use rapport_scoring::ids::{OptionId, QuestionId};
use rapport_scoring::report::span_versions;
use rapport_scoring::validate::{Answers, NpsAnswer, Rating};
use rapport_scoring::wire::{ConfidentialityChoice, Context};
use rapport_scoring::{
    FieldPair, Report, ReportInput, ReportOptions, ResponseRecord, SegmentField, SurveyDefinition,
    report_of, template,
};

use super::solver::{
    self, ACCOUNTS, ELEMENTS, Finding, ROLES, Rng, other_rating, same_category_other, solve,
};

const BREAKDOWNS: [Option<&str>; 10] = [
    None,
    Some("account"),
    Some("matter"),
    Some("wave"),
    Some("returning"),
    Some("confidentiality"),
    Some("nps-category"),
    Some("role"),
    Some("account:confidentiality"),
    Some("returning:confidentiality"),
];

/// A generated programme: responses in the order they arrive, and which of them are the
/// real protected answers the attacker wants.
struct Programme {
    definition: SurveyDefinition,
    records: Vec<ResponseRecord>,
    victims: Vec<usize>,
}

fn answers(rng: &mut Rng) -> Answers {
    let mut answers = Answers {
        nps: Some(NpsAnswer::try_from(rng.below(11) as u8).unwrap()),
        ..Answers::default()
    };
    for element in ELEMENTS {
        answers.ratings.insert(
            QuestionId::new(element).unwrap(),
            Rating::try_from(1 + rng.below(7) as u8).unwrap(),
        );
    }
    answers.choices.insert(
        QuestionId::new("role").unwrap(),
        vec![OptionId::new(ROLES[rng.below(3) as usize]).unwrap()],
    );
    answers
}

/// The same answers with a different 0–10 answer of the same category and every rating
/// changed: every figure it is counted in moves, and no breakdown group changes members.
fn perturbed(answers: &Answers) -> Answers {
    let mut changed = answers.clone();
    let other = same_category_other(answers.nps.unwrap().get());
    changed.nps = Some(NpsAnswer::try_from(other).unwrap());
    for rating in changed.ratings.values_mut() {
        *rating = Rating::try_from(other_rating(rating.get())).unwrap();
    }
    changed
}

/// Three accounts, two matters each, two waves; per account some identified answers, a few
/// real protected answers (1 to 4, or enough for a batch or two), and protected answers the
/// attacker posts without an invitation, all arriving in a random order.
fn programme(seed: u64) -> Programme {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut records = Vec::new();
    let mut kinds = Vec::new();
    for (account_idx, account) in ACCOUNTS.iter().enumerate() {
        let n_protected = if rng.below(2) == 0 {
            1 + rng.below(4)
        } else {
            5 + rng.below(8)
        };
        let n_identified = 2 + rng.below(6);
        let n_injected = rng.below(5);
        for (kind, n) in [(0, n_identified), (1, n_protected), (2, n_injected)] {
            for person in 0..n {
                let (confidentiality, arrival) = match kind {
                    0 => (ConfidentialityChoice::Identified, Arrival::Invitation),
                    1 => (ConfidentialityChoice::Confidential, Arrival::Invitation),
                    _ => (ConfidentialityChoice::Confidential, Arrival::Unverified),
                };
                records.push(ResponseRecord {
                    answers: answers(&mut rng),
                    confidentiality,
                    context: Context {
                        account: Some((*account).to_owned()),
                        matter: Some(format!("{account}-matter-{}", rng.below(2))),
                        wave: Some(format!("2026-w{}", 1 + rng.below(2))),
                        returning: None,
                    },
                    respondent_key: Some(format!("{account_idx}-{kind}-{}", person % 3)),
                    arrival,
                });
                kinds.push(kind);
            }
        }
    }
    // Arrival order: a random shuffle.
    let mut order: Vec<usize> = (0..records.len()).collect();
    for idx in (1..order.len()).rev() {
        order.swap(idx, rng.below(idx as u64 + 1) as usize);
    }
    let records: Vec<ResponseRecord> = order.iter().map(|idx| records[*idx].clone()).collect();
    let victims = order
        .iter()
        .enumerate()
        .filter(|(_, idx)| kinds[**idx] == 1)
        .map(|(position, _)| position)
        .collect();
    Programme {
        definition: template("client-portal").unwrap(),
        records,
        victims,
    }
}

/// Who reads the reports, and how the reports are made for them.
#[derive(Clone, Copy, PartialEq)]
enum Mechanism {
    /// Through `disclosure::release`, as the server does for every role but admin.
    Released,
    /// Live aggregates over every row, as reports for viewers were made before.
    LiveViewer,
    /// Account reports as they were made before: protected answers counted (injected ones
    /// too) once the account holds at least `k` of them, breakdown groups holding a few of
    /// them shown as counts only.
    LiveAccount,
}

/// What one reader sees of the first `t` responses: `(scope, input)` pairs.
fn views(
    definition: &SurveyDefinition,
    all: &ReportInput,
    mechanism: Mechanism,
) -> Vec<(String, ReportInput)> {
    let k = definition.min_group_size;
    let mut views = Vec::new();
    match mechanism {
        Mechanism::Released => {
            let release = disclosure::release(all, k);
            views.push(("viewer".to_owned(), release.visible().clone()));
            for account in ACCOUNTS {
                let mine = release
                    .visible()
                    .filter(|input, row| input.account(row) == Some(account));
                views.push((format!("account {account}"), mine));
            }
        }
        Mechanism::LiveViewer => views.push(("viewer".to_owned(), all.clone())),
        Mechanism::LiveAccount => {
            for account in ACCOUNTS {
                let mine = all.filter(|input, row| input.account(row) == Some(account));
                let n_protected = (0..mine.len())
                    .filter(|row| disclosure::is_protected(mine.confidentiality(*row)))
                    .count();
                let mine = if n_protected < k as usize {
                    mine.filter(|input, row| !disclosure::is_protected(input.confidentiality(row)))
                } else {
                    mine
                };
                views.push((format!("account {account}"), mine));
            }
        }
    }
    views
}

/// Every figure of a report, keyed by where it appears, as JSON.
fn figures(report: &Report, key: &str, out: &mut BTreeMap<String, String>) {
    out.insert(
        format!("{key}/overall"),
        serde_json::to_string(&report.overall).unwrap(),
    );
    for segmentation in &report.segments {
        for group in &segmentation.groups {
            if let Some(figures) = &group.figures {
                out.insert(
                    format!("{key}/{}={}", segmentation.field, group.value),
                    serde_json::to_string(figures).unwrap(),
                );
            }
        }
    }
    for crossing in &report.crossings {
        let field = format!("{}:{}", crossing.first, crossing.second);
        for cell in &crossing.groups {
            if let Some(figures) = &cell.figures {
                out.insert(
                    format!("{key}/{field}={}:{}", cell.first, cell.second),
                    serde_json::to_string(figures).unwrap(),
                );
            }
        }
        for comparison in &crossing.comparisons {
            out.insert(
                format!(
                    "{key}/{field}={}:{}-{}",
                    comparison.within, comparison.first, comparison.second
                ),
                serde_json::to_string(comparison).unwrap(),
            );
        }
    }
    if let Some(comparison) = &report.confidentiality_comparison {
        out.insert(
            format!("{key}/comparison"),
            serde_json::to_string(comparison).unwrap(),
        );
    }
    for (idx, comparison) in report.wave_comparisons.iter().enumerate() {
        for group in &comparison.groups {
            out.insert(
                format!("{key}/waves{idx}/{}", group.choice.as_str()),
                serde_json::to_string(group).unwrap(),
            );
        }
    }
}

/// Every figure the reader gets over the whole programme: each breakdown of each view,
/// after each response arrives. Groups a live account report would hide are left out.
fn collect(
    programme: &Programme,
    mechanism: Mechanism,
    changed: Option<usize>,
) -> BTreeMap<String, String> {
    let definition = &programme.definition;
    let k = u64::from(definition.min_group_size);
    let mut all = ReportInput::new(definition);
    for (idx, record) in programme.records.iter().enumerate() {
        if Some(idx) == changed {
            let mut record = record.clone();
            record.answers = perturbed(&record.answers);
            all.push_record(&record);
        } else {
            all.push_record(record);
        }
    }
    let mut out = BTreeMap::new();
    for t in 1..=all.len() {
        let prefix = all.filter(|_, row| row < t);
        for (scope, input) in views(definition, &prefix, mechanism) {
            if (input.len() as u64) < k {
                continue;
            }
            every_breakdown(
                definition,
                &input,
                mechanism,
                &format!("t{t}/{scope}"),
                &mut out,
            );
        }
    }
    out
}

/// The figures of `input` under every breakdown, keyed from `key`.
fn every_breakdown(
    definition: &SurveyDefinition,
    input: &ReportInput,
    mechanism: Mechanism,
    key: &str,
    out: &mut BTreeMap<String, String>,
) {
    for by in BREAKDOWNS {
        let (segments, crossings) = match by {
            Some(pair) if FieldPair::split(pair).is_some() => (
                Vec::new(),
                vec![FieldPair::parse(definition, pair).unwrap()],
            ),
            Some(field) => (
                vec![SegmentField::parse(definition, field).unwrap()],
                Vec::new(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        let mut report = report_of(
            definition,
            input,
            &ReportOptions {
                segments: segments.clone(),
                min_group_size: None,
                crossings,
            },
        );
        if mechanism == Mechanism::LiveAccount {
            hide_groups_with_few_protected(definition, input, &segments, &mut report);
        }
        figures(&report, &format!("{key}/by {by:?}"), out);
    }
}

/// Version 2 of the programme's survey, without the element `satisfaction`, so that a
/// report over both versions carries answers by question id.
fn version_two(definition: &SurveyDefinition) -> SurveyDefinition {
    let mut two = definition.clone();
    two.version = 2;
    two.questions
        .retain(|question| question.id().as_str() != "satisfaction");
    two.validate().unwrap();
    two
}

/// Which version the `idx`-th response answered: one in three the first, interleaved, as
/// when invitations to the first version are still answered after the second is out.
fn answered_version(idx: usize) -> u32 {
    if idx.is_multiple_of(3) { 1 } else { 2 }
}

/// Every figure a viewer and each account manager get when the programme's answers are
/// split between two versions: each version's reports on its own release, and the report
/// over both ([`span_versions`] of the two releases), under every breakdown, after each
/// response arrives.
fn collect_across_versions(
    programme: &Programme,
    changed: Option<usize>,
) -> BTreeMap<String, String> {
    let one = &programme.definition;
    let two = version_two(one);
    let k = one.min_group_size;
    let mut out = BTreeMap::new();
    for t in 1..=programme.records.len() {
        let (mut first, mut second) = (ReportInput::new(one), ReportInput::new(&two));
        for (idx, record) in programme.records.iter().take(t).enumerate() {
            let mut record = record.clone();
            if Some(idx) == changed {
                record.answers = perturbed(&record.answers);
            }
            match answered_version(idx) {
                1 => first.push_record(&record),
                _ => second.push_record(&record),
            }
        }
        let (first, second) = (
            disclosure::release(&first, k),
            disclosure::release(&second, k),
        );
        let both =
            span_versions(&two, &[(one, first.visible()), (&two, second.visible())]).unwrap();
        let readers = std::iter::once(("viewer".to_owned(), None)).chain(
            ACCOUNTS
                .iter()
                .map(|account| (format!("account {account}"), Some(*account))),
        );
        for (reader, account) in readers {
            let mine = |input: &ReportInput| match account {
                None => input.clone(),
                Some(account) => input.filter(|input, row| input.account(row) == Some(account)),
            };
            for (version, definition, input) in [
                ("v1", one, mine(first.visible())),
                ("v2", &two, mine(second.visible())),
                ("v1+v2", &two, mine(&both)),
            ] {
                if input.len() < k as usize {
                    continue;
                }
                let key = format!("t{t}/{reader}/{version}");
                every_breakdown(definition, &input, Mechanism::Released, &key, &mut out);
            }
        }
    }
    out
}

/// The suppression account reports had before: groups holding 1 to k − 1 protected answers
/// show counts only.
fn hide_groups_with_few_protected(
    definition: &SurveyDefinition,
    input: &ReportInput,
    segments: &[SegmentField],
    report: &mut Report,
) {
    let protected = input.filter(|input, row| disclosure::is_protected(input.confidentiality(row)));
    let breakdown = report_of(
        definition,
        &protected,
        &ReportOptions {
            segments: segments.to_vec(),
            min_group_size: Some(1),
            crossings: Vec::new(),
        },
    );
    for (segmentation, protected) in report.segments.iter_mut().zip(&breakdown.segments) {
        for group in &mut segmentation.groups {
            let n = protected
                .groups
                .iter()
                .find(|other| other.value == group.value)
                .map_or(0, |other| other.n);
            if n > 0 && n < u64::from(definition.min_group_size) {
                group.figures = None;
            }
        }
    }
}

/// For each figure, the real protected answers behind it: those whose change moves it.
fn answer_sets(programme: &Programme, mechanism: Mechanism) -> Vec<BTreeSet<usize>> {
    let base = collect(programme, mechanism, None);
    let changed: Vec<_> = programme
        .victims
        .iter()
        .map(|victim| collect(programme, mechanism, Some(*victim)))
        .collect();
    solver::answer_sets(&base, &changed)
}

const SEEDS: std::ops::Range<u64> = 1..7;

#[test]
fn the_solver_recovers_nothing_from_released_reports() {
    let mut figures_with_protected_answers = 0;
    for seed in SEEDS {
        let programme = programme(seed);
        let k = programme.definition.min_group_size as usize;
        let sets = answer_sets(&programme, Mechanism::Released);
        let findings = solve(&sets, programme.victims.len(), k);
        assert!(
            findings.is_empty(),
            "seed {seed}: the solver isolated protected answers: {:?}",
            findings.iter().map(Finding::isolated).collect::<Vec<_>>()
        );
        figures_with_protected_answers += sets.iter().filter(|set| !set.is_empty()).count();
    }
    // The check above would pass if nothing protected were ever shown: the generated
    // programmes must publish batches for the solver to work on.
    assert!(
        figures_with_protected_answers > 0,
        "no protected answer reached any released figure"
    );
}

#[test]
fn the_solver_recovers_nothing_from_reports_over_two_versions_beside_each_versions_own() {
    let mut figures_with_protected_answers = 0;
    for seed in 1..4 {
        let programme = programme(seed);
        let k = programme.definition.min_group_size as usize;
        let base = collect_across_versions(&programme, None);
        let changed: Vec<_> = programme
            .victims
            .iter()
            .map(|victim| collect_across_versions(&programme, Some(*victim)))
            .collect();
        let sets = solver::answer_sets(&base, &changed);
        let findings = solve(&sets, programme.victims.len(), k);
        assert!(
            findings.is_empty(),
            "seed {seed}: the solver isolated protected answers: {:?}",
            findings.iter().map(Finding::isolated).collect::<Vec<_>>()
        );
        // Figures over both versions that a real protected answer moves.
        figures_with_protected_answers += base
            .iter()
            .filter(|(key, value)| {
                key.contains("/v1+v2/")
                    && changed
                        .iter()
                        .any(|other| other.get(*key).is_some_and(|moved| moved != *value))
            })
            .count();
    }
    assert!(
        figures_with_protected_answers > 0,
        "no protected answer reached a figure over both versions"
    );
}

#[test]
fn the_solver_finds_the_attacks_on_live_viewer_reports() {
    for seed in SEEDS {
        let programme = programme(seed);
        let k = programme.definition.min_group_size as usize;
        let sets = answer_sets(&programme, Mechanism::LiveViewer);
        let findings = solve(&sets, programme.victims.len(), k);
        // Over time: two reports one answer apart differ by exactly that answer.
        assert!(
            findings
                .iter()
                .any(|finding| matches!(finding, Finding::Difference(1))),
            "seed {seed}: no one-answer difference found in live reports: {findings:?}"
        );
        assert!(
            findings
                .iter()
                .any(|finding| matches!(finding, Finding::Combination)),
            "seed {seed}: no single answer isolated by a combination: {findings:?}"
        );
    }
}

#[test]
fn the_solver_finds_the_injection_attack_on_live_account_reports() {
    // Before, an account's protected answers were shown once there were k of them, counting
    // answers anyone could post: with a few known answers injected, one real answer is the
    // difference of two reports.
    let mut found = 0;
    for seed in SEEDS {
        let programme = programme(seed);
        let k = programme.definition.min_group_size as usize;
        let sets = answer_sets(&programme, Mechanism::LiveAccount);
        found += solve(&sets, programme.victims.len(), k).len();
    }
    assert!(found > 0, "the live account reports gave nothing away");
}
