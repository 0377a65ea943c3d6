import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { formatTime } from '../lib/format';

/** When a refresh fails but older data is on screen, says so once (until a refresh works again). */
export function StaleDataToasts() {
  const client = useQueryClient();
  const failing = useRef(false);
  useEffect(() => client.getQueryCache().subscribe((event) => {
    if (event.type !== 'updated') return;
    const q = event.query;
    if (q.state.status === 'error' && q.state.data !== undefined && !failing.current) {
      failing.current = true;
      notifications.show({
        id: 'stale', color: 'yellow', title: 'Refresh failed',
        message: `Showing data from ${formatTime(new Date(q.state.dataUpdatedAt).toISOString())}; it may be stale.`,
      });
    } else if (q.state.status === 'success' && failing.current && q.state.dataUpdatedAt > Date.now() - 1000) {
      failing.current = false;
      notifications.hide('stale');
    }
  }), [client]);
  return null;
}
