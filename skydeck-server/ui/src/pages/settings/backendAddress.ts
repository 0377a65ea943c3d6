/** The Settings page's "Backend address" (pure, unit-tested). */

export type AddressCheck = { ok: true; value: string } | { ok: false; error: string };

/**
 * Checks a backend address: empty (this page's server) or an origin, `http(s)://host[:port]`,
 * with nothing after it but an optional `/`. Returns it normalised (no trailing slash) or why not.
 */
export function checkBackendAddress(text: string): AddressCheck {
  const t = text.trim();
  if (t === '') return { ok: true, value: '' };
  if (!/^https?:\/\//i.test(t)) {
    return { ok: false, error: `"${t}" is not an address: write it as http://host:port (for example http://127.0.0.1:8000)` };
  }
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    return { ok: false, error: `"${t}" is not a valid address: write it as http://host:port` };
  }
  if (u.username || u.password) return { ok: false, error: 'leave user and password out of the address: use the API token below' };
  if ((u.pathname !== '/' && u.pathname !== '') || u.search || u.hash) {
    return { ok: false, error: `only the server's origin, without a path: ${u.origin}` };
  }
  return { ok: true, value: u.origin };
}
