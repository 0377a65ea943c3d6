import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { followEvents, type Connection } from '../api/events';
import type { SkyEvent } from '../api/types';
import { api } from '../api/client';
import { keys, patchExperiment, planFor } from './live';
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
    if (settings.refresh !== 'live') {
      setConnection('online');
      return undefined;
    }
    const flush = () => {
      timer.current = null;
      const batch = pending.current;
      pending.current = [];
      const plan = planFor(batch);
      for (const key of plan.invalidate) void client.invalidateQueries({ queryKey: key as unknown[] });
      // A list reload already on its way may have read the store before these events: restart it
      // rather than patch into data it will overwrite.
      if (plan.reloadList || client.isFetching({ queryKey: keys.groups }) > 0) {
        void client.invalidateQueries({ queryKey: keys.groups });
        return;
      }
      const issued = Date.now();
      for (const id of plan.patch) {
        api.experiment(id).then(({ experiment }) => {
          const list = client.getQueryState(keys.groups);
          // a list fetched after this request is at least as new: keep it
          if (client.isFetching({ queryKey: keys.groups }) > 0 || (list && list.dataUpdatedAt > issued)) return;
          // keep the list's own fetch time: only a full fetch may tell later patches they are stale
          client.setQueryData(keys.groups, (old: Parameters<typeof patchExperiment>[0] | undefined) =>
            (old ? patchExperiment(old, experiment) : old), { updatedAt: list?.dataUpdatedAt });
        }).catch(() => void client.invalidateQueries({ queryKey: keys.groups }));
      }
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

  return <Ctx.Provider value={connection}>{children}</Ctx.Provider>;
}

export function useConnection(): Connection {
  return useContext(Ctx);
}
