// What every browser test shares: the server's JSON API and Debian's headless Chromium.
import { chromium } from 'playwright-core';

/** The server the tests run against (DashboardIT sets SKYDECK_URL). */
export const URL = process.env.SKYDECK_URL ?? 'http://127.0.0.1:8000';

/** One JSON call to the server; a status other than 2xx throws with the server's answer. */
export async function api(method, p, body) {
  const res = await fetch(URL + p, {
    method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

/**
 * Waits until `check()` (async, run here in node: an API call, say) gives a truthy value, asking
 * again every 100 ms; after `timeout` ms it throws, naming `what` and the last error, if any.
 * (Playwright's waitForFunction does not await a promise: an async predicate passes at once.)
 */
export async function until(what, check, timeout) {
  const deadline = Date.now() + timeout;
  for (;;) {
    let last = null;
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => { setTimeout(resolve, 100); });
  }
}

/** Headless Chromium (CHROMIUM, else /usr/bin/chromium) without the background traffic that slows CI. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}
