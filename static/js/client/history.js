// A room's history (GET /rooms/<slug>/history, docs/PROTOCOL.md): pages of events, newest last,
// {events, has_more, last_seq}. The pages show the latest page, then go live from its last_seq.

import { Backoff } from "./backoff.js";

export const HISTORY_PAGE = 50;
// The first page is retried this often (a server restarting as the page loads) before the page
// goes live without it.
const LATEST_ATTEMPTS = 5;
// Added to each retry's backoff, so even the first retry is not immediate.
const RETRY_BASE_MS = 250;

export class HistoryError extends Error {}

/** One page of history from `url`: the latest, or the one just before seq `before`. */
export async function fetchHistory(url, { before = null, limit = HISTORY_PAGE } = {}) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (before !== null) params.set("before", String(before));
  const response = await fetch(`${url}?${params}`, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new HistoryError(`history: HTTP ${response.status}`);
  const page = await response.json();
  if (!page || !Array.isArray(page.events)) throw new HistoryError("history: unexpected answer");
  return page;
}

/** The latest page, retried with backoff; throws the last error after LATEST_ATTEMPTS. */
export async function fetchLatestHistory(url, { backoff = new Backoff() } = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchHistory(url);
    } catch (error) {
      if (attempt >= LATEST_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS + backoff.next()));
    }
  }
}
