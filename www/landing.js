// The email landing page: reads the invitation from /s/{token}, greets the respondent with
// the firm and the matter it names, and shows the survey for that invitation. An altered or
// expired link gets a plain explanation instead. No inline script, so a strict CSP holds.
import '/widget/rapport.js';

const token = decodeURIComponent(location.pathname.split('/').filter(Boolean).pop() || '');
const status = document.getElementById('status');

function show(id, text) {
  const element = document.getElementById(id);
  element.textContent = text || '';
  element.hidden = !text;
}

async function start() {
  let response;
  try {
    response = await fetch(`/api/v1/invitations/${encodeURIComponent(token)}`);
  } catch {
    status.textContent = 'The survey cannot be reached right now. Please try again in a moment.';
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    document.body.classList.add('refused');
    show('greeting', 'This link cannot be used');
    status.textContent = (body.details && body.details[0] && body.details[0].message) || body.error || 'This invitation link is not valid.';
    return;
  }
  show('firm', body.firm);
  show('greeting', body.name ? `Thank you, ${body.name}` : 'Thank you');
  show('matter', body.matter ? `About: ${body.matter}` : '');
  status.textContent = body.answered
    ? 'You have already answered. You can update your answers below; the new ones replace the earlier ones.'
    : 'Two minutes of honest feedback helps us serve you better.';
  const survey = document.createElement('rapport-survey');
  survey.setAttribute('survey', body.survey);
  survey.setAttribute('token', token);
  document.getElementById('survey').appendChild(survey);
}

start();
