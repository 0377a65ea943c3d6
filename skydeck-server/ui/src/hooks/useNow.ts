import { useEffect, useState } from 'react';

/**
 * The current time, re-rendering every `intervalMs` while `active`: "running for 56s" advances on
 * its own instead of waiting for the next refetch. Inactive, it returns the time of the last tick.
 */
export function useNow(intervalMs = 1000, active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    const first = setTimeout(() => setNow(Date.now()), 0); // catch up at once after a pause
    const t = setInterval(() => setNow(Date.now()), intervalMs);
    return () => {
      clearTimeout(first);
      clearInterval(t);
    };
  }, [intervalMs, active]);
  return now;
}
