// The benchmark survey in Formbricks' standalone renderer (@formbricks/surveys).
const statements = [
  'We trust you to act in our best interest.', 'We are committed to continuing our relationship with you.',
  'Overall, we are satisfied with our relationship with you.', 'Working with you is truly different from the alternatives.',
  'You reliably deliver what you promise.', 'You respond quickly to our needs.', 'You genuinely care about us and our business.',
];
const questions = [
  { id: 'nps', type: 'nps', headline: 'How likely are you to recommend us to a friend or colleague?', lowerLabel: 'Not at all likely', upperLabel: 'Extremely likely', required: true, logic: [] },
  ...statements.map((headline, idx) => ({ id: `s${idx}`, type: 'rating', scale: 'number', range: 7, headline, lowerLabel: 'Strongly disagree', upperLabel: 'Strongly agree', required: false, logic: [] })),
  { id: 'confidentiality', type: 'multipleChoiceSingle', headline: 'Your identity', required: true, logic: [],
    choices: [{ id: 'confidential', label: 'Keep my answers confidential' }, { id: 'identified', label: 'Share my name with my answers' }] },
  { id: 'name', type: 'openText', headline: 'Name', inputType: 'text', required: false, logic: [] },
  { id: 'email', type: 'openText', headline: 'Email', inputType: 'email', required: false, logic: [] },
];
window.formbricksSurveys.renderSurveyInline({
  containerId: 'survey',
  brandColor: '#1f5f8b',
  isBrandingEnabled: false,
  survey: { id: 'bench', name: 'bench', type: 'link', questions, welcomeCard: { enabled: false }, thankYouCard: { enabled: true, headline: 'Thank you' }, styling: {} },
  onDisplay: () => {},
  onResponse: () => {},
  onFinished: () => {},
  onClose: () => {},
  onActiveQuestionChange: () => {},
  autoFocus: false,
});
