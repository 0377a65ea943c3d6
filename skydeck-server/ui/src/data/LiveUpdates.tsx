import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { followEvents, type Connection } from '../api/events';
import type { SkyEvent } from '../api/types';
import { applyPlan, planFor } from './live';
import { useSettings } from './SettingsContext';

const Ctx = createContext<Connection>('connecting');

/** Keeps the data fresh: live over SSE (refetching only what events touch), or by polling. */
export function LiveUpdates({ children }: { children: ReactNode }) {
  const { settings } = useSettings();
  const client = useQueryClient();
  const [connection, setConnection] = useState<Connection>('connecting');
  const pending = useRef<SkyEvent[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    if (settings.refresh !== 'live') return undefined;
    const flush = () => {
      timer.current = null;
      const batch = pending.current;
      pending.current = [];
      applyPlan(client, planFor(batch));
    };
    let first = true;
    const stop = followEvents((events) => {
      pending.current.push(...events);
      // coalesce bursts: one refetch per query per 300 ms however many events arrive
      if (!timer.current) timer.current = setTimeout(flush, 300);
    }, (c) => {
      setConnection(c);
      if (c === 'online' && !first) void client.invalidateQueries(); // caught up after a drop
      if (c === 'online') first = false;
    });
    return () => {
      stop();
      if (timer.current) clearTimeout(timer.current);
    };
  }, [settings.refresh, settings.backend, settings.token, client]);

  // without live updates there is no stream to be offline from
  return <Ctx.Provider value={settings.refresh === 'live' ? connection : 'online'}>{children}</Ctx.Provider>;
}

export function useConnection(): Connection {
  return useContext(Ctx);
}
