// The benchmark survey in SurveyJS (survey-core with its vanilla-JS UI, survey-js-ui).
const statements = [
  'We trust you to act in our best interest.', 'We are committed to continuing our relationship with you.',
  'Overall, we are satisfied with our relationship with you.', 'Working with you is truly different from the alternatives.',
  'You reliably deliver what you promise.', 'You respond quickly to our needs.', 'You genuinely care about us and our business.',
];
const json = {
  elements: [
    { type: 'rating', name: 'nps', title: 'How likely are you to recommend us to a friend or colleague?', rateMin: 0, rateMax: 10, minRateDescription: 'Not at all likely', maxRateDescription: 'Extremely likely', isRequired: true },
    ...statements.map((title, idx) => ({ type: 'rating', name: `s${idx}`, title, rateMin: 1, rateMax: 7 })),
    { type: 'boolean', name: 'identified', title: 'Share my name with my answers' },
    { type: 'text', name: 'name', title: 'Name', visibleIf: '{identified} = true' },
    { type: 'text', name: 'email', title: 'Email', inputType: 'email', visibleIf: '{identified} = true' },
  ],
};
const survey = new Survey.Model(json);
survey.render(document.getElementById('survey'));
