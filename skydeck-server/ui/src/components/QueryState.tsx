import { Alert, Button, Skeleton, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

/** Skeleton while loading, an error with retry, an empty state with a hint — or the content. */
export function QueryState(props: {
  loading: boolean; error: unknown; hasData: boolean; empty: boolean; emptyHint: ReactNode; retry: () => void;
  children: ReactNode;
}) {
  if (props.loading && !props.hasData) {
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
        <Button mt="sm" size="xs" onClick={props.retry}>Retry</Button>
      </Alert>
    );
  }
  if (props.empty) {
    return <Text c="dimmed" ta="center" py="xl" data-testid="empty">{props.emptyHint}</Text>;
  }
  return <>{props.children}</>;
}
