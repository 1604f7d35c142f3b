// The floor for the widget benchmark: the same survey (NPS, seven 1–7 statements, the
// confidentiality toggle, name, email) as a hand-written form with no framework.
const statements = [
  'We trust you to act in our best interest.', 'We are committed to continuing our relationship with you.',
  'Overall, we are satisfied with our relationship with you.', 'Working with you is truly different from the alternatives.',
  'You reliably deliver what you promise.', 'You respond quickly to our needs.', 'You genuinely care about us and our business.',
];
const root = document.getElementById('survey');
const form = document.createElement('form');
const scale = (name, from, to) => {
  const group = document.createElement('div');
  group.setAttribute('role', 'radiogroup');
  group.setAttribute('aria-label', name);
  for (let value = from; value <= to; value += 1) {
    const button = document.createElement('button');
    button.type = 'button';
    button.setAttribute('role', 'radio');
    button.setAttribute('aria-checked', 'false');
    button.textContent = String(value);
    button.addEventListener('click', () => {
      for (const other of group.children) other.setAttribute('aria-checked', 'false');
      button.setAttribute('aria-checked', 'true');
    });
    group.appendChild(button);
  }
  return group;
};
const heading = document.createElement('p');
heading.textContent = 'How likely are you to recommend us to a friend or colleague?';
form.append(heading, scale('recommend', 0, 10));
for (const text of statements) {
  const label = document.createElement('p');
  label.textContent = text;
  form.append(label, scale(text, 1, 7));
}
const toggle = document.createElement('label');
const checkbox = document.createElement('input');
checkbox.type = 'checkbox';
toggle.append(checkbox, ' Share my name with my answers');
const name = document.createElement('input');
const email = document.createElement('input');
email.type = 'email';
name.hidden = true;
email.hidden = true;
checkbox.addEventListener('change', () => { name.hidden = !checkbox.checked; email.hidden = !checkbox.checked; });
const submit = document.createElement('button');
submit.type = 'submit';
submit.textContent = 'Send';
form.append(toggle, name, email, submit);
form.addEventListener('submit', (event) => {
  event.preventDefault();
  fetch('/collect', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({}) });
});
root.appendChild(form);
