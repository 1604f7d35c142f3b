//! A whole report over one million responses held in memory as a [`ReportInput`]: what a
//! server answers once a survey version's columns are read. Beside it, in the same run,
//! the NPS and CRQ tally alone over the same observations, the part every report needs.
//! Run with `cargo bench -p rapport-scoring --bench report`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rapport_scoring::aggregate::Tally;
use rapport_scoring::report::{
    ReportInput, ReportOptions, ResponseRecord, SegmentField, report_of,
};
use rapport_scoring::validate::{Answers, NpsAnswer, Rating};
use rapport_scoring::wire::{ConfidentialityChoice, Context};
use rapport_scoring::{QuestionId, Scorer, template};

const N_RESPONSES: usize = 1_000_000;
const ELEMENTS: [&str; 7] = [
    "trust",
    "commitment",
    "satisfaction",
    "uniqueness",
    "reliability",
    "responsiveness",
    "care",
];
const STRENGTHS: [&str; 3] = [
    "Quick answers and responsive people",
    "Deep expertise in our sector",
    "Reliable delivery",
];
const WEAKNESSES: [&str; 3] = [
    "Invoices are hard to read",
    "Slow to reply in the summer",
    "Communication could be clearer",
];
const ROLES: [&str; 3] = ["decision-maker", "day-to-day", "operational"];

/// The report columns of [`each_record`]'s responses.
fn input() -> ReportInput {
    let definition = template("client-portal").expect("built-in template");
    let mut input = ReportInput::new(&definition);
    each_record(|record| input.push_record(record));
    input
}

/// Calls `f` with each of a million responses shaped like the server benchmark's: 500
/// accounts, 200,000 respondents, two waves, 80% of ratings given, a role for 70%, texts
/// for some.
fn each_record(mut f: impl FnMut(&ResponseRecord)) {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |below: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    for _ in 0..N_RESPONSES {
        let mut answers = Answers {
            nps: NpsAnswer::try_from(next(11) as u8).ok(),
            ..Answers::default()
        };
        for element in ELEMENTS {
            if next(10) < 8 {
                answers.ratings.insert(
                    QuestionId::new(element).expect("id"),
                    Rating::try_from(1 + next(7) as u8).expect("rating"),
                );
            }
        }
        if next(10) < 6 {
            answers.texts.insert(
                QuestionId::new("strength").expect("id"),
                STRENGTHS[next(3) as usize].to_owned(),
            );
        }
        if next(10) < 4 {
            answers.texts.insert(
                QuestionId::new("weakness").expect("id"),
                WEAKNESSES[next(3) as usize].to_owned(),
            );
        }
        if next(10) < 7 {
            answers.choices.insert(
                QuestionId::new("role").expect("id"),
                vec![rapport_scoring::ids::OptionId::new(ROLES[next(3) as usize]).expect("id")],
            );
        }
        let respondent = next(200_000);
        let record = ResponseRecord {
            answers,
            confidentiality: if next(100) < 45 {
                ConfidentialityChoice::Confidential
            } else {
                ConfidentialityChoice::Identified
            },
            context: Context {
                account: Some(format!("account-{:03}", respondent % 500)),
                wave: Some(["2026-h1", "2026-h2"][next(2) as usize].to_owned()),
                ..Context::default()
            },
            respondent_key: Some(format!("respondent-{respondent}")),
            arrival: rapport_scoring::disclosure::Arrival::Invitation,
        };
        f(&record);
    }
}

fn report(c: &mut Criterion) {
    let definition = template("client-portal").expect("built-in template");
    let scorer = Scorer::new(&definition);
    let input = input();
    let mut group = c.benchmark_group("report-1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N_RESPONSES as u64));
    group.bench_function("whole report", |b| {
        b.iter(|| black_box(report_of(&definition, &input, &ReportOptions::default())))
    });
    let by_account = ReportOptions {
        segments: vec![SegmentField::Account],
        ..ReportOptions::default()
    };
    group.bench_function("whole report, by account", |b| {
        b.iter(|| black_box(report_of(&definition, &input, &by_account)))
    });
    group.bench_function("one account's input", |b| {
        b.iter(|| black_box(input.filter(|input, row| input.account(row) == Some("account-007"))))
    });
    // What every report for a role other than admin adds: deciding the published batches
    // and copying the visible rows, then the viewer's whole report over them.
    group.bench_function("release for roles other than admin", |b| {
        b.iter(|| black_box(rapport_scoring::disclosure::release(&input, 5)))
    });
    let released = rapport_scoring::disclosure::release(&input, 5).into_visible();
    group.bench_function("whole report over the release, by account", |b| {
        b.iter(|| black_box(report_of(&definition, &released, &by_account)))
    });
    group.bench_function("tally alone", |b| {
        b.iter(|| {
            let mut tally = Tally::new(&scorer);
            for row in 0..input.len() {
                tally.add(&scorer, input.observation(row));
            }
            black_box(tally)
        })
    });
    group.finish();
}

/// The part of a cold read that is `scoring`'s: filling report columns from one million
/// stored report entries and their context, as the server's readers do row by row. The
/// respondent keys are 64 hex digits, as the server's keyed hashes are.
fn columns(c: &mut Criterion) {
    let definition = template("client-portal").expect("built-in template");
    let layout = rapport_scoring::entry::EntryLayout::new(&definition);
    let mut rows = Vec::with_capacity(N_RESPONSES);
    each_record(|record| {
        rows.push((
            layout.encode(&record.answers, record.confidentiality),
            record.context.account.clone(),
            record.context.wave.clone(),
            record
                .respondent_key
                .as_deref()
                .map(|key| format!("{:0>64}", key.trim_start_matches("respondent-"))),
        ));
    });
    let mut group = c.benchmark_group("columns-1m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N_RESPONSES as u64));
    // The columns of every row, appended one stored entry at a time as a server's reader does.
    let append_all = || {
        let mut input = ReportInput::new(&definition);
        for (entry, account, wave, respondent) in &rows {
            let context = rapport_scoring::EntryContext {
                account: account.as_deref(),
                wave: wave.as_deref(),
                respondent_key: respondent.as_deref(),
                arrival: rapport_scoring::disclosure::Arrival::Invitation,
                ..rapport_scoring::EntryContext::default()
            };
            input.push_entry(entry, context).expect("decodes");
        }
        input
    };
    group.bench_function("report columns from stored entries", |b| {
        b.iter(|| black_box(append_all()))
    });
    // What a start reads instead, once a server has stored the columns: the snapshot of the
    // same million rows, written and read back.
    let stored = append_all();
    let snapshot = stored.to_snapshot();
    group.bench_function("snapshot of the columns, written", |b| {
        b.iter(|| black_box(stored.to_snapshot()))
    });
    group.bench_function("snapshot of the columns, read back", |b| {
        b.iter(|| {
            black_box(ReportInput::from_snapshot(&definition, &snapshot).expect("reads back"))
        })
    });
    group.finish();
}

criterion_group!(benches, report, columns);
criterion_main!(benches);
