// What a client of the firm meets from the first question to the screen after sending, on
// the demo portal against the real server: no internal label ever, the privacy choice
// confirmed, focus on the new screen, numbers in their language, optional questions
// marked, a name or an email when they choose to be named, a reload that says the survey
// was answered, and a layout that fits a 320 px phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, storedCount, watchErrors } from './support.mjs';

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Internal words of the programme, in the five languages; none may reach the respondent.
const INTERNAL_LABELS = /promot|passiv|detract|détract|kritiker|criticaster|ambassad|botschafter|embajador|ambival|stalker|harceleur|acosador|opponent|opposant|gegner|tegenstander|oponente/i;

async function openPortal({ viewport = { width: 1280, height: 800 }, locale, token } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.url}/`);
  await page.locator('rapport-survey .point').first().waitFor();
  if (locale || token) {
    // Changing an attribute remounts the widget in that language or with that invitation.
    await page.evaluate(({ locale, token }) => {
      const element = document.querySelector('rapport-survey');
      if (locale) element.setAttribute('locale', locale);
      if (token) element.setAttribute('token', token);
    }, { locale, token });
    await page.locator(`rapport-survey form[lang^="${locale || 'en'}"] .point`).first().waitFor();
  }
  return { page, context, errors };
}

/** The widget's visible text, read through its shadow root. */
function widgetText(page) {
  return page.locator('rapport-survey').evaluate((element) => element.shadowRoot.textContent);
}

/** What has focus, looking through the shadow root. */
function focused(page) {
  return page.evaluate(() => {
    let element = document.activeElement;
    while (element && element.shadowRoot && element.shadowRoot.activeElement) element = element.shadowRoot.activeElement;
    return { tag: element.tagName, text: element.textContent.trim(), tabindex: element.getAttribute('tabindex') };
  });
}

async function rate(page, nps, statements) {
  await page.getByRole('radiogroup', { name: nps[0] }).getByRole('radio', { name: nps[1], exact: true }).click();
  for (const [statement, rating] of statements) {
    await page.getByRole('radiogroup', { name: statement }).getByRole('radio', { name: rating, exact: true }).click();
  }
}

test('the thank-you screen confirms arrival and privacy, lists the ratings neutrally, and takes focus', { timeout: 60_000 }, async () => {
  const { page, context, errors } = await openPortal();
  await rate(page, [/recommend us/, '3'], [[/trust you/, '2'], [/committed/, '3'], [/satisfied/, '2'], [/truly different/, '1']]);
  const detail = page.evaluate(() => new Promise((resolve) => {
    document.addEventListener('rapport:submitted', (event) => resolve(event.detail), { once: true });
  }));
  await page.getByRole('button', { name: 'Send my answers' }).click();
  const event = await detail;
  await page.getByRole('heading', { name: 'Thank you for your feedback' }).waitFor();
  // The host page still gets the categories; the respondent never sees them.
  assert.equal(event.provisional.nps_category, 'detractor');
  assert.equal(event.provisional.relationship, 'opponent');
  const text = await widgetText(page);
  assert.doesNotMatch(text, INTERNAL_LABELS);
  assert.match(text, /Your answers have arrived\./);
  assert.match(text, /Your answers are confidential: they are counted with other clients' answers, and the team you rated never sees who gave them\./);
  assert.match(text, /Relationship: 2\.3 of 7/);
  assert.match(text, /Uniqueness: 1 of 7/);
  assert.deepEqual(await focused(page), { tag: 'H2', text: 'Thank you for your feedback', tabindex: '-1' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('in French the decimals take a comma and no label such as "Harceleur" appears', { timeout: 60_000 }, async () => {
  const { page, context } = await openPortal({ locale: 'fr' });
  await rate(page, [/recommandiez/, '2'], [[/confiance/, '2'], [/attachés/, '3'], [/satisfaits/, '2']]);
  await page.getByRole('button', { name: 'Envoyer mes réponses' }).click();
  await page.getByRole('heading', { name: 'Merci pour votre retour' }).waitFor();
  const text = await widgetText(page);
  assert.doesNotMatch(text, INTERNAL_LABELS);
  assert.match(text, /2,3 sur 7/);
  assert.doesNotMatch(text, /\d\.\d/, 'no decimal point in French');
  await context.close();
});

test('optional questions are marked in all five languages', { timeout: 60_000 }, async () => {
  const expected = { en: 'optional', fr: 'facultatif', de: 'optional', nl: 'optioneel', es: 'opcional' };
  for (const [locale, word] of Object.entries(expected)) {
    const { page, context } = await openPortal({ locale });
    const markers = await page.locator('rapport-survey .statement .optional').allTextContents();
    // The client-portal template's service statements are optional.
    assert.ok(markers.length >= 2, `${locale}: ${markers.length} optional statements marked`);
    for (const marker of markers) assert.equal(marker.trim(), `(${word})`, locale);
    await context.close();
  }
});

test('"Share my name" needs a name or an email, says so next to the name, and sends nothing until then', { timeout: 60_000 }, async () => {
  const { page, context } = await openPortal();
  const before = await storedCount(server);
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '8' }).click();
  await page.getByRole('radio', { name: /Share my name/ }).check();
  await page.getByLabel('Organisation').fill('Northwind');
  await page.getByRole('button', { name: 'Send my answers' }).click();
  const message = page.getByText('To share your name, please enter your name or your email address.');
  await message.waitFor();
  assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('aria-invalid'), 'true');
  assert.match(await page.getByLabel('Name', { exact: true }).getAttribute('aria-describedby'), /err-identity/);
  assert.equal(await storedCount(server), before, 'nothing was sent');
  await page.getByLabel('Name', { exact: true }).fill('Ana Ruiz');
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByRole('heading', { name: 'Thank you for your feedback' }).waitFor();
  assert.equal(await storedCount(server), before + 1);
  assert.match(await widgetText(page), /You chose to share your name\./);
  await context.close();
});

test('after a successful send, a reload says the survey was answered and offers no blank form', { timeout: 60_000 }, async () => {
  const { page, context } = await openPortal();
  const before = await storedCount(server);
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '9' }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByRole('heading', { name: 'Thank you for your feedback' }).waitFor();
  await page.reload();
  await page.getByRole('heading', { name: 'You have already answered this survey' }).waitFor();
  assert.equal(await page.locator('rapport-survey .point').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Change my answers' }).count(), 0, 'without an invitation a second answer would count twice');
  assert.equal((await focused(page)).text, 'You have already answered this survey');
  assert.equal(await storedCount(server), before + 1);
  await context.close();
});

test('with an invitation, the answered screen lets the respondent answer again and says the new answers replace the old', { timeout: 60_000 }, async () => {
  const { page, context } = await openPortal({ token: 'invitation-one' });
  await page.evaluate(() => {
    // The answered mark is kept per invitation: remember this one as answered.
    const survey = 'client-portal';
    let hash = 0xcbf29ce484222325n;
    for (const byte of new TextEncoder().encode('invitation-one')) {
      hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
    }
    localStorage.setItem(`rapport:answered:${survey}:${hash.toString(16).padStart(16, '0')}`, '1');
  });
  await page.reload();
  await page.locator('rapport-survey .point').first().waitFor();
  // The page's own element has no token after a reload, and another invitation is not this one.
  assert.equal(await page.getByRole('heading', { name: 'You have already answered this survey' }).count(), 0);
  await page.evaluate(() => document.querySelector('rapport-survey').setAttribute('token', 'invitation-one'));
  await page.getByRole('heading', { name: 'You have already answered this survey' }).waitFor();
  await page.getByText('If you wish, you can answer again. Your new answers replace the ones you sent before.').waitFor();
  await page.getByRole('button', { name: 'Change my answers' }).click();
  await page.getByText('Your new answers will replace the ones you sent before.').waitFor();
  await page.locator('rapport-survey .point').first().waitFor();
  await context.close();
});

test('the invitation notice agrees with the confidentiality choice', { timeout: 60_000 }, async () => {
  const { page, context } = await openPortal({ token: 'some-invitation' });
  const notice = page.locator('rapport-survey .invitation-notice');
  assert.equal(await notice.textContent(), 'You were invited personally, so we already know who you are and do not ask again. Who sees your name: only the people who run this feedback programme, never the team you are rating.');
  await page.getByRole('radio', { name: /Share my name/ }).check();
  assert.equal(await notice.textContent(), 'You were invited personally, so your name comes from your invitation and you do not need to type it. The team you are rating will see it with your answers.');
  assert.equal(await page.getByLabel('Email').count(), 0, 'the invitation says who answers');
  await context.close();
});

test('a send that cannot go out moves focus to the saved-answers heading', { timeout: 60_000 }, async () => {
  const { page, context } = await openPortal();
  await page.route('**/api/v1/surveys/client-portal/responses', (route) => route.abort('connectionrefused'));
  await page.getByRole('radiogroup', { name: /recommend us/ }).getByRole('radio', { name: '7' }).click();
  await page.getByRole('button', { name: 'Send my answers' }).click();
  await page.getByRole('heading', { name: 'Your answers are saved' }).waitFor();
  assert.deepEqual(await focused(page), { tag: 'H2', text: 'Your answers are saved', tabindex: '-1' });
  await context.close();
});

/** Horizontal overflow of the page and the shadow root, scale buttons whose text takes more
 * than one line, and words split across lines, in the widget as it stands. */
function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    const root = document.querySelector('rapport-survey').shadowRoot;
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth) problems.push(`page scrolls sideways: ${doc.scrollWidth} > ${doc.clientWidth}`);
    // The host element contains its paint, so content wider than the widget would be cut
    // off rather than scroll the page: check the widget's box and every box inside it.
    const host = document.querySelector('rapport-survey').getBoundingClientRect();
    const card = root.querySelector('.rapport');
    if (card.scrollWidth > card.clientWidth) problems.push(`the widget scrolls sideways: ${card.scrollWidth} > ${card.clientWidth}`);
    if (host.right > doc.clientWidth + 0.5) problems.push(`the widget is wider than the page: ${host.right} > ${doc.clientWidth}`);
    for (const element of root.querySelectorAll('*')) {
      if (element.closest('.visually-hidden')) continue;
      const box = element.getBoundingClientRect();
      if (box.width > 0 && (box.right > host.right + 0.5 || box.left < host.left - 0.5)) {
        problems.push(`${element.tagName}.${element.className} sticks out (${Math.round(box.left)}–${Math.round(box.right)} of ${Math.round(host.left)}–${Math.round(host.right)})`);
      }
    }
    const lines = (range) => new Set([...range.getClientRects()].filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top))).size;
    for (const button of root.querySelectorAll('.point')) {
      const range = document.createRange();
      range.selectNodeContents(button);
      if (lines(range) !== 1) problems.push(`scale button "${button.textContent}" takes ${lines(range)} lines`);
      if (button.scrollWidth > button.clientWidth) problems.push(`scale button "${button.textContent}" is cut off`);
    }
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!node.parentElement || node.parentElement.closest('.visually-hidden')) continue;
      for (const match of node.data.matchAll(/[^\s\-–/]+/g)) {
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        if (lines(range) > 1) problems.push(`"${match[0]}" breaks mid-word`);
      }
    }
    return problems;
  });
}

test('at 320 and 375 px nothing overflows, "10" stays on one line and no word breaks', { timeout: 60_000 }, async () => {
  for (const width of [320, 375]) {
    for (const locale of ['en', 'de']) {
      const { page, context } = await openPortal({ viewport: { width, height: 700 }, locale });
      assert.deepEqual(await layoutProblems(page), [], `form at ${width}px in ${locale}`);
      if (locale === 'en') {
        await page.getByRole('radio', { name: /Share my name/ }).check();
        assert.deepEqual(await layoutProblems(page), [], `identity fields at ${width}px`);
        await page.getByRole('radio', { name: /Keep my answers confidential/ }).check();
      }
      await page.locator('rapport-survey .scale-11 .point').nth(6).click();
      await page.locator('rapport-survey .submit').click();
      await page.locator('rapport-survey .done h2').waitFor();
      assert.deepEqual(await layoutProblems(page), [], `thank-you at ${width}px in ${locale}`);
      await context.close();
    }
  }
});
