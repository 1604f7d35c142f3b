//! The survey block of a thank-you email: the survey's 0–10 question and its scale as eleven
//! links, each opening the landing page with that answer chosen, and its plain-text
//! alternative, in the invitation's language.
//!
//! The HTML is meant to be pasted into an email written by a person, so it must survive
//! Outlook, Gmail and Apple Mail: tables for layout, inline styles only, no script, no
//! image, no class or stylesheet that a mail client would strip. Every text from data (the
//! matter's name, the survey's wording, the link) is escaped by maud's `html!`, which
//! escapes every splice. It never names the contact or the account, so a forwarded email
//! says no more than the link itself.
//!
//! Following a link records nothing: mail scanners fetch links before people do. The
//! landing page's script records the chosen answer (docs/SECURITY.md).

use maud::html;
use rapport_scoring::definition::{Question, SurveyDefinition};
use rapport_scoring::ids::Locale;

use crate::invitation::{Language, Presentation};

/// The query parameter of the landing page's address that carries the chosen answer.
pub const ANSWER_PARAMETER: &str = "answer";

/// The colour of the numbers' buttons: the widget's accent, dark enough for white digits.
const BUTTON_COLOUR: &str = "#1f5f8b";

/// A survey block, as HTML to paste into an email and as the plain text that goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailBlock {
    /// The HTML fragment: one outer table, on one line.
    pub html: String,
    /// The plain-text alternative: the question, then one line per answer with its link.
    pub text: String,
}

/// The block's own words, around the survey's wording, in one language.
struct Words {
    about: &'static str,
    click: &'static str,
    open: &'static str,
}

fn words(language: Language) -> Words {
    match language {
        Language::En => Words {
            about: "About: ",
            click: "Click a number: your answer is saved straight away, and a few short questions follow if you have a minute.",
            open: "Open the link next to your answer: it is saved straight away, and a few short questions follow if you have a minute.",
        },
        Language::Fr => Words {
            about: "Objet\u{a0}: ",
            click: "Cliquez sur un chiffre\u{a0}: votre réponse est enregistrée aussitôt, et quelques questions courtes suivent si vous avez une minute.",
            open: "Ouvrez le lien à côté de votre réponse\u{a0}: elle est enregistrée aussitôt, et quelques questions courtes suivent si vous avez une minute.",
        },
        Language::De => Words {
            about: "Betreff: ",
            click: "Klicken Sie auf eine Zahl: Ihre Antwort wird sofort gespeichert, und wenn Sie eine Minute Zeit haben, folgen einige kurze Fragen.",
            open: "Öffnen Sie den Link neben Ihrer Antwort: Sie wird sofort gespeichert, und wenn Sie eine Minute Zeit haben, folgen einige kurze Fragen.",
        },
        Language::Nl => Words {
            about: "Betreft: ",
            click: "Klik op een cijfer: uw antwoord wordt meteen opgeslagen, en als u even tijd hebt, volgen nog een paar korte vragen.",
            open: "Open de link naast uw antwoord: het wordt meteen opgeslagen, en als u even tijd hebt, volgen nog een paar korte vragen.",
        },
        Language::Es => Words {
            about: "Asunto: ",
            click: "Haga clic en un número: su respuesta se guarda al instante y, si tiene un minuto, siguen unas breves preguntas.",
            open: "Abra el enlace junto a su respuesta: se guarda al instante y, si tiene un minuto, siguen unas breves preguntas.",
        },
    }
}

/// The landing page's address with `value` chosen.
pub fn answer_link(link: &str, value: u8) -> String {
    format!("{link}?{ANSWER_PARAMETER}={value}")
}

impl EmailBlock {
    /// The block for the invitation whose landing page is `link`, in the invitation's
    /// language (English when it names none), worded with the survey's first 0–10 question;
    /// `None` when the survey asks none.
    pub fn new(
        definition: &SurveyDefinition,
        link: &str,
        presentation: &Presentation,
    ) -> Option<EmailBlock> {
        let (question, low, high) = definition.questions.iter().find_map(|question| {
            if let Question::Nps {
                text,
                low_label,
                high_label,
                ..
            } = question
            {
                Some((text, low_label, high_label))
            } else {
                None
            }
        })?;
        let language = presentation.locale.unwrap_or(Language::En);
        let locale = Locale::new(language.as_str()).expect("the five languages are locales");
        let (question, low, high) = (question.get(&locale), low.get(&locale), high.get(&locale));
        let words = words(language);
        let about = presentation
            .matter_name
            .as_deref()
            .map(|matter| format!("{}{matter}", words.about));
        // Eleven cells of one fixed-layout row share the width, so the scale fits a phone
        // (320 px) without scrolling, and no number can wrap inside its button.
        let html = html! {
            table role="presentation" lang=(language.as_str()) cellpadding="0" cellspacing="0" border="0" width="100%"
                style="width:100%;max-width:480px;border-collapse:collapse;font-family:Arial,Helvetica,sans-serif;color:#222222;" {
                @if let Some(about) = &about {
                    tr { td style="padding:0 0 4px 0;font-size:13px;line-height:18px;color:#555555;" { (about) } }
                }
                tr { td style="padding:0 0 10px 0;font-size:16px;line-height:22px;font-weight:bold;" { (question) } }
                tr { td style="padding:0;" {
                    table role="presentation" cellpadding="0" cellspacing="2" border="0" width="100%"
                        style="width:100%;table-layout:fixed;border-collapse:separate;border-spacing:2px;" {
                        tr {
                            @for value in 0..=10u8 {
                                // Outlook on Windows ignores a link's padding: the cell's
                                // height keeps its button as tall as elsewhere.
                                td align="center" valign="middle" bgcolor=(BUTTON_COLOUR) width="9%" height="36"
                                    style={"padding:0;background-color:" (BUTTON_COLOUR) ";border-radius:4px;"} {
                                    a href=(answer_link(link, value))
                                        style="display:block;padding:9px 0;font-size:15px;line-height:18px;font-weight:bold;color:#ffffff;text-decoration:none;white-space:nowrap;text-align:center;" {
                                        (value)
                                    }
                                }
                            }
                        }
                    }
                } }
                tr { td style="padding:4px 0 0 0;" {
                    table role="presentation" cellpadding="0" cellspacing="0" border="0" width="100%"
                        style="width:100%;border-collapse:collapse;font-size:12px;line-height:16px;color:#555555;" {
                        tr {
                            td align="left" width="50%" style="padding:0 4px 0 0;text-align:left;" { "0 = " (low) }
                            td align="right" width="50%" style="padding:0 0 0 4px;text-align:right;" { "10 = " (high) }
                        }
                    }
                } }
                tr { td style="padding:10px 0 0 0;font-size:13px;line-height:18px;color:#555555;" { (words.click) } }
            }
        }
        .into_string();
        let mut text = String::new();
        if let Some(about) = &about {
            text.push_str(about);
            text.push('\n');
        }
        text.push_str(question);
        text.push_str("\n\n");
        for value in 0..=10u8 {
            let label = match value {
                0 => format!("0 ({low})"),
                10 => format!("10 ({high})"),
                _ => value.to_string(),
            };
            text.push_str(&format!("{label}: {}\n", answer_link(link, value)));
        }
        text.push('\n');
        text.push_str(words.open);
        text.push('\n');
        Some(EmailBlock { html, text })
    }
}
