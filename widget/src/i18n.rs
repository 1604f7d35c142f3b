//! The widget's own words (buttons, explanations, messages) in English, French, German,
//! Dutch and Spanish. Survey questions come worded from the survey definition instead.
//!
//! Only text lives here: no markup and no logic beyond picking a language.

use rapport_scoring::ids::Locale;
use rapport_scoring::validate::ValidationError;

/// The widget's strings in one language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strings {
    /// Label of the progress indication, before "3 of 12".
    pub progress: &'static str,
    /// "of" in "3 of 12".
    pub of: &'static str,
    /// Heading of the confidentiality section.
    pub confidentiality_heading: &'static str,
    /// The confidential choice.
    pub keep_confidential: &'static str,
    /// What keeping confidentiality means.
    pub confidential_explained: &'static str,
    /// The identified choice.
    pub be_identified: &'static str,
    /// What waiving confidentiality means.
    pub identified_explained: &'static str,
    /// Notice for surveys that are always confidential.
    pub confidential_notice: &'static str,
    /// Who can see a confidential respondent's identity: `{team}` stands for the programme
    /// team the survey names, or [`Strings::default_programme_team`].
    pub identity_holder: &'static str,
    /// The programme team when the survey names none.
    pub default_programme_team: &'static str,
    /// Notice for anonymous surveys.
    pub anonymous_notice: &'static str,
    /// Notice when an invitation already says who answers.
    pub invitation_notice: &'static str,
    /// Name field.
    pub name: &'static str,
    /// Email field.
    pub email: &'static str,
    /// Organisation field.
    pub organisation: &'static str,
    /// Submit button.
    pub submit: &'static str,
    /// Submit button while sending.
    pub sending: &'static str,
    /// Shown when the response waits to be sent.
    pub queued: &'static str,
    /// Heading when this page may not send the answers (the site's configuration refuses).
    pub blocked_heading: &'static str,
    /// What that means for the respondent: not sent, kept, sent once the site is fixed.
    pub blocked: &'static str,
    /// Thank-you heading.
    pub thanks: &'static str,
    /// Intro of the provisional result.
    pub provisional_intro: &'static str,
    /// "Recommendation" label of the NPS category.
    pub recommendation: &'static str,
    /// "Relationship quality" label of the CRQ.
    pub relationship_quality: &'static str,
    /// Label of the relationship category (Ambassador ... Opponent); it must differ from
    /// the name of the Relationship level, which the thank-you screen lists too.
    pub relationship: &'static str,
    /// Summary shown above the fields when validation fails.
    pub fix_errors: &'static str,
    /// 1 on the agreement scale.
    pub disagree: &'static str,
    /// 7 on the agreement scale.
    pub agree: &'static str,
    /// Optional-question marker.
    pub optional: &'static str,
    /// Shown while the survey loads.
    pub loading: &'static str,
    /// A required question left unanswered.
    pub answer_required: &'static str,
    /// A value outside the scale; `{min}` and `{max}` are filled in.
    pub choose_between: &'static str,
    /// Text over the limit; `{max}` is filled in.
    pub too_long: &'static str,
    /// An email address that does not look like one.
    pub email_invalid: &'static str,
    /// Identity chosen but no field filled in.
    pub identity_missing: &'static str,
    /// Any other problem with an answer.
    pub check_answer: &'static str,
    /// Promoter, passive, detractor.
    pub nps_categories: [&'static str; 3],
    /// Ambassador, ambivalent, stalker, opponent.
    pub relationship_categories: [&'static str; 4],
}

const EN: Strings = Strings {
    progress: "Answered",
    of: "of",
    confidentiality_heading: "Your identity",
    keep_confidential: "Keep my answers confidential",
    confidential_explained: "Your answers are used in the results, but who gave them is never shown to the team you are rating.",
    be_identified: "Share my name with my answers",
    identified_explained: "The team you are rating can see your answers with your name, so they can follow up with you.",
    confidential_notice: "Your details are held confidentially and never shown with your answers to the team you are rating.",
    identity_holder: "Who can see who you are: {team}. The team you are rating never sees who said what.",
    default_programme_team: "only the people who run this feedback programme",
    anonymous_notice: "This survey is anonymous: nothing that identifies you is asked for or kept.",
    invitation_notice: "You were invited personally, so we do not ask who you are again.",
    name: "Name",
    email: "Email",
    organisation: "Organisation",
    submit: "Send my answers",
    sending: "Sending…",
    queued: "Your answers are saved on this device and will be sent as soon as the connection is back. You can close this page.",
    blocked_heading: "Your answers have not been sent yet",
    blocked: "This website is not set up to deliver your answers to the survey service, so they could not be sent. They are saved on this device and will be sent when you open this page again after the website has fixed this. You do not need to answer again.",
    thanks: "Thank you for your feedback",
    provisional_intro: "A first reading of your answers:",
    recommendation: "Recommendation",
    relationship_quality: "Relationship quality (1–7)",
    relationship: "Relationship category",
    fix_errors: "Please check the highlighted answers.",
    disagree: "Strongly disagree",
    agree: "Strongly agree",
    optional: "optional",
    loading: "Loading the survey…",
    answer_required: "Please answer this question.",
    choose_between: "Please choose a value from {min} to {max}.",
    too_long: "Please shorten this to at most {max} characters.",
    email_invalid: "Please enter a valid email address, or leave it empty.",
    identity_missing: "Please give your name, email or organisation.",
    check_answer: "Please check this answer.",
    nps_categories: ["Promoter", "Passive", "Detractor"],
    relationship_categories: ["Ambassador", "Ambivalent", "Stalker", "Opponent"],
};

const FR: Strings = Strings {
    progress: "Réponses",
    of: "sur",
    confidentiality_heading: "Votre identité",
    keep_confidential: "Garder mes réponses confidentielles",
    confidential_explained: "Vos réponses comptent dans les résultats, mais l'équipe évaluée ne voit jamais qui les a données.",
    be_identified: "Associer mon nom à mes réponses",
    identified_explained: "L'équipe évaluée voit vos réponses avec votre nom et peut revenir vers vous.",
    confidential_notice: "Vos coordonnées restent confidentielles et ne sont jamais montrées avec vos réponses à l'équipe évaluée.",
    identity_holder: "Qui peut voir qui vous êtes : {team}. L'équipe évaluée ne voit jamais qui a dit quoi.",
    default_programme_team: "uniquement les personnes qui mènent ce programme d'écoute client",
    anonymous_notice: "Cette enquête est anonyme : rien qui vous identifie n'est demandé ni conservé.",
    invitation_notice: "Vous avez été invité personnellement : nous ne vous redemandons pas qui vous êtes.",
    name: "Nom",
    email: "E-mail",
    organisation: "Organisation",
    submit: "Envoyer mes réponses",
    sending: "Envoi…",
    queued: "Vos réponses sont enregistrées sur cet appareil et seront envoyées dès le retour de la connexion. Vous pouvez fermer cette page.",
    blocked_heading: "Vos réponses n'ont pas encore été envoyées",
    blocked: "Ce site n'est pas configuré pour transmettre vos réponses au service d'enquête : elles n'ont donc pas pu être envoyées. Elles sont enregistrées sur cet appareil et seront envoyées lorsque vous rouvrirez cette page, une fois le problème corrigé par le site. Vous n'avez pas besoin de répondre à nouveau.",
    thanks: "Merci pour votre retour",
    provisional_intro: "Une première lecture de vos réponses :",
    recommendation: "Recommandation",
    relationship_quality: "Qualité de la relation (1–7)",
    relationship: "Type de relation",
    fix_errors: "Veuillez vérifier les réponses signalées.",
    disagree: "Pas du tout d'accord",
    agree: "Tout à fait d'accord",
    optional: "facultatif",
    loading: "Chargement de l'enquête…",
    answer_required: "Veuillez répondre à cette question.",
    choose_between: "Veuillez choisir une valeur de {min} à {max}.",
    too_long: "Veuillez raccourcir ce texte à {max} caractères au plus.",
    email_invalid: "Veuillez saisir une adresse e-mail valide, ou laisser le champ vide.",
    identity_missing: "Veuillez indiquer votre nom, votre e-mail ou votre organisation.",
    check_answer: "Veuillez vérifier cette réponse.",
    nps_categories: ["Promoteur", "Passif", "Détracteur"],
    relationship_categories: ["Ambassadeur", "Ambivalent", "Harceleur", "Opposant"],
};

const DE: Strings = Strings {
    progress: "Beantwortet",
    of: "von",
    confidentiality_heading: "Ihre Identität",
    keep_confidential: "Meine Antworten vertraulich behandeln",
    confidential_explained: "Ihre Antworten fließen in die Ergebnisse ein, aber das bewertete Team sieht nie, von wem sie stammen.",
    be_identified: "Meinen Namen mit meinen Antworten teilen",
    identified_explained: "Das bewertete Team sieht Ihre Antworten mit Ihrem Namen und kann sich bei Ihnen melden.",
    confidential_notice: "Ihre Angaben werden vertraulich behandelt und dem bewerteten Team nie mit Ihren Antworten gezeigt.",
    identity_holder: "Wer sehen kann, wer Sie sind: {team}. Das bewertete Team sieht nie, wer was gesagt hat.",
    default_programme_team: "nur die Personen, die dieses Feedback-Programm leiten",
    anonymous_notice: "Diese Umfrage ist anonym: Nichts, was Sie identifiziert, wird erfragt oder gespeichert.",
    invitation_notice: "Sie wurden persönlich eingeladen, daher fragen wir nicht erneut, wer Sie sind.",
    name: "Name",
    email: "E-Mail",
    organisation: "Organisation",
    submit: "Antworten senden",
    sending: "Wird gesendet…",
    queued: "Ihre Antworten sind auf diesem Gerät gespeichert und werden gesendet, sobald die Verbindung wieder besteht. Sie können die Seite schließen.",
    blocked_heading: "Ihre Antworten wurden noch nicht gesendet",
    blocked: "Diese Website ist nicht dafür eingerichtet, Ihre Antworten an den Umfragedienst zu übermitteln, daher konnten sie nicht gesendet werden. Sie sind auf diesem Gerät gespeichert und werden gesendet, wenn Sie diese Seite erneut öffnen, nachdem die Website das behoben hat. Sie müssen nicht noch einmal antworten.",
    thanks: "Vielen Dank für Ihr Feedback",
    provisional_intro: "Eine erste Auswertung Ihrer Antworten:",
    recommendation: "Empfehlung",
    relationship_quality: "Beziehungsqualität (1–7)",
    relationship: "Beziehungstyp",
    fix_errors: "Bitte prüfen Sie die markierten Antworten.",
    disagree: "Stimme überhaupt nicht zu",
    agree: "Stimme voll zu",
    optional: "optional",
    loading: "Umfrage wird geladen…",
    answer_required: "Bitte beantworten Sie diese Frage.",
    choose_between: "Bitte wählen Sie einen Wert von {min} bis {max}.",
    too_long: "Bitte kürzen Sie den Text auf höchstens {max} Zeichen.",
    email_invalid: "Bitte geben Sie eine gültige E-Mail-Adresse ein oder lassen Sie das Feld leer.",
    identity_missing: "Bitte nennen Sie Ihren Namen, Ihre E-Mail-Adresse oder Ihre Organisation.",
    check_answer: "Bitte prüfen Sie diese Antwort.",
    nps_categories: ["Promotor", "Passiver", "Kritiker"],
    relationship_categories: ["Botschafter", "Ambivalent", "Stalker", "Gegner"],
};

const NL: Strings = Strings {
    progress: "Beantwoord",
    of: "van",
    confidentiality_heading: "Uw identiteit",
    keep_confidential: "Mijn antwoorden vertrouwelijk houden",
    confidential_explained: "Uw antwoorden tellen mee in de resultaten, maar het beoordeelde team ziet nooit wie ze gaf.",
    be_identified: "Mijn naam bij mijn antwoorden delen",
    identified_explained: "Het beoordeelde team ziet uw antwoorden met uw naam en kan contact met u opnemen.",
    confidential_notice: "Uw gegevens blijven vertrouwelijk en worden nooit met uw antwoorden aan het beoordeelde team getoond.",
    identity_holder: "Wie kan zien wie u bent: {team}. Het beoordeelde team ziet nooit wie wat heeft gezegd.",
    default_programme_team: "alleen de mensen die dit feedbackprogramma leiden",
    anonymous_notice: "Deze enquête is anoniem: niets wat u identificeert wordt gevraagd of bewaard.",
    invitation_notice: "U bent persoonlijk uitgenodigd, dus we vragen niet opnieuw wie u bent.",
    name: "Naam",
    email: "E-mail",
    organisation: "Organisatie",
    submit: "Antwoorden versturen",
    sending: "Versturen…",
    queued: "Uw antwoorden zijn op dit apparaat bewaard en worden verstuurd zodra de verbinding terug is. U kunt deze pagina sluiten.",
    blocked_heading: "Uw antwoorden zijn nog niet verstuurd",
    blocked: "Deze website is niet ingericht om uw antwoorden aan de enquêtedienst door te geven, dus konden ze niet worden verstuurd. Ze zijn op dit apparaat bewaard en worden verstuurd wanneer u deze pagina opnieuw opent nadat de website dit heeft opgelost. U hoeft niet opnieuw te antwoorden.",
    thanks: "Dank u voor uw feedback",
    provisional_intro: "Een eerste lezing van uw antwoorden:",
    recommendation: "Aanbeveling",
    relationship_quality: "Relatiekwaliteit (1–7)",
    relationship: "Type relatie",
    fix_errors: "Controleer de gemarkeerde antwoorden.",
    disagree: "Helemaal oneens",
    agree: "Helemaal eens",
    optional: "optioneel",
    loading: "Enquête laden…",
    answer_required: "Beantwoord deze vraag.",
    choose_between: "Kies een waarde van {min} tot {max}.",
    too_long: "Maak deze tekst korter: hoogstens {max} tekens.",
    email_invalid: "Vul een geldig e-mailadres in, of laat het veld leeg.",
    identity_missing: "Vul uw naam, e-mailadres of organisatie in.",
    check_answer: "Controleer dit antwoord.",
    nps_categories: ["Promotor", "Passief", "Criticaster"],
    relationship_categories: ["Ambassadeur", "Ambivalent", "Stalker", "Tegenstander"],
};

const ES: Strings = Strings {
    progress: "Respondidas",
    of: "de",
    confidentiality_heading: "Su identidad",
    keep_confidential: "Mantener mis respuestas confidenciales",
    confidential_explained: "Sus respuestas cuentan en los resultados, pero el equipo evaluado nunca ve quién las dio.",
    be_identified: "Compartir mi nombre con mis respuestas",
    identified_explained: "El equipo evaluado ve sus respuestas con su nombre y puede contactarle.",
    confidential_notice: "Sus datos se guardan de forma confidencial y nunca se muestran con sus respuestas al equipo evaluado.",
    identity_holder: "Quién puede ver quién es usted: {team}. El equipo evaluado nunca ve quién dijo qué.",
    default_programme_team: "solo las personas que dirigen este programa de opinión",
    anonymous_notice: "Esta encuesta es anónima: no se pide ni se guarda nada que le identifique.",
    invitation_notice: "Ha sido invitado personalmente, así que no le preguntamos de nuevo quién es.",
    name: "Nombre",
    email: "Correo electrónico",
    organisation: "Organización",
    submit: "Enviar mis respuestas",
    sending: "Enviando…",
    queued: "Sus respuestas están guardadas en este dispositivo y se enviarán en cuanto vuelva la conexión. Puede cerrar esta página.",
    blocked_heading: "Sus respuestas aún no se han enviado",
    blocked: "Este sitio web no está configurado para entregar sus respuestas al servicio de encuestas, por eso no se han podido enviar. Están guardadas en este dispositivo y se enviarán cuando vuelva a abrir esta página, una vez que el sitio lo haya corregido. No necesita responder de nuevo.",
    thanks: "Gracias por su opinión",
    provisional_intro: "Una primera lectura de sus respuestas:",
    recommendation: "Recomendación",
    relationship_quality: "Calidad de la relación (1–7)",
    relationship: "Tipo de relación",
    fix_errors: "Revise las respuestas señaladas.",
    disagree: "Totalmente en desacuerdo",
    agree: "Totalmente de acuerdo",
    optional: "opcional",
    loading: "Cargando la encuesta…",
    answer_required: "Responda a esta pregunta.",
    choose_between: "Elija un valor de {min} a {max}.",
    too_long: "Acorte este texto a {max} caracteres como máximo.",
    email_invalid: "Introduzca un correo electrónico válido o deje el campo vacío.",
    identity_missing: "Indique su nombre, correo electrónico u organización.",
    check_answer: "Revise esta respuesta.",
    nps_categories: ["Promotor", "Pasivo", "Detractor"],
    relationship_categories: ["Embajador", "Ambivalente", "Acosador", "Oponente"],
};

/// What to tell the respondent about a validation error from `scoring`, in their language,
/// next to the question concerned. Errors a respondent cannot cause through the form (an
/// unknown question, a survey mismatch) keep scoring's own technical wording.
pub fn validation_message(error: &ValidationError, locale: &Locale) -> String {
    let words = strings(locale);
    match error {
        ValidationError::Required { .. } => words.answer_required.to_owned(),
        ValidationError::OutOfRange { min, max, .. } => words
            .choose_between
            .replace("{min}", &min.to_string())
            .replace("{max}", &max.to_string()),
        ValidationError::TooLong { max_chars, .. } => {
            words.too_long.replace("{max}", &max_chars.to_string())
        }
        // Whatever is wrong with an email (not an address, a control character), the
        // respondent's fix is the same.
        ValidationError::WrongType { field, .. } | ValidationError::BadText { field, .. }
            if field == "identity.email" =>
        {
            words.email_invalid.to_owned()
        }
        ValidationError::BadText { field, .. } if field == "identity" => {
            words.identity_missing.to_owned()
        }
        ValidationError::WrongType { .. }
        | ValidationError::BadText { .. }
        | ValidationError::UnknownOption { .. } => words.check_answer.to_owned(),
        other => other.to_string(),
    }
}

/// The strings for a locale: its language if shipped, else English.
pub fn strings(locale: &Locale) -> &'static Strings {
    match locale.language() {
        "fr" => &FR,
        "de" => &DE,
        "nl" => &NL,
        "es" => &ES,
        _ => &EN,
    }
}

/// The first shipped language among `preferences` (attribute, then browser languages),
/// else English.
pub fn choose_locale<'a>(preferences: impl IntoIterator<Item = &'a str>) -> Locale {
    preferences
        .into_iter()
        .filter_map(|tag| {
            Locale::new(tag.trim().to_owned())
                .ok()
                .or_else(|| Locale::new(tag.trim().to_lowercase()).ok())
        })
        .find(|locale| ["en", "fr", "de", "nl", "es"].contains(&locale.language()))
        .unwrap_or_else(Locale::english)
}
