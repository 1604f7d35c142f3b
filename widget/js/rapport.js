// Rapport survey widget loader. Include with
//   <script type="module" src="https://your-server/widget/rapport.js"></script>
// then place <rapport-survey survey="client-portal"></rapport-survey> anywhere.
// It registers the custom element, gives each one a shadow root with the widget's
// stylesheet, and mounts the WebAssembly widget inside. No inline scripts or styles, no
// eval: it runs under a Content-Security-Policy allowing only 'self' and 'wasm-unsafe-eval'.
import init, { mount as mountWasm, stylesheet } from './rapport_core.js';

const ready = init();
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

function configOf(element, overrides = {}) {
  const attr = (name) => element.getAttribute(name);
  const locales = [overrides.locale || attr('locale'), ...(navigator.languages || [navigator.language])].filter(Boolean);
  const config = {
    survey: overrides.survey || attr('survey') || 'client-portal',
    endpoint: overrides.endpoint || attr('endpoint') || null,
    server: (overrides.server || attr('server') || serverOrigin).replace(/\/$/, ''),
    locales,
    token: overrides.token || attr('token') || new URLSearchParams(location.search).get('rapport_token') || null,
    definition: null,
    headers: overrides.headers || (attr('headers') ? JSON.parse(attr('headers')) : {}),
    account: overrides.account || attr('account') || null,
    matter: overrides.matter || attr('matter') || null,
    wave: overrides.wave || attr('wave') || null,
  };
  const definition = overrides.definition || attr('definition') || inlineDefinition(element, overrides);
  config.definition = definition && typeof definition !== 'string' ? JSON.stringify(definition) : definition;
  return config;
}

async function mountInto(element, config) {
  await ready;
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

const OBSERVED = ['survey', 'endpoint', 'server', 'locale', 'token', 'definition', 'headers', 'account', 'matter', 'wave'];

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
