//! The built-in survey templates: `client-portal`, `post-negotiation` and
//! `legal-contract-experience`, worded in English, French, German, Dutch and Spanish.
//!
//! Every phrase is written once in the catalogue below and the templates are assembled from
//! it, so a wording fix reaches every template. Operators who license their own instrument
//! export a template as TOML (`SurveyDefinition::to_toml`), edit it and load it back.

use std::collections::BTreeMap;

use crate::definition::{
    CategoryThresholds, ChoiceOption, CloseLoopRules, ConfidentialityMode, IdentityRequest, Level,
    Question, SurveyDefinition, Text, TextPurpose, Topic,
};
use crate::ids::{LevelId, Locale, OptionId, QuestionId, SurveyId, TopicId};

/// The names of the built-in templates.
pub const TEMPLATE_NAMES: [&str; 3] = [
    "client-portal",
    "post-negotiation",
    "legal-contract-experience",
];

/// The locales every built-in template is worded in.
pub const TEMPLATE_LOCALES: [&str; 5] = ["en", "fr", "de", "nl", "es"];

/// Wording in the template locales, in the order of [`TEMPLATE_LOCALES`].
type Phrase = [&'static str; 5];

const TITLE_PORTAL: Phrase = [
    "How are we doing?",
    "Comment travaillons-nous ?",
    "Wie arbeiten wir?",
    "Hoe doen we het?",
    "¿Cómo lo estamos haciendo?",
];
const TITLE_NEGOTIATION: Phrase = [
    "How did the negotiation feel?",
    "Comment avez-vous vécu la négociation ?",
    "Wie haben Sie die Verhandlung erlebt?",
    "Hoe heeft u de onderhandeling ervaren?",
    "¿Cómo vivió la negociación?",
];
const TITLE_LEGAL: Phrase = [
    "Your contract experience",
    "Votre expérience du contrat",
    "Ihre Erfahrung mit dem Vertrag",
    "Uw ervaring met het contract",
    "Su experiencia con el contrato",
];
const NPS: Phrase = [
    "How likely are you to recommend us to a friend or colleague?",
    "Quelle est la probabilité que vous nous recommandiez à un ami ou à un collègue ?",
    "Wie wahrscheinlich ist es, dass Sie uns einem Freund oder Kollegen empfehlen?",
    "Hoe waarschijnlijk is het dat u ons aanbeveelt bij een vriend of collega?",
    "¿Qué probabilidad hay de que nos recomiende a un amigo o colega?",
];
const NPS_LOW: Phrase = [
    "Not at all likely",
    "Pas du tout probable",
    "Überhaupt nicht wahrscheinlich",
    "Helemaal niet waarschijnlijk",
    "Nada probable",
];
const NPS_HIGH: Phrase = [
    "Extremely likely",
    "Extrêmement probable",
    "Äußerst wahrscheinlich",
    "Zeer waarschijnlijk",
    "Muy probable",
];

const LEVEL_RELATIONSHIP: Phrase = [
    "Relationship",
    "Relation",
    "Beziehung",
    "Relatie",
    "Relación",
];
const LEVEL_UNIQUENESS: Phrase = [
    "Uniqueness",
    "Singularité",
    "Einzigartigkeit",
    "Uniciteit",
    "Singularidad",
];
const LEVEL_SERVICE: Phrase = ["Service", "Service", "Service", "Service", "Servicio"];

const TRUST: Phrase = [
    "We trust you to act in our best interest.",
    "Nous vous faisons confiance pour agir dans notre intérêt.",
    "Wir vertrauen darauf, dass Sie in unserem Interesse handeln.",
    "We vertrouwen erop dat u in ons belang handelt.",
    "Confiamos en que actúan en nuestro mejor interés.",
];
const COMMITMENT: Phrase = [
    "We are committed to continuing our relationship with you.",
    "Nous sommes attachés à poursuivre notre relation avec vous.",
    "Wir möchten die Zusammenarbeit mit Ihnen fortsetzen.",
    "We willen onze relatie met u graag voortzetten.",
    "Estamos comprometidos a continuar nuestra relación con ustedes.",
];
const SATISFACTION: Phrase = [
    "Overall, we are satisfied with our relationship with you.",
    "Dans l'ensemble, nous sommes satisfaits de notre relation avec vous.",
    "Insgesamt sind wir mit der Zusammenarbeit mit Ihnen zufrieden.",
    "Over het geheel genomen zijn we tevreden over onze relatie met u.",
    "En general, estamos satisfechos con nuestra relación con ustedes.",
];
const UNIQUENESS: Phrase = [
    "Working with you, and your solutions, are truly different from the alternatives.",
    "Travailler avec vous, et vos solutions, se distinguent vraiment des alternatives.",
    "Die Zusammenarbeit mit Ihnen und Ihre Lösungen unterscheiden sich deutlich von den Alternativen.",
    "Samenwerken met u, en uw oplossingen, zijn echt anders dan de alternatieven.",
    "Trabajar con ustedes, y sus soluciones, es realmente distinto de las alternativas.",
];
const RELIABILITY: Phrase = [
    "You reliably deliver what you promise.",
    "Vous tenez vos promesses de manière fiable.",
    "Sie halten zuverlässig, was Sie versprechen.",
    "U levert betrouwbaar wat u belooft.",
    "Cumplen de forma fiable lo que prometen.",
];
const RESPONSIVENESS: Phrase = [
    "You respond quickly to our needs.",
    "Vous répondez rapidement à nos besoins.",
    "Sie reagieren schnell auf unsere Bedürfnisse.",
    "U reageert snel op onze behoeften.",
    "Responden rápidamente a nuestras necesidades.",
];
const CARE: Phrase = [
    "You genuinely care about us and our business.",
    "Vous vous souciez sincèrement de nous et de nos activités.",
    "Ihnen liegen wir und unser Geschäft wirklich am Herzen.",
    "U geeft oprecht om ons en onze organisatie.",
    "Se preocupan sinceramente por nosotros y nuestro negocio.",
];

const KEPT_INFORMED: Phrase = [
    "You kept us informed throughout.",
    "Vous nous avez tenus informés tout au long du processus.",
    "Sie haben uns durchgehend auf dem Laufenden gehalten.",
    "U hield ons voortdurend op de hoogte.",
    "Nos mantuvieron informados en todo momento.",
];
const UNEXPECTED_CHANGES: Phrase = [
    "You dealt well with unexpected changes.",
    "Vous avez bien géré les changements imprévus.",
    "Sie sind gut mit unerwarteten Änderungen umgegangen.",
    "U ging goed om met onverwachte wijzigingen.",
    "Gestionaron bien los cambios inesperados.",
];
const PROBLEM_HANDLING: Phrase = [
    "When problems arose, you handled them well.",
    "Lorsque des problèmes sont survenus, vous les avez bien traités.",
    "Wenn Probleme auftraten, haben Sie sie gut gelöst.",
    "Als er problemen waren, heeft u die goed opgelost.",
    "Cuando surgieron problemas, los resolvieron bien.",
];
const MEETING_SCOPE: Phrase = [
    "You delivered what was agreed, within the agreed scope.",
    "Vous avez livré ce qui était convenu, dans le périmètre convenu.",
    "Sie haben das Vereinbarte im vereinbarten Umfang geliefert.",
    "U leverde wat was afgesproken, binnen de afgesproken scope.",
    "Entregaron lo acordado, dentro del alcance acordado.",
];
const QUICK_REPLIES: Phrase = [
    "You answered quickly, even when the answer was \"we don't know yet\".",
    "Vous avez répondu rapidement, même lorsque la réponse était « nous ne savons pas encore ».",
    "Sie haben schnell geantwortet, auch wenn die Antwort „wir wissen es noch nicht“ lautete.",
    "U antwoordde snel, ook als het antwoord \"we weten het nog niet\" was.",
    "Respondieron con rapidez, incluso cuando la respuesta era «aún no lo sabemos».",
];

const STRENGTH: Phrase = [
    "What is our greatest strength?",
    "Quelle est notre plus grande force ?",
    "Was ist unsere größte Stärke?",
    "Wat is onze grootste sterkte?",
    "¿Cuál es nuestra mayor fortaleza?",
];
const WEAKNESS: Phrase = [
    "What is our greatest weakness?",
    "Quelle est notre plus grande faiblesse ?",
    "Was ist unsere größte Schwäche?",
    "Wat is onze grootste zwakte?",
    "¿Cuál es nuestra mayor debilidad?",
];
const NEGOTIATION_STRENGTH: Phrase = [
    "What did we do best in this negotiation?",
    "Qu'avons-nous le mieux fait dans cette négociation ?",
    "Was haben wir in dieser Verhandlung am besten gemacht?",
    "Wat hebben we in deze onderhandeling het best gedaan?",
    "¿Qué hicimos mejor en esta negociación?",
];
const NEGOTIATION_WEAKNESS: Phrase = [
    "What could we have done better in this negotiation?",
    "Qu'aurions-nous pu mieux faire dans cette négociation ?",
    "Was hätten wir in dieser Verhandlung besser machen können?",
    "Wat hadden we in deze onderhandeling beter kunnen doen?",
    "¿Qué podríamos haber hecho mejor en esta negociación?",
];
const ROLE: Phrase = [
    "Which best describes your role?",
    "Quelle description correspond le mieux à votre rôle ?",
    "Was beschreibt Ihre Rolle am besten?",
    "Wat beschrijft uw rol het best?",
    "¿Qué describe mejor su función?",
];
const ROLE_DECISION: Phrase = [
    "Key decision maker",
    "Décideur principal",
    "Wichtige Entscheidungsperson",
    "Belangrijke beslisser",
    "Responsable de decisiones clave",
];
const ROLE_DAY_TO_DAY: Phrase = [
    "Day-to-day contact",
    "Contact au quotidien",
    "Täglicher Ansprechpartner",
    "Dagelijks contactpersoon",
    "Contacto del día a día",
];
const ROLE_OPERATIONAL: Phrase = [
    "Operational or administrative contact",
    "Contact opérationnel ou administratif",
    "Operativer oder administrativer Kontakt",
    "Operationeel of administratief contactpersoon",
    "Contacto operativo o administrativo",
];

const TOPIC_RESPONSIVENESS: Phrase = [
    "Responsiveness",
    "Réactivité",
    "Reaktionsschnelligkeit",
    "Reactiesnelheid",
    "Capacidad de respuesta",
];
const TOPIC_COMMUNICATION: Phrase = [
    "Communication",
    "Communication",
    "Kommunikation",
    "Communicatie",
    "Comunicación",
];
const TOPIC_EXPERTISE: Phrase = [
    "Expertise",
    "Expertise",
    "Fachwissen",
    "Expertise",
    "Conocimiento experto",
];
const TOPIC_COST: Phrase = [
    "Cost and billing",
    "Coûts et facturation",
    "Kosten und Abrechnung",
    "Kosten en facturatie",
    "Costes y facturación",
];
const TOPIC_SCOPE: Phrase = [
    "Scope and delivery",
    "Périmètre et livraison",
    "Umfang und Lieferung",
    "Scope en levering",
    "Alcance y entrega",
];

fn text(phrase: Phrase) -> Text {
    Text(
        TEMPLATE_LOCALES
            .iter()
            .zip(phrase)
            .map(|(tag, wording)| {
                (
                    Locale::new(*tag).expect("template locales are valid"),
                    wording.to_owned(),
                )
            })
            .collect::<BTreeMap<_, _>>(),
    )
}

fn qid(id: &str) -> QuestionId {
    QuestionId::new(id).expect("template question ids are valid")
}

fn lid(id: &str) -> LevelId {
    LevelId::new(id).expect("template level ids are valid")
}

fn nps() -> Question {
    Question::Nps {
        id: qid("nps"),
        text: text(NPS),
        low_label: text(NPS_LOW),
        high_label: text(NPS_HIGH),
        required: true,
    }
}

fn element(id: &str, level: &str, phrase: Phrase) -> Question {
    Question::Element {
        id: qid(id),
        level: lid(level),
        text: text(phrase),
        required: false,
    }
}

fn experience(id: &str, phrase: Phrase) -> Question {
    Question::Experience {
        id: qid(id),
        text: text(phrase),
        required: false,
    }
}

fn open_text(id: &str, purpose: TextPurpose, phrase: Phrase) -> Question {
    Question::Text {
        id: qid(id),
        text: text(phrase),
        purpose,
        max_chars: 2000,
        required: false,
    }
}

fn role() -> Question {
    let option = |id: &str, phrase| ChoiceOption {
        id: OptionId::new(id).expect("template option ids are valid"),
        label: text(phrase),
    };
    Question::Role {
        id: qid("role"),
        text: text(ROLE),
        options: vec![
            option("decision-maker", ROLE_DECISION),
            option("day-to-day", ROLE_DAY_TO_DAY),
            option("operational", ROLE_OPERATIONAL),
        ],
        required: false,
    }
}

/// The default seven-element model, base of the pyramid first.
fn crq_levels() -> Vec<Level> {
    vec![
        Level {
            id: lid("relationship"),
            label: text(LEVEL_RELATIONSHIP),
        },
        Level {
            id: lid("uniqueness"),
            label: text(LEVEL_UNIQUENESS),
        },
        Level {
            id: lid("service"),
            label: text(LEVEL_SERVICE),
        },
    ]
}

fn crq_elements() -> Vec<Question> {
    vec![
        element("trust", "relationship", TRUST),
        element("commitment", "relationship", COMMITMENT),
        element("satisfaction", "relationship", SATISFACTION),
        element("uniqueness", "uniqueness", UNIQUENESS),
        element("reliability", "service", RELIABILITY),
        element("responsiveness", "service", RESPONSIVENESS),
        element("care", "service", CARE),
    ]
}

fn contract_experience_items() -> Vec<Question> {
    vec![
        experience("kept-informed", KEPT_INFORMED),
        experience("unexpected-changes", UNEXPECTED_CHANGES),
        experience("problem-handling", PROBLEM_HANDLING),
        experience("meeting-scope", MEETING_SCOPE),
        experience("quick-replies", QUICK_REPLIES),
    ]
}

fn default_topics() -> Vec<Topic> {
    let topic = |id: &str, label, keywords: &[&str]| Topic {
        id: TopicId::new(id).expect("template topic ids are valid"),
        label: text(label),
        keywords: keywords
            .iter()
            .map(|keyword| (*keyword).to_owned())
            .collect(),
    };
    vec![
        topic(
            "responsiveness",
            TOPIC_RESPONSIVENESS,
            &[
                "respons", "quick", "slow", "fast", "reply", "replies", "prompt", "réactiv",
                "schnell", "snel", "rápid",
            ],
        ),
        topic(
            "communication",
            TOPIC_COMMUNICATION,
            &[
                "inform",
                "communic",
                "update",
                "kommunik",
                "communicat",
                "comunica",
            ],
        ),
        topic(
            "expertise",
            TOPIC_EXPERTISE,
            &[
                "expert",
                "knowledge",
                "skill",
                "experience",
                "fachwissen",
                "kennis",
                "conocimiento",
            ],
        ),
        topic(
            "cost",
            TOPIC_COST,
            &[
                "cost",
                "price",
                "fee",
                "expensive",
                "billing",
                "invoice",
                "coût",
                "prix",
                "kosten",
                "teuer",
                "duur",
                "precio",
                "caro",
            ],
        ),
        topic(
            "scope",
            TOPIC_SCOPE,
            &[
                "scope",
                "deadline",
                "deliver",
                "périmètre",
                "umfang",
                "alcance",
            ],
        ),
    ]
}

fn base(id: &str, title: Phrase, levels: Vec<Level>, questions: Vec<Question>) -> SurveyDefinition {
    SurveyDefinition {
        id: SurveyId::new(id).expect("template survey ids are valid"),
        version: 1,
        title: text(title),
        confidentiality: ConfidentialityMode::Optional,
        levels,
        questions,
        thresholds: CategoryThresholds::default(),
        close_loop: CloseLoopRules::default(),
        min_group_size: 5,
        show_answer_summary: true,
        ask_identity: IdentityRequest::WhenIdentified,
        topics: default_topics(),
        allowed_origins: Vec::new(),
        programme_team: None,
        require_signed_context: false,
    }
}

/// Looks up a built-in template by name.
pub fn template(name: &str) -> Option<SurveyDefinition> {
    let definition = match name {
        "client-portal" => {
            let mut questions = vec![nps()];
            questions.extend(crq_elements());
            questions.push(open_text("strength", TextPurpose::Strength, STRENGTH));
            questions.push(open_text("weakness", TextPurpose::Weakness, WEAKNESS));
            questions.push(role());
            base(name, TITLE_PORTAL, crq_levels(), questions)
        }
        "post-negotiation" => {
            let mut questions = vec![nps()];
            questions.extend(contract_experience_items());
            questions.push(element("trust", "relationship", TRUST));
            questions.push(element("satisfaction", "relationship", SATISFACTION));
            // Two short open questions, both optional: what went well, and what a client
            // would have wanted done differently in the negotiation.
            questions.push(open_text(
                "strength",
                TextPurpose::Strength,
                NEGOTIATION_STRENGTH,
            ));
            questions.push(open_text(
                "weakness",
                TextPurpose::Weakness,
                NEGOTIATION_WEAKNESS,
            ));
            let levels = vec![Level {
                id: lid("relationship"),
                label: text(LEVEL_RELATIONSHIP),
            }];
            base(name, TITLE_NEGOTIATION, levels, questions)
        }
        "legal-contract-experience" => {
            let mut questions = vec![nps()];
            questions.extend(contract_experience_items());
            questions.extend(crq_elements());
            questions.push(open_text("strength", TextPurpose::Strength, STRENGTH));
            questions.push(open_text("weakness", TextPurpose::Weakness, WEAKNESS));
            questions.push(role());
            base(name, TITLE_LEGAL, crq_levels(), questions)
        }
        _ => return None,
    };
    debug_assert!(
        definition.validate().is_ok(),
        "built-in template {name} must validate"
    );
    Some(definition)
}

/// Every built-in template.
pub fn templates() -> Vec<SurveyDefinition> {
    TEMPLATE_NAMES
        .iter()
        .filter_map(|name| template(name))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "toml")]
    #[test]
    fn every_template_validates_and_round_trips_through_toml_and_json() {
        for definition in templates() {
            definition.validate().unwrap();
            let from_toml = SurveyDefinition::from_toml(&definition.to_toml()).unwrap();
            assert_eq!(from_toml, definition);
            let from_json =
                SurveyDefinition::from_json(&serde_json::to_string(&definition).unwrap()).unwrap();
            assert_eq!(from_json, definition);
        }
    }

    #[test]
    fn every_text_of_every_template_is_worded_in_all_five_locales() {
        for definition in templates() {
            let mut texts = vec![&definition.title];
            for question in &definition.questions {
                texts.push(question.text());
                if let Question::Role { options, .. } | Question::Choice { options, .. } = question
                {
                    texts.extend(options.iter().map(|option| &option.label));
                }
            }
            texts.extend(definition.levels.iter().map(|level| &level.label));
            for text in texts {
                let locales: Vec<&str> = text.locales().map(Locale::as_str).collect();
                assert_eq!(
                    locales,
                    ["de", "en", "es", "fr", "nl"],
                    "{} in {}",
                    text.english(),
                    definition.id
                );
            }
        }
    }

    #[test]
    fn templates_hold_what_their_users_need() {
        let portal = template("client-portal").unwrap();
        let element_ids: Vec<&str> = portal
            .questions
            .iter()
            .filter(|question| matches!(question, Question::Element { .. }))
            .map(|question| question.id().as_str())
            .collect();
        assert_eq!(
            element_ids,
            [
                "trust",
                "commitment",
                "satisfaction",
                "uniqueness",
                "reliability",
                "responsiveness",
                "care"
            ]
        );
        let negotiation = template("post-negotiation").unwrap();
        let n_experience = negotiation
            .questions
            .iter()
            .filter(|question| matches!(question, Question::Experience { .. }))
            .count();
        assert_eq!(n_experience, 5);
        assert!(
            negotiation.question("trust").is_some()
                && negotiation.question("satisfaction").is_some()
        );
        assert!(template("nope").is_none());
    }
}
