import { AppShell, Badge, Group, Kbd, Modal, NavLink, Stack, Table, Text, Title } from '@mantine/core';
import { useEffect, useState, type ReactNode } from 'react';
import { NavLink as RouterLink, useLocation } from 'react-router-dom';
import { useIsFetching } from '@tanstack/react-query';
import { useConnection } from '../data/LiveUpdates';
import { useHealth } from '../data/queries';
import { api } from '../api/client';

const PAGES = [
  { to: '/', label: 'Experiments' },
  { to: '/jobs', label: 'Jobs' },
  { to: '/operations', label: 'Operations' },
  { to: '/settings', label: 'Settings' },
];

const SHORTCUTS: [string, string][] = [
  ['/', 'search'], ['j / k', 'move down / up'], ['x', 'select the highlighted row'], ['Enter', 'expand it'],
  ['?', 'this help'],
];

function ConnectionIndicator() {
  const connection = useConnection();
  const fetching = useIsFetching();
  const health = useHealth();
  const offline = connection === 'offline' || (health.isError && !health.isFetching);
  const label = offline ? 'Offline' : fetching > 0 ? 'Refreshing' : 'Online';
  const color = offline ? 'red' : fetching > 0 ? 'yellow' : 'green';
  return (
    <Stack gap={2} data-testid="connection" data-state={label}>
      <Group gap={6}>
        <Badge color={color} variant="dot" className={label === 'Refreshing' ? 'blink' : undefined}>{label}</Badge>
      </Group>
      <Text size="xs" c="dimmed">{api.base() || window.location.host}</Text>
      {health.data && <Text size="xs" c="dimmed">{health.data.backend.kind} backend · v{health.data.version}</Text>}
    </Stack>
  );
}

export function Shell({ children }: { children: ReactNode }) {
  const location = useLocation();
  const [help, setHelp] = useState(false);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) return;
      if (e.key === '?') setHelp((h) => !h);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <AppShell navbar={{ width: 200, breakpoint: 0 }} padding="md">
      <AppShell.Navbar p="sm">
        <Stack justify="space-between" h="100%">
          <Stack gap={4}>
            <Title order={3} mb="sm">SkyDeck</Title>
            {PAGES.map((p) => (
              <NavLink key={p.to} component={RouterLink} to={p.to} label={p.label}
                active={p.to === '/' ? location.pathname === '/' : location.pathname.startsWith(p.to)}
                data-testid={`nav-${p.label.toLowerCase()}`} />
            ))}
          </Stack>
          <ConnectionIndicator />
        </Stack>
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
      <Modal opened={help} onClose={() => setHelp(false)} title="Keyboard shortcuts" data-testid="help">
        <Table>
          <Table.Tbody>
            {SHORTCUTS.map(([k, d]) => (
              <Table.Tr key={k}><Table.Td><Kbd>{k}</Kbd></Table.Td><Table.Td>{d}</Table.Td></Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Modal>
    </AppShell>
  );
}
