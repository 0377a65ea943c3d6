import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { useConnection } from '../data/LiveUpdates';
import { formatTime } from '../lib/format';

const ID = 'stale';
/** A drop shorter than this (a reconnect) says nothing. */
const GRACE_MS = 3000;

function newestData(client: ReturnType<typeof useQueryClient>): number {
  let newest = 0;
  for (const q of client.getQueryCache().getAll()) {
    if (q.state.data !== undefined) newest = Math.max(newest, q.state.dataUpdatedAt);
  }
  return newest;
}

/** Shows the toast, or updates it when it is already up (`shown`); it stays until hidden. */
function showStale(shown: boolean, since: number, why: string) {
  const message = `${why} Showing data from ${since ? formatTime(new Date(since).toISOString()) : 'earlier'}; it may be stale.`;
  if (shown) notifications.update({ id: ID, color: 'yellow', title: 'Refresh failed', message, autoClose: false });
  else notifications.show({ id: ID, color: 'yellow', title: 'Refresh failed', message, autoClose: false, withCloseButton: true });
}

/**
 * Says "may be stale" while what is on screen is not being refreshed: a refresh failed but older
 * data is shown, or the live-updates connection is down (then nothing refreshes at all). The toast
 * stays until a refresh works again (or the connection is back), then goes away by itself.
 */
export function StaleDataToasts() {
  const client = useQueryClient();
  const connection = useConnection();
  const failing = useRef(false);
  const offline = useRef(false);

  // the queries whose last refresh failed while older data is shown: the toast stays while any does
  const failingKeys = useRef(new Set<string>());
  useEffect(() => client.getQueryCache().subscribe((event) => {
    if (event.type !== 'updated') return;
    const q = event.query;
    const set = failingKeys.current;
    if (q.state.status === 'error' && q.state.data !== undefined && !set.has(q.queryHash)) {
      set.add(q.queryHash);
      if (set.size === 1) {
        showStale(offline.current, q.state.dataUpdatedAt, `${(q.state.error as Error | null)?.message ?? 'The server did not answer'}.`);
      }
      failing.current = true;
    } else if (event.action.type === 'success' && set.delete(q.queryHash) && set.size === 0) {
      failing.current = false;
      if (!offline.current) notifications.hide(ID);
    }
  }), [client]);

  // a drop: from leaving 'online' (retries go connecting → offline → connecting …) until back online
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => {
    if (connection === 'online') {
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
      if (offline.current) {
        offline.current = false;
        if (!failing.current) notifications.hide(ID);
      }
      return;
    }
    if (timer.current || offline.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      if (newestData(client) === 0) return; // nothing on screen to be stale
      showStale(failing.current, newestData(client), 'Live updates are cut off (the server does not answer).');
      offline.current = true;
    }, GRACE_MS);
  }, [connection, client]);
  useEffect(() => () => { if (timer.current) clearTimeout(timer.current); }, []);
  return null;
}
