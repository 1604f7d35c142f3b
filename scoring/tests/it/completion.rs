//! Completion rates from invitations, checked by hand, including the DOMAIN.md pattern:
//! clients who chose confidentiality answer the next wave less often.

use rapport_scoring::completion::{InvitationRecord, completion};
use rapport_scoring::wire::ConfidentialityChoice::{self, Confidential, Identified};

fn invitation(
    account: &str,
    wave: &str,
    contact: usize,
    answered: Option<ConfidentialityChoice>,
) -> InvitationRecord {
    InvitationRecord {
        account: account.to_owned(),
        matter: None,
        wave: Some(wave.to_owned()),
        contact_key: format!("contact-{contact}"),
        answered,
    }
}

#[test]
fn completion_by_wave_account_and_the_choice_made_the_wave_before() {
    let mut records = Vec::new();
    // Wave 1: 20 confidential answers (contacts 0–19), 20 identified (20–39), 10 silent (40–49).
    for contact in 0..50 {
        let answered = match contact {
            0..20 => Some(Confidential),
            20..40 => Some(Identified),
            _ => None,
        };
        records.push(invitation(
            if contact % 2 == 0 {
                "northwind"
            } else {
                "contoso"
            },
            "2026-h1",
            contact,
            answered,
        ));
    }
    // Wave 2: the same 50 invited again; 11 of the 20 confidential (55%), 14 of the 20
    // identified (70%) and 2 of the 10 silent answer.
    for contact in 0..50 {
        let answers = matches!(contact, 0..11 | 20..34 | 40..42);
        records.push(invitation(
            if contact % 2 == 0 {
                "northwind"
            } else {
                "contoso"
            },
            "2026-h2",
            contact,
            answers.then_some(Identified),
        ));
    }
    let got = completion(&records, 5);
    assert_eq!(
        (got.overall.invited, got.overall.answered),
        (100, Some(40 + 27))
    );
    assert_eq!(
        got.by_wave
            .iter()
            .map(|group| (group.value.as_str(), group.completion.rate.unwrap()))
            .collect::<Vec<_>>(),
        [("2026-h1", 0.8), ("2026-h2", 0.54)]
    );
    assert_eq!(
        got.by_account
            .iter()
            .map(|group| group.value.as_str())
            .collect::<Vec<_>>(),
        ["contoso", "northwind"]
    );
    assert_eq!(
        got.by_account
            .iter()
            .map(|group| group.completion.invited)
            .sum::<u64>(),
        100
    );

    let [pair] = got.by_previous_choice.as_slice() else {
        panic!("one pair of waves: {:?}", got.by_previous_choice)
    };
    assert_eq!(
        (pair.previous_wave.as_str(), pair.wave.as_str()),
        ("2026-h1", "2026-h2")
    );
    let rate = |choice: &str| {
        pair.groups
            .iter()
            .find(|group| group.value == choice)
            .unwrap()
            .completion
            .rate
            .unwrap()
    };
    assert_eq!(
        (rate("confidential"), rate("identified"), rate("no answer")),
        (0.55, 0.7, 0.2)
    );
}

#[test]
fn a_group_below_the_minimum_size_shows_its_invitations_only() {
    let records = [
        invitation("tiny", "2026-h1", 1, Some(Confidential)),
        invitation("tiny", "2026-h1", 2, None),
        invitation("big", "2026-h1", 3, None),
        invitation("big", "2026-h1", 4, Some(Identified)),
        invitation("big", "2026-h1", 5, None),
    ];
    let got = completion(&records, 3);
    let tiny = got
        .by_account
        .iter()
        .find(|group| group.value == "tiny")
        .unwrap();
    assert!(tiny.completion.suppressed);
    assert_eq!(
        (
            tiny.completion.invited,
            tiny.completion.answered,
            tiny.completion.rate
        ),
        (2, None, None)
    );
    let big = got
        .by_account
        .iter()
        .find(|group| group.value == "big")
        .unwrap();
    assert_eq!(
        (big.completion.answered, big.completion.suppressed),
        (Some(1), false)
    );
    assert!(
        got.by_previous_choice.is_empty(),
        "one wave has no wave before it"
    );
    let json = serde_json::to_value(tiny).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"value": "tiny", "invited": 2, "answered": null, "rate": null, "suppressed": true})
    );
}

#[test]
fn completion_by_matter_leaves_out_invitations_without_one() {
    let mut records = Vec::new();
    for contact in 0..12 {
        let mut record = invitation(
            "northwind",
            "2026-h1",
            contact,
            (contact % 3 != 0).then_some(Confidential),
        );
        record.matter = match contact {
            0..6 => Some("msa-2026".to_owned()),
            6..10 => Some("nda-renewal".to_owned()),
            _ => None,
        };
        records.push(record);
    }
    let got = completion(&records, 5);
    let matters: Vec<(&str, u64, Option<u64>)> = got
        .by_matter
        .iter()
        .map(|group| {
            (
                group.value.as_str(),
                group.completion.invited,
                group.completion.answered,
            )
        })
        .collect();
    // Contacts 0–5 answered but 0 and 3; 6–9 is below the minimum of five: its count only.
    assert_eq!(
        matters,
        [("msa-2026", 6, Some(4)), ("nda-renewal", 4, None)]
    );
    assert_eq!(got.overall.invited, 12);
}
