import { Badge, Group, Text } from '@mantine/core';
import type { DesiredState, JobStatus } from '../api/types';

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

/** `current → desired`, the desired half only when it differs in kind. */
export function StateBadge({ current, desired }: { current: JobStatus; desired: DesiredState }) {
  return (
    <Group gap={4} wrap="nowrap" data-testid="state" data-current={current} data-desired={desired}>
      <StatusBadge status={current} />
      <Text size="xs" c="dimmed">→</Text>
      <Badge color={desired === 'RUNNING' ? 'blue' : 'gray'} variant="outline" size="sm">{desired}</Badge>
    </Group>
  );
}
