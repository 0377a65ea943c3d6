import { parseJson } from '../lib/json';
import type { SkyEvent } from './types';
import { api } from './client';

export type Connection = 'online' | 'offline' | 'connecting';

/** Parses a chunk of a Server-Sent Events stream; returns the events and the unfinished rest. */
export function parseSse(buffer: string): { events: { id: string | null; data: string }[]; rest: string } {
  const events: { id: string | null; data: string }[] = [];
  const blocks = buffer.split(/\r?\n\r?\n/);
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let id: string | null = null;
    const data: string[] = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('id:')) id = line.slice(3).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length) events.push({ id, data: data.join('\n') });
  }
  return { events, rest };
}

/**
 * Follows /api/events with fetch (so the token header can be sent, which EventSource cannot),
 * resuming with Last-Event-ID after a drop. Returns a stop function.
 */
export function followEvents(onEvents: (events: SkyEvent[]) => void, onState: (c: Connection) => void): () => void {
  let stopped = false;
  let lastId: string | null = null;
  let controller: AbortController | null = null;
  let delay = 1000;

  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      onState('connecting');
      try {
        const headers = new Headers(api.headers(false));
        headers.set('Accept', 'text/event-stream');
        if (lastId) headers.set('Last-Event-ID', lastId);
        const res = await fetch(`${api.base()}/api/events`, { headers, signal: controller.signal });
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        onState('online');
        delay = 1000;
        const reader = res.body.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += decoder.decode(value, { stream: true });
          const parsed = parseSse(buffer);
          buffer = parsed.rest;
          const batch: SkyEvent[] = [];
          for (const e of parsed.events) {
            if (e.id) lastId = e.id;
            try {
              batch.push(parseJson(e.data) as SkyEvent);
            } catch {
              // not an event
            }
          }
          if (batch.length) onEvents(batch);
        }
      } catch {
        // dropped: retry below
      }
      if (stopped) break;
      onState('offline');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 15000);
    }
  };
  void run();
  return () => {
    stopped = true;
    controller?.abort();
  };
}
