//! Emerging topics: a two-wave corpus checked by hand, stemming in the five template
//! languages, and the disclosure rules for roles other than admin.

use rapport_scoring::disclosure::RowRelease;
use rapport_scoring::emerging::{
    Audience, EmergingOptions, EmergingTerm, EmergingTopics, TextFigures, TextRow, Verbatims,
    emerging_topics,
};
use rapport_scoring::ids::Locale;
use rapport_scoring::template;
use rapport_scoring::wire::ConfidentialityChoice;
use rapport_scoring::{NpsCategory, SurveyDefinition};

fn definition() -> SurveyDefinition {
    template("client-portal").expect("the client-portal template exists")
}

/// An identified row with one weakness text.
fn weakness(wave: &str, category: NpsCategory, text: &str) -> TextRow {
    TextRow {
        wave: Some(wave.to_owned()),
        locale: Some(Locale::new("en").unwrap()),
        nps_category: Some(category),
        confidentiality: ConfidentialityChoice::Identified,
        release: RowRelease::Live,
        strengths: Vec::new(),
        weaknesses: vec![text.to_owned()],
    }
}

fn options(k: u32, audience: Audience, verbatims: Verbatims) -> EmergingOptions {
    EmergingOptions {
        min_z: 1.0,
        ..EmergingOptions::new(k, audience, verbatims)
    }
}

fn wave_weaknesses<'a>(topics: &'a EmergingTopics, wave: &str) -> &'a TextFigures {
    topics
        .waves
        .iter()
        .find(|figures| figures.wave == wave)
        .and_then(|figures| figures.weaknesses.as_ref())
        .unwrap_or_else(|| panic!("wave {wave} has weakness figures: {topics:#?}"))
}

/// The hand-checked corpus. English Snowball stems: "handover" and "handovers" → `handov`,
/// "replies" → `repli`, "pricing" → `price`; "the" is a stop word.
fn corpus() -> Vec<TextRow> {
    use NpsCategory::{Detractor, Passive, Promoter};
    vec![
        weakness("2026-1", Detractor, "Slow replies"),
        weakness("2026-1", Passive, "slow replies"),
        weakness("2026-1", Promoter, "Pricing"),
        weakness("2026-1", Promoter, "pricing"),
        weakness("2026-2", Detractor, "The handover"),
        weakness("2026-2", Promoter, "Handovers!"),
        weakness("2026-2", Promoter, "handover, slow replies"),
        weakness("2026-2", Passive, "pricing"),
    ]
}

#[test]
fn the_log_odds_of_a_new_weakness_are_those_worked_out_by_hand() {
    // Respondents naming each term (once each), by wave:
    //   2026-1: slow 2, repli 2, "slow repli" 2, price 2        → n_j = 8
    //   2026-2: handov 3, slow 1, repli 1, "slow repli" 1, price 1 → n_i = 7
    // ("handover, slow replies": the comma ends the phrase, so no "handov slow".)
    // Prior: α_w = y_i + y_j (both waves pooled), α_0 = n_i + n_j = 15.
    // handov: y_i = 3, y_j = 0, α = 3:
    //   δ = ln((3+3)/(7+15−3−3)) − ln((0+3)/(8+15−0−3)) = ln(6/16) − ln(3/20)
    //     = ln(0.375 / 0.15) = ln 2.5 = 0.916291
    //   σ² = 1/(3+3) + 1/(0+3) = 0.5, z = 0.916291 / √0.5 = 0.916291 × √2 = 1.295831
    // slow, repli, "slow repli", price fall from 2 of 4 respondents to 1 of 4: not emerging.
    // Share 3 of the wave's 4 respondents; named by r5 (detractor), r6 and r7 (promoters).
    let topics = emerging_topics(
        &definition(),
        &corpus(),
        &options(2, Audience::Programme, Verbatims::All),
    );
    let first = wave_weaknesses(&topics, "2026-1");
    assert!(
        first.emerging.is_empty(),
        "the first wave has nothing to compare with"
    );
    let second = wave_weaknesses(&topics, "2026-2");
    assert_eq!(topics.waves[1].previous_wave.as_deref(), Some("2026-1"));
    assert_eq!(topics.waves[1].respondents, Some(4));
    let terms: Vec<&str> = second.emerging.iter().map(|t| t.term.as_str()).collect();
    assert_eq!(terms, ["handover"]);
    let handover = &second.emerging[0];
    assert_eq!(handover.stem, "handov");
    assert_eq!(handover.respondents, 3);
    assert!((handover.share - 0.75).abs() < 1e-12);
    assert_eq!(handover.previous_share, Some(0.0));
    assert!((handover.log_odds - 0.916_291).abs() < 1e-6, "{handover:?}");
    assert!((handover.z - 1.295_831).abs() < 1e-6, "{handover:?}");
    assert_eq!(
        (handover.promoters, handover.passives, handover.detractors),
        (Some(2), Some(0), Some(1))
    );
    // Newest first.
    assert_eq!(handover.verbatims, ["handover, slow replies", "Handovers!"]);
    // Unmatched: "slow replies" mentions responsiveness (keywords `slow`, `replies`);
    // "pricing" does not start with `price`, "handover" matches nothing: 3 of 4 in 2026-2,
    // 2 of 4 in 2026-1.
    assert_eq!((second.texts, second.unmatched), (Some(4), Some(3)));
    assert_eq!(second.unmatched_share, Some(0.75));
    assert_eq!((first.texts, first.unmatched), (Some(4), Some(2)));
    // With a z threshold of 1.96 the same term is not emerging.
    let strict = emerging_topics(
        &definition(),
        &corpus(),
        &EmergingOptions::new(2, Audience::Programme, Verbatims::All),
    );
    assert!(wave_weaknesses(&strict, "2026-2").emerging.is_empty());
}

#[test]
fn counts_below_k_are_hidden_from_other_roles_with_their_complements() {
    // The same corpus for a viewer with k = 2: handover's 0 passives and 1 detractor are
    // below k (hidden: 1 together), so its 2 promoters are hidden too, or 3 − 2 would give
    // the rest. 1 matched text is below k, so the unmatched count (its complement) is hidden.
    let topics = emerging_topics(
        &definition(),
        &corpus(),
        &options(2, Audience::Released, Verbatims::None),
    );
    let second = wave_weaknesses(&topics, "2026-2");
    let handover = &second.emerging[0];
    assert_eq!(handover.respondents, 3);
    assert_eq!(
        (handover.promoters, handover.passives, handover.detractors),
        (None, None, None)
    );
    assert!(handover.verbatims.is_empty());
    // z to one decimal for other roles: 1.295831 → 1.3.
    assert_eq!(handover.z, 1.3);
    assert_eq!(
        (second.texts, second.unmatched, second.unmatched_share),
        (Some(4), None, None)
    );
    // With k = 4, no term reaches k respondents and each wave holds exactly 4.
    let topics = emerging_topics(
        &definition(),
        &corpus(),
        &options(4, Audience::Released, Verbatims::None),
    );
    assert!(wave_weaknesses(&topics, "2026-2").emerging.is_empty());
    // With k = 5 each wave is too small: nothing but the wave's name.
    let topics = emerging_topics(
        &definition(),
        &corpus(),
        &options(5, Audience::Released, Verbatims::None),
    );
    assert!(
        topics
            .waves
            .iter()
            .all(|wave| wave.suppressed && wave.respondents.is_none() && wave.weaknesses.is_none())
    );
}

/// The term of the second wave when three respondents wrote `forms` (in `locale`) after a
/// first wave of three who wrote `filler`.
fn grouped(locale: &str, filler: &str, forms: [&str; 3]) -> EmergingTerm {
    let row = |wave: &str, text: &str| TextRow {
        locale: Some(Locale::new(locale).unwrap()),
        ..weakness(wave, NpsCategory::Promoter, text)
    };
    let mut rows: Vec<TextRow> = (0..3).map(|_| row("1", filler)).collect();
    rows.extend(forms.iter().map(|form| row("2", form)));
    let topics = emerging_topics(
        &definition(),
        &rows,
        &EmergingOptions {
            min_z: 0.0,
            ..EmergingOptions::new(3, Audience::Programme, Verbatims::All)
        },
    );
    let figures = wave_weaknesses(&topics, "2");
    assert_eq!(figures.emerging.len(), 1, "{locale}: {figures:#?}");
    figures.emerging[0].clone()
}

#[test]
fn inflections_are_one_term_in_each_template_language_shown_as_written() {
    let cases = [
        (
            "en",
            "budget",
            ["the handover", "handovers", "Handover"],
            "handover",
        ),
        ("fr", "budget", ["le retard", "retards", "Retard"], "retard"),
        (
            "de",
            "Budget",
            ["die Verzögerung", "Verzögerungen", "Verzögerung"],
            "verzögerung",
        ),
        (
            "nl",
            "budget",
            ["de vertraging", "vertragingen", "Vertraging"],
            "vertraging",
        ),
        (
            "es",
            "presupuesto",
            ["el retraso", "retrasos", "Retraso"],
            "retraso",
        ),
    ];
    for (locale, filler, forms, shown) in cases {
        let term = grouped(locale, filler, forms);
        // Three respondents, three forms, one term: the stop word ("the", "le", "die",
        // "de", "el") is no term and no part of one.
        assert_eq!(term.respondents, 3, "{locale}: {term:?}");
        assert_eq!(term.term, shown, "{locale}: {term:?}");
        assert_ne!(term.stem, "", "{locale}");
    }
}

#[test]
fn a_confidential_answer_moves_other_roles_figures_only_with_its_whole_batch() {
    // k = 2. Wave 2026-2 gains confidential answers naming "invoicing" one at a time:
    // while waiting, a viewer's figures must not move; once the batch of two is published
    // in one wave, they do; a batch split across waves never counts.
    // Any rise counts here (z ≥ 0): two new answers among nine terms are a small rise.
    let viewer = EmergingOptions {
        min_z: 0.0,
        ..EmergingOptions::new(2, Audience::Released, Verbatims::IdentifiedOnly)
    };
    let base = corpus();
    let before = emerging_topics(&definition(), &base, &viewer);
    let confidential = |release: RowRelease, wave: &str| TextRow {
        confidentiality: ConfidentialityChoice::Confidential,
        release,
        ..weakness(wave, NpsCategory::Detractor, "invoicing")
    };
    let mut waiting = base.clone();
    waiting.push(confidential(RowRelease::Waiting, "2026-2"));
    assert_eq!(emerging_topics(&definition(), &waiting, &viewer), before);
    let mut unverified = base.clone();
    unverified.push(confidential(RowRelease::Unverified, "2026-2"));
    unverified.push(confidential(RowRelease::Unverified, "2026-2"));
    assert_eq!(emerging_topics(&definition(), &unverified, &viewer), before);
    let mut split = base.clone();
    split.push(confidential(RowRelease::Published(0), "2026-1"));
    split.push(confidential(RowRelease::Published(0), "2026-2"));
    assert_eq!(emerging_topics(&definition(), &split, &viewer), before);
    let mut published = base.clone();
    published.push(confidential(RowRelease::Published(0), "2026-2"));
    published.push(confidential(RowRelease::Published(0), "2026-2"));
    let after = emerging_topics(&definition(), &published, &viewer);
    assert_ne!(after, before);
    let second = wave_weaknesses(&after, "2026-2");
    let invoicing = second
        .emerging
        .iter()
        .find(|term| term.term == "invoicing")
        .unwrap_or_else(|| panic!("invoicing emerges once published: {second:#?}"));
    assert_eq!(invoicing.respondents, 2);
    // Confidential texts are never quoted to a role that reads identified texts only, but
    // the programme team reads them.
    assert!(invoicing.verbatims.is_empty());
    let admin = emerging_topics(
        &definition(),
        &published,
        &EmergingOptions {
            audience: Audience::Programme,
            verbatims: Verbatims::All,
            ..viewer
        },
    );
    let admin_invoicing = wave_weaknesses(&admin, "2026-2")
        .emerging
        .iter()
        .find(|term| term.term == "invoicing")
        .cloned()
        .expect("the admin sees invoicing");
    assert_eq!(admin_invoicing.verbatims, ["invoicing", "invoicing"]);
}
