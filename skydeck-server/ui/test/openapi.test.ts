import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// The typed client is checked against the server's hand-written OpenAPI document: every path it
// calls must be documented (and so, by the server's own route test, exist).
const doc = readFileSync(new URL('../../src/main/resources/dev/skydeck/server/openapi.yaml', import.meta.url), 'utf8');
const client = readFileSync(new URL('../src/api/client.ts', import.meta.url), 'utf8')
  + readFileSync(new URL('../src/api/events.ts', import.meta.url), 'utf8');

const normalise = (p: string) => p.replace(/\{[^}]+\}/g, '{}').replace(/\/$/, '');

describe('the API client', () => {
  const documented = new Set([...doc.matchAll(/^ {2}(\/api\/[^:\s]*):\s*$/gm)].map((m) => normalise(m[1]!)));
  const templates = [...client.matchAll(/`([^`]*)`/g)].map((m) => m[1]!);
  const plain = client.replace(/`[^`]*`/g, '');
  const used = [
    ...templates.flatMap((t) => [...t.matchAll(/(\/api\/[^?`]*)/g)].map((m) => m[1]!)),
    ...[...plain.matchAll(/'(\/api\/[^'?]*)'/g)].map((m) => m[1]!),
  ].map((p) => normalise(p.replace(/\$\{[^}]+\}/g, '{}')));

  it('finds the documented paths and the paths it uses', () => {
    expect(documented.size).toBeGreaterThan(30);
    expect(used.length).toBeGreaterThan(25);
  });

  it('calls only documented paths', () => {
    const missing = [...new Set(used)].filter((p) => !documented.has(p));
    expect(missing).toEqual([]);
  });
});
