//! Emerging topics: what respondents started to name in their strength and weakness texts
//! that the survey's fixed topics do not catch.
//!
//! For each wave (waves ordered by name, as the report orders them) and each kind of text
//! (strengths, weaknesses) it gives:
//!
//! - the share of texts that mention none of the definition's topics
//!   ([`crate::report::mentions`], the same rule as the topic shares);
//! - the words and two-word phrases that became much more frequent than in the wave before,
//!   ranked by the weighted log-odds ratio with an informative Dirichlet prior (Monroe,
//!   Colaresi & Quinn 2008, "Fightin' Words"). Words are lowercased, stop words removed
//!   (the NLTK lists of the `stop-words` crate) and stemmed with the Snowball stemmer of the
//!   response's language (`rust-stemmers`), so "handover" and "handovers" are one term; a
//!   term is shown as the word respondents wrote most often for it, never as its stem. Each
//!   respondent counts once per term, however often they repeat it.
//!
//! The input is not the report's: texts live in the stored answers, so a caller reads them
//! separately into [`TextRow`]s, only when emerging topics are asked for. Each row carries
//! its [`RowRelease`], and for a role other than admin ([`Audience::Released`]) this module
//! applies the same disclosure as [`crate::disclosure`]: only identified answers and
//! protected answers of published batches count, a batch counts in a wave only when all of
//! it falls in that wave, a wave of fewer than `k` respondents shows nothing, a term needs at
//! least `k` respondents, and no count below `k` is given (complementary suppression across
//! promoters, passives, detractors and those who gave no 0–10 answer). Example sentences
//! are given only as [`Verbatims`] allows.
//!
//! This module never reads a store and never decides a role: the caller says which
//! audience and which verbatims.

use std::collections::{BTreeMap, HashMap, HashSet};

/// The maps of terms, hashed with foldhash: several million short keys for 100,000
/// responses, where SipHash cost most of the time.
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

use rust_stemmers::{Algorithm, Stemmer};
use serde::{Deserialize, Serialize};

use crate::definition::{Question, SurveyDefinition, TextPurpose};
use crate::disclosure::RowRelease;
use crate::ids::Locale;
use crate::score::NpsCategory;
use crate::validate::Answers;
use crate::wire::ConfidentialityChoice;

/// The languages whose stemmer and stop words are known: the template locales.
pub const STEMMED_LANGUAGES: [&str; 5] = ["en", "fr", "de", "nl", "es"];

/// The z-score above which a term counts as emerging by default: 1.96, the two-sided 5%
/// point of the normal distribution that Monroe, Colaresi & Quinn use.
pub const DEFAULT_MIN_Z: f64 = 1.96;

/// How many emerging terms a wave's kind of text lists at most, by default.
pub const DEFAULT_MAX_TERMS: usize = 8;

/// How many example sentences a term carries at most.
pub const MAX_VERBATIMS: usize = 2;

/// The longest example sentence, in characters; longer ones are cut with "…".
pub const MAX_VERBATIM_CHARS: usize = 240;

/// One response's open texts, as emerging topics read them.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRow {
    /// Its wave; rows without one are left out.
    pub wave: Option<String>,
    /// The locale the survey was shown in; it picks the stemmer and stop words. Absent or
    /// outside [`STEMMED_LANGUAGES`]: English.
    pub locale: Option<Locale>,
    /// Promoter, passive or detractor; absent without a 0–10 answer.
    pub nps_category: Option<NpsCategory>,
    /// The respondent's choice, which decides whether a text may be quoted.
    pub confidentiality: ConfidentialityChoice,
    /// What a role other than admin may see of the response
    /// ([`crate::disclosure::Release::row`]); ignored for [`Audience::Programme`].
    pub release: RowRelease,
    /// Answers to the strength questions.
    pub strengths: Vec<String>,
    /// Answers to the weakness questions.
    pub weaknesses: Vec<String>,
}

impl TextRow {
    /// The row of a response from its answers: its strength and weakness texts and its
    /// 0–10 category.
    pub fn from_answers(
        definition: &SurveyDefinition,
        answers: &Answers,
        confidentiality: ConfidentialityChoice,
        wave: Option<String>,
        locale: Option<Locale>,
        release: RowRelease,
    ) -> Self {
        let texts = |wanted: TextPurpose| -> Vec<String> {
            definition
                .questions
                .iter()
                .filter_map(|question| match question {
                    Question::Text { id, purpose, .. } if *purpose == wanted => {
                        answers.texts.get(id).cloned()
                    }
                    _ => None,
                })
                .collect()
        };
        TextRow {
            wave,
            locale,
            nps_category: answers.nps.map(NpsCategory::of),
            confidentiality,
            release,
            strengths: texts(TextPurpose::Strength),
            weaknesses: texts(TextPurpose::Weakness),
        }
    }
}

/// Who the figures are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The programme team (admin): every row, exact counts.
    Programme,
    /// Any other role: the rows of its release only, each batch whole, nothing below `k`.
    Released,
}

/// Which example sentences may be quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verbatims {
    /// None (roles that may not read texts).
    None,
    /// Only texts of identified respondents (roles that read identified rows only).
    IdentifiedOnly,
    /// Any counted text (the programme team).
    All,
}

/// How emerging topics are computed and for whom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EmergingOptions {
    /// The survey's minimum group size `k`.
    pub min_group_size: u32,
    /// Who reads the result.
    pub audience: Audience,
    /// Which texts may be quoted.
    pub verbatims: Verbatims,
    /// The least z-score of an emerging term.
    pub min_z: f64,
    /// The most terms listed per wave and kind of text.
    pub max_terms: usize,
}

impl EmergingOptions {
    /// The defaults for an audience: [`DEFAULT_MIN_Z`], [`DEFAULT_MAX_TERMS`].
    pub fn new(min_group_size: u32, audience: Audience, verbatims: Verbatims) -> Self {
        EmergingOptions {
            min_group_size,
            audience,
            verbatims,
            min_z: DEFAULT_MIN_Z,
            max_terms: DEFAULT_MAX_TERMS,
        }
    }
}

/// Emerging topics of a survey version, wave by wave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EmergingTopics {
    /// Groups and counts below this size are not shown to roles other than admin.
    pub min_group_size: u32,
    /// One entry per wave, oldest first.
    pub waves: Vec<EmergingWave>,
}

/// One wave's emerging topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EmergingWave {
    /// The wave.
    pub wave: String,
    /// The wave it is compared with; absent for the first.
    pub previous_wave: Option<String>,
    /// True when the wave has fewer respondents than the minimum group size (for roles
    /// other than admin): nothing else is given.
    pub suppressed: bool,
    /// Respondents of the wave; absent when suppressed.
    pub respondents: Option<u64>,
    /// Strength texts; absent when suppressed.
    pub strengths: Option<TextFigures>,
    /// Weakness texts; absent when suppressed.
    pub weaknesses: Option<TextFigures>,
}

/// What one kind of text (strengths or weaknesses) of one wave says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TextFigures {
    /// Respondents who wrote such a text; absent when below the minimum group size (for
    /// roles other than admin).
    pub texts: Option<u64>,
    /// Of those, how many mention none of the survey's topics; absent when it, or the
    /// number of texts that do mention one, is below the minimum group size (for roles
    /// other than admin; zero of the latter is shown).
    pub unmatched: Option<u64>,
    /// `unmatched ÷ texts`, absent when `unmatched` is.
    pub unmatched_share: Option<f64>,
    /// The terms much more frequent than in the previous wave, strongest first.
    pub emerging: Vec<EmergingTerm>,
}

/// A word or two-word phrase named much more often than in the wave before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EmergingTerm {
    /// The term as respondents wrote it most often (its most frequent lowercase form).
    pub term: String,
    /// The stemmed form the counts are by, e.g. `handov`.
    pub stem: String,
    /// Respondents of the wave who named it (at least the minimum group size).
    pub respondents: u64,
    /// `respondents ÷` the wave's respondents.
    pub share: f64,
    /// Its share of respondents in the previous wave; absent for roles other than admin
    /// when fewer than the minimum group size (but some) named it then.
    pub previous_share: Option<f64>,
    /// The log-odds ratio δ of the term, this wave against the previous one (to one decimal
    /// for roles other than admin).
    pub log_odds: f64,
    /// δ divided by its standard error (to one decimal for roles other than admin, so that
    /// it does not give back the previous wave's count).
    pub z: f64,
    /// Of those who named it, promoters; absent when hidden (fewer than the minimum group
    /// size, or needed to hide one that is).
    pub promoters: Option<u64>,
    /// Of those who named it, passives; absent when hidden.
    pub passives: Option<u64>,
    /// Of those who named it, detractors; absent when hidden.
    pub detractors: Option<u64>,
    /// Example texts of this wave naming it, only from respondents the reader may quote.
    pub verbatims: Vec<String>,
}

/// Per language, what turns a text into terms.
struct Analyzers {
    stemmers: Vec<Stemmer>,
    stop_words: Vec<HashSet<&'static str>>,
}

impl Analyzers {
    fn new() -> Self {
        let algorithms = [
            Algorithm::English,
            Algorithm::French,
            Algorithm::German,
            Algorithm::Dutch,
            Algorithm::Spanish,
        ];
        Analyzers {
            stemmers: algorithms.into_iter().map(Stemmer::create).collect(),
            stop_words: STEMMED_LANGUAGES
                .iter()
                .map(|language| {
                    stop_words::lookup(language)
                        .unwrap_or_default()
                        .iter()
                        .copied()
                        .collect()
                })
                .collect(),
        }
    }

    /// The language index of a locale: its position in [`STEMMED_LANGUAGES`], English
    /// when absent or unknown.
    fn language(locale: Option<&Locale>) -> usize {
        locale
            .and_then(|locale| {
                STEMMED_LANGUAGES
                    .iter()
                    .position(|language| *language == locale.language())
            })
            .unwrap_or(0)
    }

    /// The terms of a text, each with the words it was written as: every content word's
    /// stem, and every two content words written next to each other (a stop word or
    /// punctuation between them breaks the pair).
    fn terms(&self, language: usize, text: &str, out: &mut Vec<(String, String)>) {
        let lowered = text.to_lowercase();
        let mut previous: Option<(String, &str)> = None;
        // Split at anything that is not a letter or digit; punctuation ends a phrase.
        let mut start = None;
        let mut pieces: Vec<(&str, bool)> = Vec::new();
        for (at, character) in lowered.char_indices() {
            if character.is_alphanumeric() {
                start.get_or_insert(at);
            } else if let Some(from) = start.take() {
                // Whitespace alone keeps a phrase going; other marks end it.
                pieces.push((&lowered[from..at], !character.is_whitespace()));
            } else if !character.is_whitespace()
                && let Some(last) = pieces.last_mut()
            {
                last.1 = true;
            }
        }
        if let Some(from) = start {
            pieces.push((&lowered[from..], true));
        }
        for (word, ends_phrase) in pieces {
            let content = word.chars().count() >= 2
                && !word.chars().all(|character| character.is_numeric())
                && !self.stop_words[language].contains(word);
            if !content {
                previous = None;
                continue;
            }
            let stem = self.stemmers[language].stem(word).into_owned();
            if let Some((previous_stem, previous_word)) = &previous {
                out.push((
                    format!("{previous_stem} {stem}"),
                    format!("{previous_word} {word}"),
                ));
            }
            out.push((stem.clone(), word.to_owned()));
            previous = (!ends_phrase).then_some((stem, word));
        }
    }
}

/// Whether a text mentions one of the definition's topics.
struct TopicMatcher {
    keywords: Vec<String>,
}

impl TopicMatcher {
    fn new(definition: &SurveyDefinition) -> Self {
        TopicMatcher {
            keywords: definition
                .topics
                .iter()
                .flat_map(|topic| topic.keywords.iter())
                .map(|keyword| keyword.trim().to_lowercase())
                .collect(),
        }
    }

    fn matches(&self, text: &str) -> bool {
        crate::mention::mentions_lowered(&text.to_lowercase(), &self.keywords)
    }
}

/// A counted row of one wave: its index in the input.
type RowIdx = usize;

/// Emerging topics of `rows` (one survey version) for the audience of `options`.
pub fn emerging_topics(
    definition: &SurveyDefinition,
    rows: &[TextRow],
    options: &EmergingOptions,
) -> EmergingTopics {
    let k = u64::from(options.min_group_size.max(1));
    let released = options.audience == Audience::Released;
    let counted = counted_rows(rows, released);
    // Rows by wave, waves in name order.
    let mut by_wave: BTreeMap<&str, Vec<RowIdx>> = BTreeMap::new();
    for row_idx in counted {
        if let Some(wave) = rows[row_idx].wave.as_deref() {
            by_wave.entry(wave).or_default().push(row_idx);
        }
    }
    let analyzers = Analyzers::new();
    let matcher = TopicMatcher::new(definition);
    let waves: Vec<(&str, Vec<RowIdx>)> = by_wave.into_iter().collect();
    // Each wave's terms per kind, computed once.
    let wave_terms: Vec<[WaveTerms; 2]> = waves
        .iter()
        .map(|(_, members)| {
            [
                WaveTerms::new(&analyzers, rows, members, 0),
                WaveTerms::new(&analyzers, rows, members, 1),
            ]
        })
        .collect();
    let shown = |n: u64| !released || n >= k;
    let mut out = Vec::with_capacity(waves.len());
    for (wave_idx, (wave, members)) in waves.iter().enumerate() {
        let n = members.len() as u64;
        let previous = wave_idx.checked_sub(1);
        if !shown(n) {
            out.push(EmergingWave {
                wave: (*wave).to_owned(),
                previous_wave: previous.map(|idx| waves[idx].0.to_owned()),
                suppressed: true,
                respondents: None,
                strengths: None,
                weaknesses: None,
            });
            continue;
        }
        // A previous wave too small to show is not compared with.
        let comparable = previous.filter(|idx| shown(waves[*idx].1.len() as u64));
        let figures = |kind: usize| -> TextFigures {
            let pick = |row: &TextRow| texts_of(row, kind).len();
            let writers: Vec<RowIdx> = members
                .iter()
                .copied()
                .filter(|row_idx| pick(&rows[*row_idx]) > 0)
                .collect();
            let texts = writers.len() as u64;
            let unmatched = writers
                .iter()
                .filter(|row_idx| {
                    !texts_of(&rows[**row_idx], kind)
                        .iter()
                        .any(|text| matcher.matches(text))
                })
                .count() as u64;
            let matched = texts - unmatched;
            let unmatched_shown =
                !released || (shown(texts) && unmatched >= k && (matched == 0 || matched >= k));
            let emerging = match comparable {
                Some(previous_idx) => emerging_terms(
                    &wave_terms[wave_idx][kind],
                    &wave_terms[previous_idx][kind],
                    (n, waves[previous_idx].1.len() as u64),
                    rows,
                    options,
                    (&analyzers, kind),
                ),
                None => Vec::new(),
            };
            TextFigures {
                texts: shown(texts).then_some(texts),
                unmatched: unmatched_shown.then_some(unmatched),
                unmatched_share: (unmatched_shown && texts > 0)
                    .then(|| unmatched as f64 / texts as f64),
                emerging,
            }
        };
        out.push(EmergingWave {
            wave: (*wave).to_owned(),
            previous_wave: comparable.map(|idx| waves[idx].0.to_owned()),
            suppressed: false,
            respondents: Some(n),
            strengths: Some(figures(0)),
            weaknesses: Some(figures(1)),
        });
    }
    EmergingTopics {
        min_group_size: options.min_group_size,
        waves: out,
    }
}

/// The texts of one kind of a row: 0 strengths, 1 weaknesses.
fn texts_of(row: &TextRow, kind: usize) -> &[String] {
    if kind == 0 {
        &row.strengths
    } else {
        &row.weaknesses
    }
}

/// The rows that count: all of them for the programme; otherwise the visible rows of the
/// release, a published batch only when all of its rows fall in one wave (the rule of
/// breakdown groups in [`crate::report`]).
fn counted_rows(rows: &[TextRow], released: bool) -> Vec<RowIdx> {
    if !released {
        return (0..rows.len()).collect();
    }
    // Each batch's wave, or `None` once its rows fall in two (a missing wave is a value).
    let mut wave_of_batch: HashMap<u32, Option<Option<&str>>> = HashMap::new();
    for row in rows {
        if let RowRelease::Published(batch) = row.release {
            let wave = row.wave.as_deref();
            wave_of_batch
                .entry(batch)
                .and_modify(|seen| {
                    if *seen != Some(wave) {
                        *seen = None;
                    }
                })
                .or_insert(Some(wave));
        }
    }
    (0..rows.len())
        .filter(|row_idx| match rows[*row_idx].release {
            RowRelease::Live => true,
            RowRelease::Published(batch) => wave_of_batch[&batch].is_some(),
            RowRelease::Waiting | RowRelease::Unverified => false,
        })
        .collect()
}

/// The terms one kind of text of one wave names: by term, the rows naming it (each once)
/// and how often each written form occurs.
struct WaveTerms {
    rows_by_term: FastMap<String, Vec<RowIdx>>,
    forms_by_term: FastMap<String, FastMap<String, u64>>,
    /// Σ over terms of the respondents naming it: the `n` of the log-odds.
    total: u64,
}

impl WaveTerms {
    fn new(analyzers: &Analyzers, rows: &[TextRow], members: &[RowIdx], kind: usize) -> Self {
        let mut rows_by_term: FastMap<String, Vec<RowIdx>> = FastMap::default();
        let mut forms_by_term: FastMap<String, FastMap<String, u64>> = FastMap::default();
        let mut terms = Vec::new();
        let mut seen: FastSet<String> = FastSet::default();
        let mut total = 0;
        for row_idx in members {
            let row = &rows[*row_idx];
            let language = Analyzers::language(row.locale.as_ref());
            terms.clear();
            for text in texts_of(row, kind) {
                analyzers.terms(language, text, &mut terms);
            }
            seen.clear();
            for (term, form) in terms.drain(..) {
                if !forms_by_term.contains_key(&term) {
                    forms_by_term.insert(term.clone(), FastMap::default());
                }
                let forms = forms_by_term
                    .get_mut(&term)
                    .expect("the term was just inserted");
                match forms.get_mut(&form) {
                    Some(count) => *count += 1,
                    None => {
                        forms.insert(form, 1);
                    }
                }
                if !seen.contains(&term) {
                    match rows_by_term.get_mut(&term) {
                        Some(rows) => rows.push(*row_idx),
                        None => {
                            rows_by_term.insert(term.clone(), vec![*row_idx]);
                        }
                    }
                    seen.insert(term);
                    total += 1;
                }
            }
        }
        WaveTerms {
            rows_by_term,
            forms_by_term,
            total,
        }
    }

    fn count(&self, term: &str) -> u64 {
        self.rows_by_term
            .get(term)
            .map_or(0, |rows| rows.len() as u64)
    }
}

/// The terms of `current` that rose against `previous`, by the weighted log-odds ratio with
/// an informative Dirichlet prior (Monroe, Colaresi & Quinn 2008, eq. 16–22). The prior of a
/// term is its count over both waves together, `α_w = y_w^i + y_w^j`, and `α_0 = n_i + n_j`
/// (the prior is as large as the data, the common choice when no background corpus is at
/// hand):
///
/// δ_w = ln((y_i + α_w) / (n_i + α_0 − y_i − α_w)) − ln((y_j + α_w) / (n_j + α_0 − y_j − α_w)),
/// σ²(δ_w) ≈ 1/(y_i + α_w) + 1/(y_j + α_w), z = δ_w / σ.
fn emerging_terms(
    current: &WaveTerms,
    previous: &WaveTerms,
    (n_current, n_previous): (u64, u64),
    rows: &[TextRow],
    options: &EmergingOptions,
    (analyzers, kind): (&Analyzers, usize),
) -> Vec<EmergingTerm> {
    let k = u64::from(options.min_group_size.max(1));
    let released = options.audience == Audience::Released;
    let n_i = current.total as f64;
    let n_j = previous.total as f64;
    let alpha_0 = n_i + n_j;
    let mut terms: Vec<EmergingTerm> = current
        .rows_by_term
        .iter()
        .filter(|(_, members)| members.len() as u64 >= k)
        .filter_map(|(term, members)| {
            let y_i = members.len() as f64;
            let y_j = previous.count(term) as f64;
            let alpha = y_i + y_j;
            let delta = ((y_i + alpha) / (n_i + alpha_0 - y_i - alpha)).ln()
                - ((y_j + alpha) / (n_j + alpha_0 - y_j - alpha)).ln();
            let z = delta / (1.0 / (y_i + alpha) + 1.0 / (y_j + alpha)).sqrt();
            let share = y_i / n_current.max(1) as f64;
            let previous_share = y_j / n_previous.max(1) as f64;
            (z >= options.min_z && share > previous_share).then(|| {
                let mut by_category = [0u64; 4];
                for row_idx in members {
                    by_category[match rows[*row_idx].nps_category {
                        Some(NpsCategory::Promoter) => 0,
                        Some(NpsCategory::Passive) => 1,
                        Some(NpsCategory::Detractor) => 2,
                        None => 3,
                    }] += 1;
                }
                let [promoters, passives, detractors] = categories_shown(by_category, k, released);
                let previous_count = previous.count(term);
                let rounded = |value: f64| {
                    if released {
                        (value * 10.0).round() / 10.0
                    } else {
                        value
                    }
                };
                EmergingTerm {
                    term: surface(&current.forms_by_term[term]),
                    stem: term.clone(),
                    respondents: members.len() as u64,
                    share,
                    previous_share: (!released || previous_count == 0 || previous_count >= k)
                        .then_some(previous_share),
                    log_odds: rounded(delta),
                    z: rounded(z),
                    promoters,
                    passives,
                    detractors,
                    verbatims: verbatims(term, members, rows, options.verbatims, (analyzers, kind)),
                }
            })
        })
        .collect();
    terms.sort_by(|a, b| b.z.total_cmp(&a.z).then_with(|| a.stem.cmp(&b.stem)));
    // A word whose every mention is inside a listed phrase adds nothing beside the phrase.
    let phrases: Vec<(String, u64)> = terms
        .iter()
        .filter(|term| term.stem.contains(' '))
        .map(|term| (term.stem.clone(), term.respondents))
        .collect();
    terms.retain(|term| {
        term.stem.contains(' ')
            || !phrases.iter().any(|(phrase, respondents)| {
                *respondents == term.respondents && phrase.split(' ').any(|word| word == term.stem)
            })
    });
    terms.truncate(options.max_terms);
    terms
}

/// Promoters, passives and detractors as shown: exact for the programme; otherwise a count
/// below `k` is hidden, and so are the next smallest until the hidden ones (with those who
/// gave no 0–10 answer, never shown) hold at least `k` together or none at all.
fn categories_shown(by_category: [u64; 4], k: u64, released: bool) -> [Option<u64>; 3] {
    if !released {
        return [
            Some(by_category[0]),
            Some(by_category[1]),
            Some(by_category[2]),
        ];
    }
    let mut hidden = [false, false, false, true];
    for (idx, count) in by_category.iter().enumerate().take(3) {
        hidden[idx] = *count < k;
    }
    loop {
        let hidden_sum: u64 = (0..4)
            .filter(|idx| hidden[*idx])
            .map(|idx| by_category[idx])
            .sum();
        if hidden_sum == 0 || hidden_sum >= k {
            break;
        }
        match (0..3)
            .filter(|idx| !hidden[*idx])
            .min_by_key(|idx| by_category[*idx])
        {
            Some(smallest) => hidden[smallest] = true,
            None => break,
        }
    }
    [0, 1, 2].map(|idx| (!hidden[idx]).then_some(by_category[idx]))
}

/// The most frequent written form of a term; ties go to the first in alphabetical order.
fn surface(forms: &FastMap<String, u64>) -> String {
    forms
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(form, _)| form.clone())
        .unwrap_or_default()
}

/// Up to [`MAX_VERBATIMS`] texts naming the term, newest first, from rows the reader may
/// quote.
fn verbatims(
    term: &str,
    members: &[RowIdx],
    rows: &[TextRow],
    allowed: Verbatims,
    (analyzers, kind): (&Analyzers, usize),
) -> Vec<String> {
    if allowed == Verbatims::None {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut terms = Vec::new();
    for row_idx in members.iter().rev() {
        let row = &rows[*row_idx];
        if allowed == Verbatims::IdentifiedOnly
            && !(row.confidentiality == ConfidentialityChoice::Identified
                && row.release == RowRelease::Live)
        {
            continue;
        }
        let language = Analyzers::language(row.locale.as_ref());
        for text in texts_of(row, kind) {
            terms.clear();
            analyzers.terms(language, text, &mut terms);
            if terms.iter().any(|(stem, _)| stem == term) {
                found.push(cut(text));
                break;
            }
        }
        if found.len() == MAX_VERBATIMS {
            break;
        }
    }
    found
}

/// A text cut to [`MAX_VERBATIM_CHARS`] characters.
fn cut(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_VERBATIM_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
