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
    /// Notice when an invitation says who answers and the respondent is identified.
    pub invitation_identified: &'static str,
    /// Notice when an invitation says who answers and the respondent stays confidential:
    /// `{team}` is who holds the name.
    pub invitation_confidential: &'static str,
    /// Notice when an invitation opened an anonymous survey: it is not sent.
    pub invitation_anonymous: &'static str,
    /// Above the identity fields of a confidential respondent, who may give them or not:
    /// `{team}` is who holds them.
    pub confidential_identity: &'static str,
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
    /// Heading of the screen shown while the response waits to be sent.
    pub queued_heading: &'static str,
    /// Shown when the response waits to be sent.
    pub queued: &'static str,
    /// Heading when this page may not send the answers (the site's configuration refuses).
    pub blocked_heading: &'static str,
    /// What that means for the respondent: not sent, kept, sent once the site is fixed.
    pub blocked: &'static str,
    /// Thank-you heading.
    pub thanks: &'static str,
    /// Under the thank-you heading: the answers arrived.
    pub arrived: &'static str,
    /// What happens next for an identified respondent.
    pub next_identified: &'static str,
    /// What happens next for a confidential respondent; `{team}` is who holds identities.
    pub next_confidential: &'static str,
    /// What happens next for an anonymous respondent.
    pub next_anonymous: &'static str,
    /// Heading of the summary of the respondent's own ratings (the wording the thank-you
    /// screen has always used, which host pages and their tests may wait for).
    pub your_ratings: &'static str,
    /// The 0–10 answer in that summary.
    pub likelihood: &'static str,
    /// Heading when this device already sent answers to this survey.
    pub answered_heading: &'static str,
    /// Under that heading.
    pub answered: &'static str,
    /// With an invitation: answers may be changed, and what happens to the earlier ones.
    pub update_explained: &'static str,
    /// The button that opens the form again.
    pub update_answers: &'static str,
    /// Above a form that will replace earlier answers.
    pub replacing: &'static str,
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
    /// "Share my name" chosen without a name or an email.
    pub name_or_email: &'static str,
    /// Any other problem with an answer.
    pub check_answer: &'static str,
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
    invitation_identified: "You were invited personally, so your name comes from your invitation and you do not need to type it. The team you are rating will see it with your answers.",
    invitation_confidential: "You were invited personally, so we already know who you are and do not ask again. Who sees your name: {team}, never the team you are rating.",
    invitation_anonymous: "You were invited personally, but this survey is anonymous: your invitation is not sent with your answers, so nobody can see who gave them.",
    confidential_identity: "Giving your name or email is up to you. Who sees them: {team}, never the team you are rating.",
    name: "Name",
    email: "Email",
    organisation: "Organisation",
    submit: "Send my answers",
    sending: "Sending…",
    queued_heading: "Your answers are saved",
    queued: "Your answers are saved on this device and will be sent as soon as the connection is back. You can close this page.",
    blocked_heading: "Your answers have not been sent yet",
    blocked: "This website is not set up to deliver your answers to the survey service, so they could not be sent. They are saved on this device and will be sent when you open this page again after the website has fixed this. You do not need to answer again.",
    thanks: "Thank you for your feedback",
    arrived: "Your answers have arrived.",
    next_identified: "You chose to share your name. The team you rated sees your answers with your name and may contact you about them.",
    next_confidential: "Your answers are confidential: they are counted with other clients' answers, and the team you rated never sees who gave them.",
    next_anonymous: "Your answers are anonymous: nothing that identifies you was kept with them. They are counted with other clients' answers.",
    your_ratings: "A first reading of your answers",
    likelihood: "Likelihood to recommend us",
    answered_heading: "You have already answered this survey",
    answered: "Thank you. Your answers were sent from this device.",
    update_explained: "If you wish, you can answer again. Your new answers replace the ones you sent before.",
    update_answers: "Change my answers",
    replacing: "Your new answers will replace the ones you sent before.",
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
    name_or_email: "To share your name, please enter your name or your email address.",
    check_answer: "Please check this answer.",
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
    invitation_identified: "Vous avez été invité personnellement : votre nom vient de votre invitation, vous n'avez pas à le saisir. L'équipe évaluée le verra avec vos réponses.",
    invitation_confidential: "Vous avez été invité personnellement : nous savons déjà qui vous êtes et ne vous le redemandons pas. Qui voit votre nom : {team}, jamais l'équipe évaluée.",
    invitation_anonymous: "Vous avez été invité personnellement, mais cette enquête est anonyme : votre invitation n'est pas envoyée avec vos réponses, personne ne peut donc savoir qui les a données.",
    confidential_identity: "Indiquer votre nom ou votre e-mail est facultatif. Qui les voit : {team}, jamais l'équipe évaluée.",
    name: "Nom",
    email: "E-mail",
    organisation: "Organisation",
    submit: "Envoyer mes réponses",
    sending: "Envoi…",
    queued_heading: "Vos réponses sont enregistrées",
    queued: "Vos réponses sont enregistrées sur cet appareil et seront envoyées dès le retour de la connexion. Vous pouvez fermer cette page.",
    blocked_heading: "Vos réponses n'ont pas encore été envoyées",
    blocked: "Ce site n'est pas configuré pour transmettre vos réponses au service d'enquête : elles n'ont donc pas pu être envoyées. Elles sont enregistrées sur cet appareil et seront envoyées lorsque vous rouvrirez cette page, une fois le problème corrigé par le site. Vous n'avez pas besoin de répondre à nouveau.",
    thanks: "Merci pour votre retour",
    arrived: "Vos réponses nous sont bien parvenues.",
    next_identified: "Vous avez choisi d'associer votre nom à vos réponses. L'équipe évaluée voit vos réponses avec votre nom et pourra revenir vers vous.",
    next_confidential: "Vos réponses sont confidentielles : elles sont comptées avec celles d'autres clients, et l'équipe évaluée ne voit jamais qui les a données.",
    next_anonymous: "Vos réponses sont anonymes : rien qui vous identifie n'a été conservé avec elles. Elles sont comptées avec celles d'autres clients.",
    your_ratings: "Une première lecture de vos réponses",
    likelihood: "Probabilité de nous recommander",
    answered_heading: "Vous avez déjà répondu à cette enquête",
    answered: "Merci. Vos réponses ont été envoyées depuis cet appareil.",
    update_explained: "Si vous le souhaitez, vous pouvez répondre à nouveau. Vos nouvelles réponses remplacent celles envoyées auparavant.",
    update_answers: "Modifier mes réponses",
    replacing: "Vos nouvelles réponses remplaceront celles envoyées auparavant.",
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
    name_or_email: "Pour associer votre nom, veuillez indiquer votre nom ou votre adresse e-mail.",
    check_answer: "Veuillez vérifier cette réponse.",
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
    invitation_identified: "Sie wurden persönlich eingeladen: Ihr Name stammt aus Ihrer Einladung, Sie müssen ihn nicht eingeben. Das bewertete Team sieht ihn mit Ihren Antworten.",
    invitation_confidential: "Sie wurden persönlich eingeladen: Wir wissen bereits, wer Sie sind, und fragen nicht erneut. Wer Ihren Namen sieht: {team}, nie das bewertete Team.",
    invitation_anonymous: "Sie wurden persönlich eingeladen, aber diese Umfrage ist anonym: Ihre Einladung wird nicht mit Ihren Antworten gesendet, daher kann niemand sehen, von wem sie stammen.",
    confidential_identity: "Ob Sie Ihren Namen oder Ihre E-Mail-Adresse angeben, entscheiden Sie. Wer sie sieht: {team}, nie das bewertete Team.",
    name: "Name",
    email: "E-Mail",
    organisation: "Organisation",
    submit: "Antworten senden",
    sending: "Wird gesendet…",
    queued_heading: "Ihre Antworten sind gespeichert",
    queued: "Ihre Antworten sind auf diesem Gerät gespeichert und werden gesendet, sobald die Verbindung wieder besteht. Sie können die Seite schließen.",
    blocked_heading: "Ihre Antworten wurden noch nicht gesendet",
    blocked: "Diese Website ist nicht dafür eingerichtet, Ihre Antworten an den Umfragedienst zu übermitteln, daher konnten sie nicht gesendet werden. Sie sind auf diesem Gerät gespeichert und werden gesendet, wenn Sie diese Seite erneut öffnen, nachdem die Website das behoben hat. Sie müssen nicht noch einmal antworten.",
    thanks: "Vielen Dank für Ihr Feedback",
    arrived: "Ihre Antworten sind angekommen.",
    next_identified: "Sie haben sich entschieden, Ihren Namen zu teilen. Das bewertete Team sieht Ihre Antworten mit Ihrem Namen und kann sich bei Ihnen melden.",
    next_confidential: "Ihre Antworten sind vertraulich: Sie werden zusammen mit den Antworten anderer Kunden ausgewertet, und das bewertete Team sieht nie, von wem sie stammen.",
    next_anonymous: "Ihre Antworten sind anonym: Nichts, was Sie identifiziert, wurde mit ihnen gespeichert. Sie werden zusammen mit den Antworten anderer Kunden ausgewertet.",
    your_ratings: "Eine erste Auswertung Ihrer Antworten",
    likelihood: "Wahrscheinlichkeit einer Empfehlung",
    answered_heading: "Sie haben diese Umfrage bereits beantwortet",
    answered: "Vielen Dank. Ihre Antworten wurden von diesem Gerät gesendet.",
    update_explained: "Wenn Sie möchten, können Sie erneut antworten. Ihre neuen Antworten ersetzen die zuvor gesendeten.",
    update_answers: "Meine Antworten ändern",
    replacing: "Ihre neuen Antworten ersetzen die zuvor gesendeten.",
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
    name_or_email: "Um Ihren Namen zu teilen, geben Sie bitte Ihren Namen oder Ihre E-Mail-Adresse ein.",
    check_answer: "Bitte prüfen Sie diese Antwort.",
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
    invitation_identified: "U bent persoonlijk uitgenodigd: uw naam komt uit uw uitnodiging, u hoeft hem niet in te vullen. Het beoordeelde team ziet hem bij uw antwoorden.",
    invitation_confidential: "U bent persoonlijk uitgenodigd: we weten al wie u bent en vragen het niet opnieuw. Wie uw naam ziet: {team}, nooit het beoordeelde team.",
    invitation_anonymous: "U bent persoonlijk uitgenodigd, maar deze enquête is anoniem: uw uitnodiging wordt niet met uw antwoorden verstuurd, dus niemand kan zien wie ze gaf.",
    confidential_identity: "Of u uw naam of e-mailadres geeft, kiest u zelf. Wie ze ziet: {team}, nooit het beoordeelde team.",
    name: "Naam",
    email: "E-mail",
    organisation: "Organisatie",
    submit: "Antwoorden versturen",
    sending: "Versturen…",
    queued_heading: "Uw antwoorden zijn bewaard",
    queued: "Uw antwoorden zijn op dit apparaat bewaard en worden verstuurd zodra de verbinding terug is. U kunt deze pagina sluiten.",
    blocked_heading: "Uw antwoorden zijn nog niet verstuurd",
    blocked: "Deze website is niet ingericht om uw antwoorden aan de enquêtedienst door te geven, dus konden ze niet worden verstuurd. Ze zijn op dit apparaat bewaard en worden verstuurd wanneer u deze pagina opnieuw opent nadat de website dit heeft opgelost. U hoeft niet opnieuw te antwoorden.",
    thanks: "Dank u voor uw feedback",
    arrived: "Uw antwoorden zijn aangekomen.",
    next_identified: "U hebt ervoor gekozen uw naam te delen. Het beoordeelde team ziet uw antwoorden met uw naam en kan contact met u opnemen.",
    next_confidential: "Uw antwoorden zijn vertrouwelijk: ze worden samen met de antwoorden van andere klanten geteld, en het beoordeelde team ziet nooit wie ze gaf.",
    next_anonymous: "Uw antwoorden zijn anoniem: niets wat u identificeert is erbij bewaard. Ze worden samen met de antwoorden van andere klanten geteld.",
    your_ratings: "Een eerste lezing van uw antwoorden",
    likelihood: "Kans dat u ons aanbeveelt",
    answered_heading: "U hebt deze enquête al beantwoord",
    answered: "Dank u. Uw antwoorden zijn vanaf dit apparaat verstuurd.",
    update_explained: "Als u wilt, kunt u opnieuw antwoorden. Uw nieuwe antwoorden vervangen de antwoorden die u eerder stuurde.",
    update_answers: "Mijn antwoorden wijzigen",
    replacing: "Uw nieuwe antwoorden vervangen de antwoorden die u eerder stuurde.",
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
    name_or_email: "Om uw naam te delen, vul uw naam of uw e-mailadres in.",
    check_answer: "Controleer dit antwoord.",
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
    invitation_identified: "Ha sido invitado personalmente: su nombre viene de su invitación y no necesita escribirlo. El equipo evaluado lo verá con sus respuestas.",
    invitation_confidential: "Ha sido invitado personalmente: ya sabemos quién es y no se lo preguntamos de nuevo. Quién ve su nombre: {team}, nunca el equipo evaluado.",
    invitation_anonymous: "Ha sido invitado personalmente, pero esta encuesta es anónima: su invitación no se envía con sus respuestas, así que nadie puede ver quién las dio.",
    confidential_identity: "Dar su nombre o su correo electrónico es opcional. Quién los ve: {team}, nunca el equipo evaluado.",
    name: "Nombre",
    email: "Correo electrónico",
    organisation: "Organización",
    submit: "Enviar mis respuestas",
    sending: "Enviando…",
    queued_heading: "Sus respuestas están guardadas",
    queued: "Sus respuestas están guardadas en este dispositivo y se enviarán en cuanto vuelva la conexión. Puede cerrar esta página.",
    blocked_heading: "Sus respuestas aún no se han enviado",
    blocked: "Este sitio web no está configurado para entregar sus respuestas al servicio de encuestas, por eso no se han podido enviar. Están guardadas en este dispositivo y se enviarán cuando vuelva a abrir esta página, una vez que el sitio lo haya corregido. No necesita responder de nuevo.",
    thanks: "Gracias por su opinión",
    arrived: "Sus respuestas han llegado.",
    next_identified: "Ha elegido compartir su nombre. El equipo evaluado ve sus respuestas con su nombre y puede contactarle sobre ellas.",
    next_confidential: "Sus respuestas son confidenciales: se cuentan junto con las de otros clientes, y el equipo evaluado nunca ve quién las dio.",
    next_anonymous: "Sus respuestas son anónimas: no se guardó con ellas nada que le identifique. Se cuentan junto con las de otros clientes.",
    your_ratings: "Una primera lectura de sus respuestas",
    likelihood: "Probabilidad de recomendarnos",
    answered_heading: "Ya ha respondido a esta encuesta",
    answered: "Gracias. Sus respuestas se enviaron desde este dispositivo.",
    update_explained: "Si lo desea, puede responder de nuevo. Sus nuevas respuestas sustituyen a las que envió antes.",
    update_answers: "Cambiar mis respuestas",
    replacing: "Sus nuevas respuestas sustituirán a las que envió antes.",
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
    name_or_email: "Para compartir su nombre, indique su nombre o su correo electrónico.",
    check_answer: "Revise esta respuesta.",
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

/// A number as the respondent's language writes it, to one decimal at most: `3.6` in
/// English, `3,6` in French, German, Dutch and Spanish; a whole number has no decimals
/// (`6`). Written with integer arithmetic, so the widget carries no float formatting code.
pub fn decimal(value: f64, locale: &Locale) -> String {
    let tenths = (value * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let (whole, tenth) = (tenths.unsigned_abs() / 10, tenths.unsigned_abs() % 10);
    if tenth == 0 {
        return format!("{sign}{whole}");
    }
    let separator = if locale.language() == "en" { '.' } else { ',' };
    format!("{sign}{whole}{separator}{tenth}")
}
