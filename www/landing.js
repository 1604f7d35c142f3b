// The email landing page: reads the invitation from /s/{token}, greets the client in the
// invitation's language (else the browser's, else English) with the firm and the matter's
// name, and shows the survey for that invitation in the same language. It thanks the client
// once the survey says the answers arrived, not before. A link that cannot be used gets a
// sentence saying what to do, naming the firm when the link still says which firm sent it.
// A number clicked in the email's scale arrives as `?answer=7`: this script records it as a
// provisional answer before the rest of the survey shows, with that number chosen, so a
// client who leaves after clicking still counts. Opening the link records nothing by itself,
// because mail scanners open links before people do; and a link already answered is never
// recorded again, so clicking twice, or after completing, changes nothing.
// No inline script, so a strict CSP holds.
import '/widget/rapport.js';

// Every word on the page around the survey, in the five languages the survey speaks.
// `firm` is the firm's name when known; sentences without it still say whom to ask.
const WORDS = {
  en: {
    title: 'Your feedback',
    checking: 'Checking your invitation…',
    greeting: (name) => `Dear ${name},`,
    about: (matter) => `About: ${matter}`,
    why: (firm) => `${firm || 'We'} would like to hear how the work went for you. It takes about two minutes.`,
    answered: 'You have already answered this survey. If you send it again, your new answers will replace the earlier ones.',
    answeredShown: 'If you send your answers again, they will replace the earlier ones.',
    saved: 'Thank you: your answer is saved. A few more questions follow below, if you have a minute.',
    answeredFinal: 'You have already answered this survey. Your answers are now part of the results shared in confidence, so they can no longer be changed. Thank you.',
    thanks: (name) => (name ? `Thank you, ${name}.` : 'Thank you.'),
    received: (firm) => (firm ? `Your answers have reached ${firm}.` : 'Your answers have been received.'),
    refused: 'This link cannot be used',
    expired: (firm) => `This link has expired. Please ask ${firm || 'the person who sent it to you'} for a new one.`,
    altered: 'This link is incomplete or has been changed. Please open it again from the email you received; if that does not help, ask the person who sent it to you for a new one.',
    unknown: (firm) => `This link is not recognised. Please ask ${firm || 'the person who sent it to you'} for a new one.`,
    replaced: (firm) => `This link has been replaced by a newer one. Please use the link in the latest email from ${firm || 'the person who sent it to you'}.`,
    unavailable: 'Please try again shortly',
    unreachable: 'The survey cannot be reached right now. Please check your internet connection and try again in a few minutes.',
  },
  fr: {
    title: 'Votre avis',
    checking: 'Vérification de votre invitation…',
    greeting: (name) => `Bonjour ${name},`,
    about: (matter) => `Objet\u00a0: ${matter}`,
    why: (firm) => `${firm ? `${firm} aimerait` : 'Nous aimerions'} connaître votre avis sur le travail accompli. Cela prend environ deux minutes.`,
    answered: 'Vous avez déjà répondu à ce questionnaire. Si vous l’envoyez à nouveau, vos nouvelles réponses remplaceront les précédentes.',
    answeredShown: 'Si vous envoyez à nouveau vos réponses, elles remplaceront les précédentes.',
    saved: 'Merci\u00a0: votre réponse est enregistrée. Quelques questions suivent ci-dessous, si vous avez une minute.',
    answeredFinal: 'Vous avez déjà répondu à ce questionnaire. Vos réponses font désormais partie des résultats partagés en toute confidentialité ; elles ne peuvent donc plus être modifiées. Merci.',
    thanks: (name) => (name ? `Merci, ${name}.` : 'Merci.'),
    received: (firm) => (firm ? `Vos réponses ont bien été transmises à ${firm}.` : 'Vos réponses ont bien été reçues.'),
    refused: 'Ce lien ne peut pas être utilisé',
    expired: (firm) => `Ce lien a expiré. Veuillez demander un nouveau lien à ${firm || 'la personne qui vous l’a envoyé'}.`,
    altered: 'Ce lien est incomplet ou a été modifié. Veuillez l’ouvrir à nouveau depuis l’e-mail reçu\u00a0; si cela ne suffit pas, demandez un nouveau lien à la personne qui vous l’a envoyé.',
    unknown: (firm) => `Ce lien n’est pas reconnu. Veuillez demander un nouveau lien à ${firm || 'la personne qui vous l’a envoyé'}.`,
    replaced: (firm) => `Ce lien a été remplacé par un lien plus récent. Veuillez utiliser le lien du dernier e-mail de ${firm || 'la personne qui vous l’a envoyé'}.`,
    unavailable: 'Veuillez réessayer un peu plus tard',
    unreachable: 'Le questionnaire est momentanément inaccessible. Veuillez vérifier votre connexion internet et réessayer dans quelques minutes.',
  },
  de: {
    title: 'Ihre Meinung',
    checking: 'Ihre Einladung wird geprüft …',
    greeting: (name) => `Guten Tag, ${name},`,
    about: (matter) => `Betreff: ${matter}`,
    why: (firm) => `${firm ? `${firm} möchte` : 'Wir möchten'} gern wissen, wie Sie die Zusammenarbeit erlebt haben. Das dauert etwa zwei Minuten.`,
    answered: 'Sie haben diese Umfrage bereits beantwortet. Wenn Sie sie noch einmal senden, ersetzen Ihre neuen Antworten die früheren.',
    answeredShown: 'Wenn Sie Ihre Antworten noch einmal senden, ersetzen sie die früheren.',
    saved: 'Vielen Dank: Ihre Antwort ist gespeichert. Wenn Sie eine Minute Zeit haben, folgen unten noch einige Fragen.',
    answeredFinal: 'Sie haben diese Umfrage bereits beantwortet. Ihre Antworten sind jetzt Teil der vertraulich geteilten Ergebnisse und können daher nicht mehr geändert werden. Vielen Dank.',
    thanks: (name) => (name ? `Vielen Dank, ${name}.` : 'Vielen Dank.'),
    received: (firm) => (firm ? `Ihre Antworten sind bei ${firm} eingegangen.` : 'Ihre Antworten sind eingegangen.'),
    refused: 'Dieser Link kann nicht verwendet werden',
    expired: (firm) => `Dieser Link ist abgelaufen. Bitte fordern Sie ${firm ? `bei ${firm}` : 'beim Absender'} einen neuen an.`,
    altered: 'Dieser Link ist unvollständig oder wurde verändert. Bitte öffnen Sie ihn erneut aus der erhaltenen E-Mail; falls das nicht hilft, fordern Sie beim Absender einen neuen an.',
    unknown: (firm) => `Dieser Link ist uns nicht bekannt. Bitte fordern Sie ${firm ? `bei ${firm}` : 'beim Absender'} einen neuen an.`,
    replaced: (firm) => `Dieser Link wurde durch einen neueren ersetzt. Bitte verwenden Sie den Link aus der letzten E-Mail ${firm ? `von ${firm}` : 'des Absenders'}.`,
    unavailable: 'Bitte versuchen Sie es etwas später erneut',
    unreachable: 'Die Umfrage ist gerade nicht erreichbar. Bitte prüfen Sie Ihre Internetverbindung und versuchen Sie es in einigen Minuten erneut.',
  },
  nl: {
    title: 'Uw mening',
    checking: 'Uw uitnodiging wordt gecontroleerd…',
    greeting: (name) => `Beste ${name},`,
    about: (matter) => `Betreft: ${matter}`,
    why: (firm) => `${firm ? `${firm} hoort` : 'Wij horen'} graag hoe u de samenwerking hebt ervaren. Het duurt ongeveer twee minuten.`,
    answered: 'U hebt deze vragenlijst al ingevuld. Als u hem opnieuw verstuurt, vervangen uw nieuwe antwoorden de eerdere.',
    answeredShown: 'Als u uw antwoorden opnieuw verstuurt, vervangen ze de eerdere.',
    saved: 'Dank u: uw antwoord is opgeslagen. Hieronder volgen nog een paar vragen, als u even tijd hebt.',
    answeredFinal: 'U hebt deze vragenlijst al ingevuld. Uw antwoorden maken nu deel uit van de vertrouwelijk gedeelde resultaten en kunnen daarom niet meer worden gewijzigd. Dank u.',
    thanks: (name) => (name ? `Dank u wel, ${name}.` : 'Dank u wel.'),
    received: (firm) => (firm ? `Uw antwoorden zijn bij ${firm} aangekomen.` : 'Uw antwoorden zijn ontvangen.'),
    refused: 'Deze link kan niet worden gebruikt',
    expired: (firm) => `Deze link is verlopen. Vraag ${firm || 'de afzender'} om een nieuwe.`,
    altered: 'Deze link is onvolledig of gewijzigd. Open hem opnieuw vanuit de e-mail die u hebt ontvangen; lukt dat niet, vraag de afzender dan om een nieuwe.',
    unknown: (firm) => `Deze link wordt niet herkend. Vraag ${firm || 'de afzender'} om een nieuwe.`,
    replaced: (firm) => `Deze link is vervangen door een nieuwere. Gebruik de link in de laatste e-mail van ${firm || 'de afzender'}.`,
    unavailable: 'Probeer het straks opnieuw',
    unreachable: 'De vragenlijst is nu niet bereikbaar. Controleer uw internetverbinding en probeer het over een paar minuten opnieuw.',
  },
  es: {
    title: 'Su opinión',
    checking: 'Comprobando su invitación…',
    greeting: (name) => `Hola, ${name}:`,
    about: (matter) => `Asunto: ${matter}`,
    why: (firm) => `${firm ? `A ${firm} le gustaría` : 'Nos gustaría'} conocer su opinión sobre el trabajo realizado. Le llevará unos dos minutos.`,
    answered: 'Ya ha respondido a esta encuesta. Si la envía de nuevo, sus nuevas respuestas sustituirán a las anteriores.',
    answeredShown: 'Si envía de nuevo sus respuestas, sustituirán a las anteriores.',
    saved: 'Gracias: su respuesta se ha guardado. Si tiene un minuto, a continuación siguen unas preguntas más.',
    answeredFinal: 'Ya ha respondido a esta encuesta. Sus respuestas forman parte ahora de los resultados compartidos de forma confidencial, por lo que ya no pueden modificarse. Gracias.',
    thanks: (name) => (name ? `Gracias, ${name}.` : 'Gracias.'),
    received: (firm) => (firm ? `Sus respuestas han llegado a ${firm}.` : 'Hemos recibido sus respuestas.'),
    refused: 'Este enlace no se puede usar',
    expired: (firm) => `Este enlace ha caducado. Pida uno nuevo a ${firm || 'la persona que se lo envió'}.`,
    altered: 'Este enlace está incompleto o ha sido modificado. Ábralo de nuevo desde el correo que recibió; si no funciona, pida uno nuevo a la persona que se lo envió.',
    unknown: (firm) => `Este enlace no se reconoce. Pida uno nuevo a ${firm || 'la persona que se lo envió'}.`,
    replaced: (firm) => `Este enlace ha sido sustituido por uno más reciente. Use el enlace del último correo de ${firm || 'la persona que se lo envió'}.`,
    unavailable: 'Vuelva a intentarlo en unos minutos',
    unreachable: 'La encuesta no está disponible en este momento. Compruebe su conexión a internet y vuelva a intentarlo en unos minutos.',
  },
};

// The invitation's language if it names one of the five; else the first of the browser's
// languages that is one of them; else English.
function chooseLanguage(invited) {
  if (invited && WORDS[invited]) return invited;
  const preferred = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
  for (const tag of preferred) {
    const language = String(tag || '').toLowerCase().split('-')[0];
    if (WORDS[language]) return language;
  }
  return 'en';
}

const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
// The number clicked in the email's scale, when the link carries one from 0 to 10.
const chosen = /^(10|[0-9])$/.test(new URLSearchParams(location.search).get('answer') || '')
  ? Number(new URLSearchParams(location.search).get('answer'))
  : null;

// A response id the server accepts (a lowercase version-4 UUID), also where
// crypto.randomUUID is missing (a page served over plain http).
function responseId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

// Records the clicked number as the invitation's answer, through the same endpoint and
// the same rules as the survey's own send: the invitation says who answers, and the answer
// is confidential (the survey's default, the most protective choice) until the client
// completes the survey and chooses otherwise. Completing sends the whole response, which
// replaces this one. An anonymous survey takes no invitation, so nothing is recorded there.
// True once the server has stored it.
async function recordChosen(survey, language) {
  const path = `/api/v1/surveys/${encodeURIComponent(survey)}`;
  const definition = await (await fetch(path)).json();
  const question = (definition.questions || []).find((asked) => asked.kind === 'nps');
  if (!question || definition.confidentiality === 'anonymous') return false;
  const response = await fetch(`${path}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    // The answer still arrives if the client closes the page at once.
    keepalive: true,
    body: JSON.stringify({
      format: 1,
      response_id: responseId(),
      survey_id: definition.id,
      survey_version: definition.version,
      locale: language,
      answers: { [question.id]: chosen },
      confidentiality: 'confidential',
      invitation: token,
      context: {},
      submitted_at: new Date().toISOString(),
    }),
  });
  return response.ok;
}
const status = document.getElementById('status');

function show(id, text) {
  const element = document.getElementById(id);
  element.textContent = text || '';
  element.hidden = !text;
}

function speak(language) {
  document.documentElement.lang = language;
  document.title = WORDS[language].title;
  return WORDS[language];
}

function refuse(heading, sentence) {
  document.body.classList.add('refused');
  show('greeting', heading);
  status.textContent = sentence;
}

async function start() {
  let words = speak(chooseLanguage(null));
  status.textContent = words.checking;
  let response;
  try {
    response = await fetch(`/api/v1/invitations/${encodeURIComponent(token)}`);
  } catch {
    refuse(words.unavailable, words.unreachable);
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    // A refused link may still say which firm sent it and in which language.
    words = speak(chooseLanguage(body.locale));
    show('firm', body.firm);
    const reason = body.reason;
    if (reason === 'expired') {
      refuse(words.refused, words.expired(body.firm));
    } else if (reason === 'altered') {
      refuse(words.refused, words.altered);
    } else if (reason === 'replaced') {
      refuse(words.refused, words.replaced(body.firm));
    } else if (reason === 'unknown' || reason === 'other_survey') {
      refuse(words.refused, words.unknown(body.firm));
    } else {
      refuse(words.unavailable, words.unreachable);
    }
    return;
  }
  words = speak(chooseLanguage(body.locale));
  show('firm', body.firm);
  show('greeting', body.name ? words.greeting(body.name) : words.title);
  // The matter's name for people, never its id: without a name there is no matter line.
  show('matter', body.matter_name ? words.about(body.matter_name) : '');
  if (body.answered && !body.replaceable) {
    // Answers already part of results shared in confidence never change: no form to send.
    status.textContent = words.answeredFinal;
    return;
  }
  status.textContent = body.answered ? words.answered : words.why(body.firm);
  if (chosen !== null && !body.answered) {
    // Stored before the survey shows, so the client's complete answers can only arrive
    // after it and replace it, never the other way round. A slow server delays the survey
    // by ten seconds at most.
    const saved = await Promise.race([
      recordChosen(body.survey, document.documentElement.lang).catch(() => false),
      new Promise((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    if (saved) status.textContent = words.saved;
  }
  // The survey says itself that this device already answered: the page then only adds what
  // sending again would do, rather than saying it twice.
  document.addEventListener('rapport:ready', (event) => {
    if (body.answered && event.detail && event.detail.answered) status.textContent = words.answeredShown;
  });
  document.addEventListener('rapport:submitted', () => {
    show('greeting', words.thanks(body.name));
    status.textContent = words.received(body.firm);
  });
  const survey = document.createElement('rapport-survey');
  survey.setAttribute('survey', body.survey);
  survey.setAttribute('token', token);
  survey.setAttribute('locale', document.documentElement.lang);
  if (chosen !== null) survey.setAttribute('nps', String(chosen));
  document.getElementById('survey').appendChild(survey);
}

start();
