import { Alert, Button, Group, PasswordInput, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSettings } from '../../data/SettingsContext';
import { checkBackendAddress } from './backendAddress';

/** Asks the address's /api/health, within 5 s: what a person needs to know when it fails. */
async function probe(address: string, token: string): Promise<string> {
  const target = address || window.location.origin;
  try {
    const res = await fetch(`${address}/api/health`, {
      headers: token.trim() ? { Authorization: `Bearer ${token.trim()}` } : {}, signal: AbortSignal.timeout(5000),
    });
    if (res.status === 401) return `${target} answers but wants a token (set the API token below)`;
    if (!res.ok) return `${target} answered ${res.status}`;
    const h = (await res.json()) as { version?: string; backend?: { kind?: string } };
    return `ok: SkyDeck ${h.version ?? '?'} (${h.backend?.kind ?? '?'} backend) at ${target}`;
  } catch (e) {
    if ((e as Error).name === 'TimeoutError') return `${target} did not answer within 5 s`;
    return `cannot reach ${target} from this page: it is down, or the browser blocked it. The server there must list `
      + `${window.location.origin} in SKYDECK_ALLOWED_ORIGINS, and this page's server must list ${target} in its own`;
  }
}

export function SettingsPage() {
  const { settings, update } = useSettings();
  const [draft, setDraft] = useState(settings);
  const client = useQueryClient();
  const address = checkBackendAddress(draft.backend);
  const [test, setTest] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  return (
    <Stack maw={560}>
      <Title order={2}>Settings</Title>
      <Text size="sm" c="dimmed">Kept in this browser.</Text>
      <div>
        <Text size="sm" fw={500}>Auto-refresh</Text>
        <SegmentedControl data-testid="refresh" value={draft.refresh}
          onChange={(v) => setDraft({ ...draft, refresh: v })}
          data={[{ value: 'live', label: 'Live' }, { value: 'off', label: 'Off' }, { value: '5', label: '5 s' },
            { value: '15', label: '15 s' }, { value: '60', label: '60 s' }, { value: '300', label: '300 s' }]} />
      </div>
      <div>
        <Text size="sm" fw={500}>Theme</Text>
        <SegmentedControl data-testid="theme" value={draft.theme}
          onChange={(v) => {
            const next = { ...draft, theme: v };
            setDraft(next);
            update({ ...settings, theme: next.theme });
          }}
          data={[{ value: 'light', label: 'Light' }, { value: 'dark', label: 'Dark' }, { value: 'auto', label: 'System' }]} />
      </div>
      <TextInput label="Backend address" data-testid="backend-address" placeholder="http://127.0.0.1:8000"
        description={'Empty: this page\'s server. Another SkyDeck server works when each lists the other in '
          + `SKYDECK_ALLOWED_ORIGINS (that server: ${window.location.origin}; this one: that server's address).`}
        value={draft.backend} error={address.ok ? undefined : address.error}
        onChange={(e) => { setDraft({ ...draft, backend: e.currentTarget.value }); setTest(null); }} />
      <Group gap="xs">
        <Button size="xs" variant="light" disabled={!address.ok} loading={testing} data-testid="test-backend" onClick={async () => {
          if (!address.ok) return;
          setTesting(true);
          setTest(await probe(address.value, draft.token));
          setTesting(false);
        }}>Test connection</Button>
        {test && <Text size="xs" c={test.startsWith('ok') ? 'green' : 'red'} data-testid="backend-test">{test}</Text>}
      </Group>
      <PasswordInput label="API token" description="Needed when the server has SKYDECK_AUTH_TOKEN" value={draft.token}
        onChange={(e) => setDraft({ ...draft, token: e.currentTarget.value })} />
      {!address.ok && <Alert color="red" p="xs" data-testid="settings-error">Not saved: {address.error}</Alert>}
      <Button data-testid="save-settings" w="fit-content" disabled={!address.ok} onClick={() => {
        if (!address.ok) return;
        const next = { ...draft, backend: address.value };
        const moved = next.backend !== settings.backend || next.token !== settings.token;
        update(next);
        setDraft(next);
        // another server's data must not be shown as this one's: start over
        if (moved) void client.resetQueries();
        notifications.show({ color: 'green', message: 'Settings saved' });
      }}>Save</Button>
    </Stack>
  );
}
