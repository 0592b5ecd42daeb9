// Stand-ins for what the browser provides (fetch, document.cookie, EventSource), for the unit
// tests of static/js under Node. Each is installed on globalThis for one test and removed after.

const saved = new WeakMap(); // test -> Map(name -> the descriptor before the test)

/** Set globalThis[name] for the duration of test `t`; the values from before come back after it. */
export function installGlobals(t, values) {
  if (!saved.has(t)) {
    const before = new Map();
    saved.set(t, before);
    t.after(() => {
      for (const [name, descriptor] of before) {
        if (descriptor) Object.defineProperty(globalThis, name, descriptor);
        else delete globalThis[name];
      }
    });
  }
  const before = saved.get(t);
  for (const [name, value] of Object.entries(values)) {
    if (!before.has(name)) before.set(name, Object.getOwnPropertyDescriptor(globalThis, name));
    Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
}

/** A JSON answer the way the server sends one. */
export function jsonResponse(body, { status = 200, headers = {} } = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/** A page that is not JSON (a proxy's error page, Django's CSRF failure page). */
export function htmlResponse(status, headers = {}) {
  return new Response("<h1>Error</h1>", { status, headers: { "Content-Type": "text/html", ...headers } });
}

/**
 * fetch() whose requests wait until the test answers them: fetch.requests[i] is
 * {url, init, body, respond(response), fail(error)}; an aborted request rejects like the browser's.
 */
export function fakeFetch() {
  const requests = [];
  const waiting = [];
  const fetch = (url, init = {}) =>
    new Promise((resolve, reject) => {
      const request = {
        url: String(url),
        init,
        body: typeof init.body === "string" ? JSON.parse(init.body) : init.body,
        respond: resolve,
        fail: reject,
      };
      init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
      requests.push(request);
      waiting.splice(0).forEach((wake) => wake());
    });
  fetch.requests = requests;
  /** Resolves once there are `count` requests. */
  fetch.waitFor = async (count) => {
    while (requests.length < count) await new Promise((wake) => waiting.push(wake));
    return requests[count - 1];
  };
  return fetch;
}

/** document with the cookies and the hidden CSRF field post.js reads. */
export function fakeDocument({ cookie = "", csrfField = null } = {}) {
  return {
    cookie,
    querySelector: (selector) =>
      selector === 'input[name="csrfmiddlewaretoken"]' && csrfField !== null ? { value: csrfField } : null,
  };
}

/** Let pending promise callbacks run (a fetch answered, a JSON body parsed). */
export async function settle(rounds = 10) {
  for (let round = 0; round < rounds; round++) await new Promise((resolve) => setImmediate(resolve));
}
