// The moderation HTTP API (docs/PROTOCOL.md, "Moderation"): JSON in and out, the session cookie
// and the CSRF token; every refusal becomes a ModError with the server's stable code.

import { csrfToken } from "../client/post.js";
import { gettext, interpolate } from "../ui/i18n.js";

// A moderator's click that gets no answer by then is reported as failed.
const REQUEST_TIMEOUT_MS = 15_000;

export class ModError extends Error {
  constructor(code, message, { status = 0, ...extra } = {}) {
    super(message || code);
    this.name = "ModError";
    this.code = code;
    this.status = status;
    Object.assign(this, extra);
  }
}

/** The error of an answer that is not our JSON (a proxy's page, Django's CSRF page). */
function errorForStatus(status) {
  switch (status) {
    case 401:
      return new ModError("login_required", gettext("Your session has ended: log in again."), { status });
    case 403:
      return new ModError("forbidden", gettext("The server refused this (HTTP 403). Reload the page."), { status });
    case 404:
      return new ModError("not_found", gettext("Not found (HTTP 404)."), { status });
    case 429:
      return new ModError("rate_limited", gettext("Too many requests; wait a moment."), { status });
    default:
      return new ModError("http_error", interpolate(gettext("The server could not do this (HTTP %(status)s)."), { status }), { status });
  }
}

export class ModApi {
  /** @param {Record<string, string>} urls the page's endpoints by name (see moderate.html) */
  constructor(urls) {
    this.urls = urls;
  }

  get(name, params = {}) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== null && value !== undefined) query.set(key, String(value));
    }
    const search = query.toString();
    return this._request(`${this._url(name)}${search ? `?${search}` : ""}`, { method: "GET" });
  }

  post(name, body = {}) {
    return this._request(this._url(name), { method: "POST", body });
  }

  /** Approve or reject held message `id` (review_item is a URL ending in /0). */
  decide(id, approve) {
    const url = this._url("review_item").replace(/\/0$/, `/${encodeURIComponent(id)}`);
    return this._request(url, { method: "POST", body: { approve } });
  }

  /** Dismiss the open reports of message `id` (report_item is a URL ending in /0). */
  dismissReports(id) {
    const url = this._url("report_item").replace(/\/0$/, `/${encodeURIComponent(id)}`);
    return this._request(url, { method: "POST", body: { dismiss: true } });
  }

  /** POST a file as multipart form data (field `file`), e.g. a Bilibili XML import. */
  upload(name, file) {
    const form = new FormData();
    form.append("file", file);
    return this._request(this._url(name), { method: "POST", form });
  }

  _url(name) {
    const url = this.urls[name];
    if (!url) throw new ModError("no_endpoint", interpolate(gettext("The page does not know the “%(name)s” address."), { name }));
    return url;
  }

  async _request(url, { method, body, form }) {
    const headers = { Accept: "application/json" };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (form !== undefined) {
      const token = csrfToken();
      if (token) headers["X-CSRFToken"] = token;
      init.body = form; // the browser sets the multipart Content-Type with its boundary
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      const token = csrfToken();
      if (token) headers["X-CSRFToken"] = token;
      init.body = JSON.stringify(body);
    }
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    init.signal = controller.signal;
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      if (controller.signal.aborted) throw new ModError("timeout", gettext("No answer from the server."));
      throw new ModError("network", gettext("Could not reach the server."));
    } finally {
      clearTimeout(timer);
    }
    let answer = null;
    try {
      answer = await response.json();
    } catch {
      answer = null;
    }
    if (response.ok && answer !== null && typeof answer === "object") return answer;
    if (answer !== null && typeof answer === "object" && typeof answer.code === "string") {
      const { code, message, type: _type, nonce: _nonce, ...extra } = answer;
      if (extra.retry_after === undefined) {
        const retryAfter = Number(response.headers.get("Retry-After"));
        if (retryAfter > 0) extra.retry_after = retryAfter;
      }
      throw new ModError(code, message, { status: response.status, ...extra });
    }
    if (response.ok) throw new ModError("bad_answer", gettext("The server's answer was not understood."));
    throw errorForStatus(response.status);
  }
}
