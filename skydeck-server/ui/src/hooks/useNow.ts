import { useEffect, useState } from 'react';

/**
 * The current time, re-rendering every `intervalMs` while `active`: "running for 56s" advances on
 * its own instead of waiting for the next refetch. Inactive, it returns the time of the last tick.
 */
export function useNow(intervalMs = 1000, active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(t);
  }, [intervalMs, active]);
  return now;
}
