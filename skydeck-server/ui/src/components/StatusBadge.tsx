import { Badge } from '@mantine/core';

const COLORS: Record<string, string> = {
  RUNNING: 'blue', STARTING: 'cyan', PENDING: 'yellow', INIT: 'gray', RECOVERING: 'orange', CANCELLING: 'orange',
  SUCCEEDED: 'green', FAILED: 'red', CANCELLED: 'gray', UNKNOWN: 'grape', STOPPED: 'gray', TERMINATED: 'dark',
};

export function statusColor(s: string): string {
  return COLORS[s] ?? 'gray';
}

export function StatusBadge({ status }: { status: string }) {
  return <Badge color={statusColor(status)} variant="light" size="sm" data-testid="status-badge">{status}</Badge>;
}
