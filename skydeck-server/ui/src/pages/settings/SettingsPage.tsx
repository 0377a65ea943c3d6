import { Button, PasswordInput, SegmentedControl, Stack, Text, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useState } from 'react';
import { useSettings } from '../../data/SettingsContext';
import type { RefreshMode, ThemeMode } from '../../settings';

export function SettingsPage() {
  const { settings, update } = useSettings();
  const [draft, setDraft] = useState(settings);
  return (
    <Stack maw={560}>
      <Title order={2}>Settings</Title>
      <Text size="sm" c="dimmed">Kept in this browser.</Text>
      <div>
        <Text size="sm" fw={500}>Auto-refresh</Text>
        <SegmentedControl data-testid="refresh" value={draft.refresh}
          onChange={(v) => setDraft({ ...draft, refresh: v as RefreshMode })}
          data={[{ value: 'live', label: 'Live' }, { value: 'off', label: 'Off' }, { value: '5', label: '5 s' },
            { value: '15', label: '15 s' }, { value: '60', label: '60 s' }, { value: '300', label: '300 s' }]} />
      </div>
      <div>
        <Text size="sm" fw={500}>Theme</Text>
        <SegmentedControl data-testid="theme" value={draft.theme}
          onChange={(v) => {
            const next = { ...draft, theme: v as ThemeMode };
            setDraft(next);
            update({ ...settings, theme: next.theme });
          }}
          data={[{ value: 'light', label: 'Light' }, { value: 'dark', label: 'Dark' }, { value: 'auto', label: 'System' }]} />
      </div>
      <TextInput label="Backend address" description="Empty: this page's server" placeholder="http://127.0.0.1:8000"
        value={draft.backend} onChange={(e) => setDraft({ ...draft, backend: e.currentTarget.value })} />
      <PasswordInput label="API token" description="Needed when the server has SKYDECK_AUTH_TOKEN" value={draft.token}
        onChange={(e) => setDraft({ ...draft, token: e.currentTarget.value })} />
      <Button data-testid="save-settings" w="fit-content" onClick={() => {
        update(draft);
        notifications.show({ color: 'green', message: 'Settings saved' });
      }}>Save</Button>
    </Stack>
  );
}
