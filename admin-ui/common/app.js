// app.js - what every page's script shares: JSON calls to the server with the page's CSRF
// token (from <meta name="csrf-token">), error display, and small DOM helpers. No
// framework; loaded as a module from this origin only (the CSP allows nothing else).

/** The CSRF token the server rendered into the page. */
export function csrfToken() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : '';
}

/**
 * An error from the server: .error is its XRPC/OAuth error name, .status the HTTP status,
 * .data the whole answer (some errors carry more, e.g. which sign-in code is needed).
 */
export class ApiError extends Error {
  constructor(status, error, message, data = null) {
    super(message || error || `request failed (${status})`);
    this.status = status;
    this.error = error;
    this.data = data;
  }
}

/**
 * Calls a JSON endpoint of this server. GET without a body, otherwise POST with body as JSON;
 * headers (optional) are added to the request (a bearer token, a job token).
 * Resolves with the parsed answer (or null for an empty one); rejects with ApiError.
 */
export async function api(path, body, { method, headers } = {}) {
  const opts = {
    method: method || (body === undefined ? 'GET' : 'POST'),
    headers: { ...headers, 'X-CSRF-Token': csrfToken(), Accept: 'application/json' },
    credentials: 'same-origin',
  };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch {
    throw new ApiError(0, 'NetworkError', 'Could not reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    throw new ApiError(res.status, data?.error, data?.message || data?.error_description, data);
  }
  return data;
}

/** Shows message (text, never HTML) in element el; an empty message hides it. */
export function say(el, message, kind = 'error') {
  el.className = `notice ${kind}`;
  el.textContent = message || '';
  if (message && kind === 'error') el.setAttribute('role', 'alert');
}

/** document.getElementById, failing loudly when a page lacks an element its script needs. */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page has no #${id}`);
  return el;
}

/** Creates an element with text content (never innerHTML) and optional attributes. */
export function el(tag, text, attrs = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

/** Disables the form's controls while fn runs (no double submits); re-enables after. */
export async function busy(form, fn) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')];
  const was = controls.map((c) => c.disabled);
  controls.forEach((c) => (c.disabled = true));
  try {
    return await fn();
  } finally {
    controls.forEach((c, i) => (c.disabled = was[i]));
  }
}
