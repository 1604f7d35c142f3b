//! The widget's components: the survey form, its scales and fields, the confidentiality
//! choice, and the screens after sending (thank-you, waiting, already answered).
//!
//! The respondent never sees a score's category (promoter, detractor, ambassador,
//! opponent, ...): the provisional score goes to the host page and the server only, and the
//! thank-you screen lists at most the respondent's own ratings back in neutral words.
//!
//! Components render only into the widget's own root inside its shadow root and never
//! read or change the host page. Styling is by class names only (no inline `style`), so a
//! strict Content-Security-Policy holds.

use rapport_scoring::definition::{ChoiceOption, ConfidentialityMode, Question, SurveyDefinition};
use rapport_scoring::ids::Locale;
use rapport_scoring::score::ResponseScore;
use rapport_scoring::wire::{ConfidentialityChoice, Timestamp};
use serde_json::Value;
use wasm_bindgen::JsCast as _;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

use crate::i18n::{Strings, decimal, strings};
use crate::state::{Action, IdentityField, Phase, SurveyState};

/// Properties of a radio-group scale.
#[derive(Properties, PartialEq, Debug)]
pub struct ScaleProps {
    /// The values offered, in order.
    pub values: Vec<u8>,
    /// The chosen value.
    pub selected: Option<u8>,
    /// Id of the element naming the group.
    pub labelled_by: AttrValue,
    /// Id of the element describing an error, when there is one.
    pub described_by: Option<AttrValue>,
    /// Extra class of the group.
    pub class: AttrValue,
    /// Called with the chosen value.
    pub on_choose: Callback<u8>,
}

/// A 0–10 or 1–7 scale as an accessible radio group: one tab stop (roving tabindex), arrow
/// keys move and choose, Home and End jump to the ends.
#[component]
pub fn Scale(props: &ScaleProps) -> Html {
    let count = props.values.len();
    let selected_idx = props.selected.and_then(|value| {
        props
            .values
            .iter()
            .position(|candidate| *candidate == value)
    });
    let onkeydown = {
        let values = props.values.clone();
        let on_choose = props.on_choose.clone();
        Callback::from(move |event: KeyboardEvent| {
            let Some(current) = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlElement>().ok())
            else {
                return;
            };
            let position = current
                .get_attribute("data-idx")
                .and_then(|idx| idx.parse::<usize>().ok())
                .unwrap_or(0);
            let next = match event.key().as_str() {
                "ArrowRight" | "ArrowDown" => (position + 1) % count,
                "ArrowLeft" | "ArrowUp" => (position + count - 1) % count,
                "Home" => 0,
                "End" => count - 1,
                " " | "Enter" => position,
                _ => return,
            };
            event.prevent_default();
            on_choose.emit(values[next]);
            if let Some(sibling) = current
                .parent_element()
                .and_then(|parent| parent.children().item(next as u32))
                && let Ok(sibling) = sibling.dyn_into::<HtmlElement>()
            {
                let _ = sibling.focus();
            }
        })
    };
    html! {
        <div role="radiogroup" class={classes!("scale", props.class.to_string())} aria-labelledby={props.labelled_by.clone()}
             aria-describedby={props.described_by.clone()} aria-invalid={props.described_by.as_ref().map(|_| "true")}>
            { for props.values.iter().enumerate().map(|(idx, value)| {
                let checked = selected_idx == Some(idx);
                let tab_stop = checked || (selected_idx.is_none() && idx == 0);
                let on_choose = props.on_choose.clone();
                let value = *value;
                html! {
                    <button type="button" role="radio" class="point" data-idx={idx.to_string()}
                            aria-checked={if checked { "true" } else { "false" }}
                            tabindex={if tab_stop { "0" } else { "-1" }}
                            onclick={Callback::from(move |_| on_choose.emit(value))}
                            onkeydown={onkeydown.clone()}>{ value }</button>
                }
            }) }
        </div>
    }
}

/// Properties of the survey form.
#[derive(Properties, PartialEq, Debug)]
pub struct SurveyFormProps {
    /// The state handle.
    pub state: UseReducerHandle<SurveyState>,
    /// Current time, for the submit timestamp.
    pub now: Callback<(), Timestamp>,
}

fn error_line(state: &SurveyState, field: &str, id: &str) -> Html {
    match state.errors.get(field) {
        Some(message) => html! { <p class="error" id={id.to_owned()}>{ message.clone() }</p> },
        None => html! {},
    }
}

fn answer_u8(state: &SurveyState, id: &str) -> Option<u8> {
    state
        .answers
        .get(id)
        .and_then(Value::as_u64)
        .map(|value| value as u8)
}

fn choose(state: &UseReducerHandle<SurveyState>, id: &str) -> Callback<u8> {
    let state = state.clone();
    let id = id.to_owned();
    Callback::from(move |value: u8| state.dispatch(Action::Answer(id.clone(), Value::from(value))))
}

fn nps_question(
    state: &UseReducerHandle<SurveyState>,
    question: &Question,
    locale: &Locale,
) -> Html {
    let Question::Nps {
        id,
        text,
        low_label,
        high_label,
        required,
    } = question
    else {
        return html! {};
    };
    let field = format!("answers.{id}");
    let error_id = format!("err-{id}");
    let has_error = state.errors.contains_key(&field);
    html! {
        <fieldset class="question nps" key={id.to_string()}>
            <legend id={format!("q-{id}")}>{ text.get(locale) }{ optional_marker(*required, locale) }</legend>
            <Scale values={(0..=10).collect::<Vec<u8>>()} selected={answer_u8(state, id.as_str())} class="scale-11"
                   labelled_by={format!("q-{id}")} described_by={has_error.then(|| AttrValue::from(error_id.clone()))}
                   on_choose={choose(state, id.as_str())} />
            <div class="ends" aria-hidden="true"><span>{ low_label.get(locale) }</span><span>{ high_label.get(locale) }</span></div>
            { error_line(state, &field, &error_id) }
        </fieldset>
    }
}

fn optional_marker(required: bool, locale: &Locale) -> Html {
    if required {
        html! {}
    } else {
        html! { <span class="optional">{ format!(" ({})", strings(locale).optional) }</span> }
    }
}

fn rated_block(
    state: &UseReducerHandle<SurveyState>,
    questions: &[&Question],
    locale: &Locale,
) -> Html {
    let words = strings(locale);
    html! {
        <fieldset class="question matrix" key={format!("matrix-{}", questions[0].id())}>
            <legend class="matrix-legend"><span>{ format!("1 = {}", words.disagree) }</span><span>{ format!("7 = {}", words.agree) }</span></legend>
            { for questions.iter().map(|question| {
                let id = question.id();
                let field = format!("answers.{id}");
                let error_id = format!("err-{id}");
                let has_error = state.errors.contains_key(&field);
                html! {
                    <div class={classes!("statement", has_error.then_some("has-error"))} key={id.to_string()}>
                        <span class="statement-text" id={format!("q-{id}")}>{ question.text().get(locale) }{ optional_marker(question.required(), locale) }</span>
                        <Scale values={(1..=7).collect::<Vec<u8>>()} selected={answer_u8(state, id.as_str())} class="scale-7"
                               labelled_by={format!("q-{id}")} described_by={has_error.then(|| AttrValue::from(error_id.clone()))}
                               on_choose={choose(state, id.as_str())} />
                        { error_line(state, &field, &error_id) }
                    </div>
                }
            }) }
        </fieldset>
    }
}

fn text_question(
    state: &UseReducerHandle<SurveyState>,
    question: &Question,
    locale: &Locale,
) -> Html {
    let Question::Text {
        id,
        text,
        max_chars,
        required,
        ..
    } = question
    else {
        return html! {};
    };
    let field = format!("answers.{id}");
    let error_id = format!("err-{id}");
    let value = state
        .answers
        .get(id.as_str())
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let oninput = {
        let state = state.clone();
        let id = id.to_string();
        Callback::from(move |event: InputEvent| {
            let Some(area) = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlTextAreaElement>().ok())
            else {
                return;
            };
            let text = area.value();
            state.dispatch(if text.trim().is_empty() {
                Action::Clear(id.clone())
            } else {
                Action::Answer(id.clone(), Value::from(text))
            });
        })
    };
    html! {
        <div class="question text" key={id.to_string()}>
            <label for={format!("in-{id}")}>{ text.get(locale) }{ optional_marker(*required, locale) }</label>
            <textarea id={format!("in-{id}")} rows="3" maxlength={max_chars.to_string()} value={value} {oninput}
                      aria-describedby={state.errors.contains_key(&field).then(|| error_id.clone())} />
            { error_line(state, &field, &error_id) }
        </div>
    }
}

fn choice_question(
    state: &UseReducerHandle<SurveyState>,
    id: &str,
    text: &str,
    options: &[ChoiceOption],
    multiple: bool,
    required: bool,
    locale: &Locale,
) -> Html {
    let field = format!("answers.{id}");
    let error_id = format!("err-{id}");
    let chosen: Vec<String> = match state.answers.get(id) {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many
            .iter()
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    html! {
        <fieldset class="question choice" key={id.to_owned()} aria-describedby={state.errors.contains_key(&field).then(|| error_id.clone())}>
            <legend>{ text.to_owned() }{ optional_marker(required, locale) }</legend>
            <div class="options">
            { for options.iter().map(|option| {
                let option_id = option.id.to_string();
                let checked = chosen.contains(&option_id);
                let onchange = {
                    let state = state.clone();
                    let question = id.to_owned();
                    let chosen = chosen.clone();
                    let option_id = option_id.clone();
                    Callback::from(move |event: Event| {
                        let on = event.target().and_then(|target| target.dyn_into::<HtmlInputElement>().ok()).is_some_and(|input| input.checked());
                        if !multiple {
                            state.dispatch(Action::Answer(question.clone(), Value::from(option_id.clone())));
                            return;
                        }
                        let mut next: Vec<String> = chosen.iter().filter(|candidate| **candidate != option_id).cloned().collect();
                        if on { next.push(option_id.clone()); }
                        state.dispatch(if next.is_empty() { Action::Clear(question.clone()) } else { Action::Answer(question.clone(), Value::from(next)) });
                    })
                };
                html! {
                    <label class="option" key={option_id.clone()}>
                        <input type={if multiple { "checkbox" } else { "radio" }} name={format!("in-{id}")} value={option_id.clone()} checked={checked} {onchange} />
                        <span>{ option.label.get(locale) }</span>
                    </label>
                }
            }) }
            </div>
            { error_line(state, &field, &error_id) }
        </fieldset>
    }
}

fn identity_fields(state: &UseReducerHandle<SurveyState>, words: &Strings) -> Html {
    // Whoever chooses to be identified gives a name or an email; everything else is up to
    // the respondent, and marked so.
    let identified = state.confidentiality == ConfidentialityChoice::Identified;
    let missing_name_or_email = state.errors.contains_key("identity");
    let field = |kind: IdentityField,
                 key: &'static str,
                 label: &'static str,
                 value: &str,
                 input_type: &'static str,
                 autocomplete: &'static str| {
        let state_for_input = state.clone();
        let oninput = Callback::from(move |event: InputEvent| {
            if let Some(input) = event
                .target()
                .and_then(|target| target.dyn_into::<HtmlInputElement>().ok())
            {
                state_for_input.dispatch(Action::EditIdentity(kind, input.value()));
            }
        });
        let wire_field = format!("identity.{key}");
        let error_id = format!("err-identity-{key}");
        let names_respondent = kind != IdentityField::Organisation;
        let described_by: Vec<&str> = [
            state
                .errors
                .contains_key(&wire_field)
                .then_some(error_id.as_str()),
            (names_respondent && missing_name_or_email).then_some("err-identity"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let described_by = (!described_by.is_empty()).then(|| described_by.join(" "));
        html! {
            <div class="identity-field">
                <label for={format!("in-identity-{key}")}>{ label }{ optional_marker(identified && names_respondent, &state.locale) }</label>
                <input id={format!("in-identity-{key}")} type={input_type} autocomplete={autocomplete} value={value.to_owned()} {oninput}
                       aria-invalid={(names_respondent && missing_name_or_email).then_some("true")}
                       aria-describedby={described_by} />
                { error_line(state, &wire_field, &error_id) }
                // The message for a missing name or email sits under the name field, where
                // the fix starts.
                { if kind == IdentityField::Name { error_line(state, "identity", "err-identity") } else { html! {} } }
            </div>
        }
    };
    html! {
        <div class="identity">
            { field(IdentityField::Name, "name", words.name, &state.identity.name, "text", "name") }
            { field(IdentityField::Email, "email", words.email, &state.identity.email, "email", "email") }
            { field(IdentityField::Organisation, "organisation", words.organisation, &state.identity.organisation, "text", "organization") }
        </div>
    }
}

fn confidentiality_section(state: &UseReducerHandle<SurveyState>, words: &Strings) -> Html {
    let locale = state.locale.clone();
    let team = programme_team(&state.definition, words, &locale);
    // An invitation already says who answers: identity is never asked again, and the
    // notice says who will see the name under the choice as it stands.
    let invitation_notice = if state.invitation.is_some() {
        let notice = match (state.definition.confidentiality, state.confidentiality) {
            (ConfidentialityMode::Anonymous, _) | (_, ConfidentialityChoice::Anonymous) => {
                words.invitation_anonymous.to_owned()
            }
            (_, ConfidentialityChoice::Identified) => words.invitation_identified.to_owned(),
            (_, ConfidentialityChoice::Confidential) => {
                words.invitation_confidential.replace("{team}", team)
            }
        };
        html! { <p class="notice invitation-notice">{ notice }</p> }
    } else {
        html! {}
    };
    // Who holds a confidential respondent's identity, said before they choose.
    let identity_holder = html! {
        <p class="notice" id="identity-holder">{ words.identity_holder.replace("{team}", team) }</p>
    };
    let identity = if state.asks_identity() {
        let voluntary = (state.confidentiality == ConfidentialityChoice::Confidential).then(|| {
            html! { <p class="notice" id="identity-voluntary">{ words.confidential_identity.replace("{team}", team) }</p> }
        });
        html! { <>{ for voluntary }{ identity_fields(state, words) }</> }
    } else {
        html! {}
    };
    let body = match state.definition.confidentiality {
        ConfidentialityMode::Anonymous => {
            html! { <>
                <p class="notice">{ words.anonymous_notice }</p>
                { invitation_notice }
            </> }
        }
        ConfidentialityMode::Confidential => html! { <>
            <p class="notice">{ words.confidential_notice }</p>
            { identity_holder }
            { invitation_notice }
            { identity }
        </> },
        ConfidentialityMode::Optional => {
            let option = |choice: ConfidentialityChoice,
                          label: &'static str,
                          explanation: &'static str,
                          key: &'static str| {
                let state = state.clone();
                let checked = state.confidentiality == choice;
                let onchange =
                    Callback::from(move |_: Event| state.dispatch(Action::Choose(choice)));
                html! {
                    <label class={classes!("choice-card", checked.then_some("chosen"))}>
                        <input type="radio" name="confidentiality" value={key} checked={checked} {onchange}
                               aria-describedby={format!("explain-{key}")} />
                        <span class="choice-label">{ label }</span>
                        <span class="choice-explanation" id={format!("explain-{key}")}>{ explanation }</span>
                    </label>
                }
            };
            // With `ask_identity = "never"` and nothing that says who answers, there is no
            // name to share: the survey is then simply confidential.
            if !state.may_be_identified() {
                return html! {
                    <section class="confidentiality" aria-labelledby="confidentiality-heading">
                        <h3 id="confidentiality-heading">{ words.confidentiality_heading }</h3>
                        <p class="notice">{ words.confidential_notice }</p>
                        { identity_holder }
                    </section>
                };
            }
            html! { <>
                <fieldset class="choices">
                    <legend class="visually-hidden">{ words.confidentiality_heading }</legend>
                    { option(ConfidentialityChoice::Confidential, words.keep_confidential, words.confidential_explained, "confidential") }
                    { option(ConfidentialityChoice::Identified, words.be_identified, words.identified_explained, "identified") }
                </fieldset>
                { identity_holder }
                { invitation_notice }
                { identity }
            </> }
        }
    };
    html! {
        <section class="confidentiality" aria-labelledby="confidentiality-heading">
            <h3 id="confidentiality-heading">{ words.confidentiality_heading }</h3>
            { body }
        </section>
    }
}

/// The survey form, or the thank-you or waiting screen.
#[component]
pub fn SurveyForm(props: &SurveyFormProps) -> Html {
    let state = &props.state;
    let locale = state.locale.clone();
    let words = strings(&locale);
    match &state.phase {
        Phase::Done(score) => return thank_you(state, score),
        Phase::Answered => return already_answered(state),
        Phase::Queued => {
            return html! { <div class="rapport done queued" role="status"><FocusedHeading text={words.queued_heading} /><p>{ words.queued }</p></div> };
        }
        Phase::Blocked => {
            return html! { <div class="rapport done blocked" role="alert"><FocusedHeading text={words.blocked_heading} /><p>{ words.blocked }</p></div> };
        }
        Phase::Filling | Phase::Sending => {}
    }
    let onsubmit = {
        let state = state.clone();
        let now = props.now.clone();
        Callback::from(move |event: SubmitEvent| {
            event.prevent_default();
            state.dispatch(Action::Submit(now.emit(())));
        })
    };
    let (answered, total) = state.progress();
    let sending = state.phase == Phase::Sending;
    let mut blocks = Vec::new();
    let mut pending_rated: Vec<&Question> = Vec::new();
    for question in &state.definition.questions {
        if question.is_rated() {
            pending_rated.push(question);
            continue;
        }
        if !pending_rated.is_empty() {
            blocks.push(rated_block(state, &pending_rated, &locale));
            pending_rated.clear();
        }
        blocks.push(match question {
            Question::Nps { .. } => nps_question(state, question, &locale),
            Question::Text { .. } => text_question(state, question, &locale),
            Question::Role {
                id,
                text,
                options,
                required,
            } => choice_question(
                state,
                id.as_str(),
                text.get(&locale),
                options,
                false,
                *required,
                &locale,
            ),
            Question::Choice {
                id,
                text,
                options,
                multiple,
                required,
            } => choice_question(
                state,
                id.as_str(),
                text.get(&locale),
                options,
                *multiple,
                *required,
                &locale,
            ),
            Question::Element { .. } | Question::Experience { .. } => html! {},
        });
    }
    if !pending_rated.is_empty() {
        blocks.push(rated_block(state, &pending_rated, &locale));
    }
    let summary = match (state.errors.get("form"), state.errors.is_empty()) {
        (Some(message), _) => message.clone(),
        (None, false) => words.fix_errors.to_owned(),
        (None, true) => String::new(),
    };
    html! {
        <form class="rapport" novalidate=true {onsubmit} lang={locale.to_string()}>
            <header class="head">
                <h2 class="title">{ state.definition.title.get(&locale) }</h2>
                <div class="progress">
                    <span class="progress-text">{ format!("{} {answered} {} {total}", words.progress, words.of) }</span>
                    <progress max={total.to_string()} value={answered.to_string()} aria-label={words.progress}></progress>
                </div>
            </header>
            { if state.replacing { html! { <p class="notice replace-note">{ words.replacing }</p> } } else { html! {} } }
            <div class="live" role="alert" aria-live="assertive">{ summary }</div>
            { for blocks }
            { confidentiality_section(state, words) }
            <div class="actions">
                <button type="submit" class="submit" disabled={sending} aria-disabled={if sending { "true" } else { "false" }}>
                    { if sending { words.sending } else { words.submit } }
                </button>
            </div>
        </form>
    }
}

/// Properties of a heading that takes focus when it appears.
#[derive(Properties, PartialEq, Debug)]
pub struct FocusedHeadingProps {
    /// The heading's words.
    pub text: AttrValue,
}

/// A heading that takes focus when it appears (`tabindex="-1"`: focusable by script, not a
/// tab stop), so that after the form is replaced a keyboard or screen-reader user continues
/// from the new screen instead of from the top of the host page.
#[component]
pub fn FocusedHeading(props: &FocusedHeadingProps) -> Html {
    let heading = use_node_ref();
    {
        let heading = heading.clone();
        use_effect_with(props.text.clone(), move |_| {
            if let Some(element) = heading.cast::<HtmlElement>() {
                let _ = element.focus();
            }
        });
    }
    html! { <h2 ref={heading} tabindex="-1" class="screen-heading">{ props.text.clone() }</h2> }
}

/// The name of the team that holds a confidential respondent's identity.
fn programme_team<'a>(
    definition: &'a SurveyDefinition,
    words: &'a Strings,
    locale: &Locale,
) -> &'a str {
    definition
        .programme_team
        .as_ref()
        .map_or(words.default_programme_team, |team| team.get(locale))
}

/// The respondent's own ratings, in neutral words: "Relationship: 5,3 of 7".
fn answer_summary(state: &SurveyState, score: &ResponseScore, words: &Strings) -> Html {
    let locale = &state.locale;
    let mut items = Vec::new();
    for question in &state.definition.questions {
        if let Question::Nps { id, .. } = question
            && let Some(value) = state.answers.get(id.as_str()).and_then(Value::as_u64)
        {
            items.push((
                words.likelihood.to_owned(),
                format!("{value} {} 10", words.of),
            ));
        }
    }
    for level in &state.definition.levels {
        if let Some(value) = score.levels.get(&level.id) {
            items.push((
                level.label.get(locale).to_owned(),
                format!("{} {} 7", decimal(*value, locale), words.of),
            ));
        }
    }
    if items.is_empty() {
        return html! {};
    }
    html! { <>
        <h3 class="summary-heading">{ words.your_ratings }</h3>
        <ul class="summary">
            { for items.into_iter().map(|(label, value)| html! {
                <li><span class="summary-label">{ label }</span>{ ": " }<span class="summary-value">{ value }</span></li>
            }) }
        </ul>
    </> }
}

/// The thank-you screen: the answers arrived, the privacy choice made and what happens
/// next, and (if the survey says so) the respondent's own ratings.
fn thank_you(state: &SurveyState, score: &ResponseScore) -> Html {
    let words = strings(&state.locale);
    let next = match state.confidentiality {
        ConfidentialityChoice::Identified => words.next_identified,
        ConfidentialityChoice::Confidential => words.next_confidential,
        ConfidentialityChoice::Anonymous => words.next_anonymous,
    };
    html! {
        <div class="rapport done" role="status" lang={state.locale.to_string()}>
            <FocusedHeading text={words.thanks} />
            <p class="arrived">{ words.arrived }</p>
            <p class="privacy">{ next }</p>
            { if state.definition.show_answer_summary { answer_summary(state, score, words) } else { html! {} } }
        </div>
    }
}

/// Shown when this device already sent answers to the survey: with an invitation, the
/// respondent may answer again, told plainly that the new answers replace the earlier ones.
fn already_answered(state: &UseReducerHandle<SurveyState>) -> Html {
    let words = strings(&state.locale);
    let again = state.invitation.is_some().then(|| {
        let state = state.clone();
        let onclick = Callback::from(move |_: MouseEvent| state.dispatch(Action::AnswerAgain));
        html! { <>
            <p class="replace-note">{ words.update_explained }</p>
            <button type="button" class="submit" {onclick}>{ words.update_answers }</button>
        </> }
    });
    html! {
        <div class="rapport done answered" role="status" lang={state.locale.to_string()}>
            <FocusedHeading text={words.answered_heading} />
            <p>{ words.answered }</p>
            { for again }
        </div>
    }
}
