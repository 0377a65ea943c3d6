import { Alert, Anchor, Button, Group, Skeleton, Stack, Text } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api/client';

/** How long a first load may take before the skeleton gives way to "no answer". */
export const NO_ANSWER_MS = 10_000;

/** Where the dashboard sends its requests, as a person would name it. */
function backendName(): string {
  return api.base() || 'this page\'s server';
}

/**
 * Skeleton while loading, an error with retry, an empty state with a hint — or the content. A
 * first load with no answer after {@link NO_ANSWER_MS} shows an error (a wrong backend address or a
 * server that is down must not leave a skeleton forever); it keeps waiting, and Retry starts over.
 */
export function QueryState(props: {
  loading: boolean; error: unknown; hasData: boolean; empty: boolean; emptyHint: ReactNode; retry: () => void;
  children: ReactNode;
}) {
  const waiting = props.loading && !props.hasData;
  const [slow, setSlow] = useState(false);
  useEffect(() => {
    if (!waiting) return undefined;
    const t = setTimeout(() => setSlow(true), NO_ANSWER_MS);
    return () => {
      clearTimeout(t);
      setSlow(false);
    };
  }, [waiting]);
  const settingsHint = (
    <Text size="xs" mt={4}>Requests go to {backendName()}: check the address in <Anchor component={Link} to="/settings" size="xs">Settings</Anchor>.</Text>
  );
  if (waiting && slow) {
    return (
      <Alert color="red" title="No answer" data-testid="load-error" data-reason="timeout">
        <Text size="sm">{backendName().replace(/^t/, 'T')} has not answered for {NO_ANSWER_MS / 1000} s: the address may be wrong, or the server down
          or unreachable. Still waiting.</Text>
        {settingsHint}
        <Group mt="sm"><Button size="xs" onClick={() => { setSlow(false); props.retry(); }}>Retry</Button></Group>
      </Alert>
    );
  }
  if (waiting) {
    return (
      <Stack gap="xs" data-testid="skeleton">
        {Array.from({ length: 6 }, (_, i) => <Skeleton key={i} height={28} radius="sm" />)}
      </Stack>
    );
  }
  if (props.error && !props.hasData) {
    return (
      <Alert color="red" title="Could not load" data-testid="load-error">
        <Text size="sm">{props.error instanceof Error ? props.error.message : JSON.stringify(props.error)}</Text>
        {settingsHint}
        <Button mt="sm" size="xs" onClick={props.retry}>Retry</Button>
      </Alert>
    );
  }
  if (props.empty) {
    return <Text c="dimmed" ta="center" py="xl" data-testid="empty">{props.emptyHint}</Text>;
  }
  return <>{props.children}</>;
}
