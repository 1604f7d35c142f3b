// Rapport survey widget loader. Include with
//   <script type="module" src="https://your-server/widget/rapport.js"
//           integrity="sha384-…" crossorigin="anonymous"></script>
// (`cargo xtask dist` prints the integrity of each build), then place
// <rapport-survey survey="client-portal"></rapport-survey> anywhere.
// It registers the custom element, gives each one a shadow root with the widget's
// stylesheet, and mounts the WebAssembly widget inside. No inline scripts or styles, no
// eval: it runs under a Content-Security-Policy allowing only 'self' and 'wasm-unsafe-eval'.
//
// `cargo xtask dist` replaces the import below with the generated bindings themselves, so
// the snippet's integrity covers all of the widget's JavaScript, and fills in the
// content-hashed name of the wasm and its SHA-384, which the browser checks on download.
import init, { mount as mountWasm, stylesheet } from './rapport_core.js';

const WASM_FILE = 'rapport_core_bg.wasm';
const WASM_INTEGRITY = '';

// The wasm is fetched and compiled as soon as the loader runs, before any element asks for
// it. It is public and needs no cookies; its server sends Access-Control-Allow-Origin: *.
const ready = init({
  module_or_path: fetch(new URL(WASM_FILE, import.meta.url), { integrity: WASM_INTEGRITY, credentials: 'omit' }),
});
// A failure is reported on each element (rapport:error); this keeps it from also being an
// unhandled rejection.
ready.catch(() => {});
const serverOrigin = new URL('..', import.meta.url).href.replace(/\/$/, '');
let sheet = null;

function sharedSheet() {
  if (!sheet) {
    sheet = new CSSStyleSheet();
    sheet.replaceSync(stylesheet());
  }
  return sheet;
}

function inlineDefinition(element, config) {
  if (config.definition) return config.definition;
  const script = element.querySelector('script[type="application/json"]');
  return script ? script.textContent : null;
}

// Only a whole number from 0 to 10 is an answer; anything else is ignored.
function chosenNps(value) {
  const text = String(value ?? '');
  return /^(10|[0-9])$/.test(text) ? Number(text) : null;
}

function configOf(element, overrides = {}) {
  const attr = (name) => element.getAttribute(name);
  const locales = [overrides.locale || attr('locale'), ...(navigator.languages || [navigator.language])].filter(Boolean);
  const config = {
    survey: overrides.survey || attr('survey') || 'client-portal',
    endpoint: overrides.endpoint || attr('endpoint') || null,
    server: (overrides.server || attr('server') || serverOrigin).replace(/\/$/, ''),
    // Where the built-in templates are, should the survey not load from the server.
    assets: new URL('.', import.meta.url).href,
    locales,
    token: overrides.token || attr('token') || new URLSearchParams(location.search).get('rapport_token') || null,
    definition: null,
    headers: overrides.headers || (attr('headers') ? JSON.parse(attr('headers')) : {}),
    account: overrides.account || attr('account') || null,
    matter: overrides.matter || attr('matter') || null,
    wave: overrides.wave || attr('wave') || null,
    // A portal's signed context (docs/SIGNED-CONTEXT.md): who is signed in, vouched for.
    contact_name: overrides.contactName || attr('contact-name') || null,
    contact_email: overrides.contactEmail || attr('contact-email') || null,
    expires: Number(overrides.expires || attr('expires')) || null,
    signature: overrides.signature || attr('signature') || null,
    // A 0–10 answer already chosen before the survey opened (a number clicked in an email).
    nps: chosenNps(overrides.nps ?? attr('nps')),
  };
  const definition = overrides.definition || attr('definition') || inlineDefinition(element, overrides);
  config.definition = definition && typeof definition !== 'string' ? JSON.stringify(definition) : definition;
  return config;
}

// Fetches the survey's definition while the wasm compiles, so the survey does not wait for
// a round trip after start-up: the server's, or when it has none, the built-in template from
// beside the loader. The widget decides what to make of what came back.
async function prefetch(config) {
  const get = (url) => fetch(url).then((response) => (response.ok ? response.text() : null));
  const fetched = { served: null, unreachable: false, template: null };
  try {
    fetched.served = await get(`${config.server}/api/v1/surveys/${encodeURIComponent(config.survey)}`);
  } catch {
    fetched.unreachable = true;
  }
  if (fetched.served === null) {
    fetched.template = await get(new URL(`templates/${encodeURIComponent(config.survey)}.json`, import.meta.url)).catch(() => null);
  }
  return fetched;
}

async function mountInto(element, config) {
  const prefetched = config.definition ? null : prefetch(config);
  await ready;
  config.prefetched = await prefetched;
  const shadow = element.shadowRoot || element.attachShadow({ mode: 'open' });
  shadow.adoptedStyleSheets = [sharedSheet()];
  shadow.replaceChildren();
  const root = document.createElement('div');
  root.className = 'rapport-root';
  shadow.appendChild(root);
  return mountWasm(root, element, JSON.stringify(config));
}

/** Mounts a survey into any element (for frameworks). Returns a handle with unmount(). */
export async function mount(element, config = {}) {
  const handle = await mountInto(element, configOf(element, config));
  return {
    unmount() {
      handle.unmount();
      if (element.shadowRoot) element.shadowRoot.replaceChildren();
    },
  };
}

const OBSERVED = ['survey', 'endpoint', 'server', 'locale', 'token', 'definition', 'headers', 'account', 'matter', 'wave', 'contact-name', 'contact-email', 'expires', 'signature', 'nps'];

class RapportSurvey extends HTMLElement {
  static get observedAttributes() { return OBSERVED; }

  connectedCallback() { this.#remount(); }

  disconnectedCallback() {
    const handle = this.handle;
    this.handle = null;
    if (handle) handle.then((h) => h.unmount()).catch(() => {});
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (this.isConnected && this.handle && oldValue !== newValue) this.#remount();
  }

  #remount() {
    const previous = this.handle;
    this.handle = (previous ? previous.then((h) => h.unmount()).catch(() => {}) : Promise.resolve())
      .then(() => mountInto(this, configOf(this)))
      .catch((error) => {
        this.dispatchEvent(new CustomEvent('rapport:error', { bubbles: true, composed: true, detail: { message: String(error) } }));
        throw error;
      });
  }
}

if (!customElements.get('rapport-survey')) customElements.define('rapport-survey', RapportSurvey);
window.Rapport = Object.freeze({ mount });
