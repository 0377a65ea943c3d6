import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import './app.css';
import { MantineProvider, createTheme } from '@mantine/core';
import { ModalsProvider } from '@mantine/modals';
import { Notifications } from '@mantine/notifications';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { SettingsProvider, useSettings } from './data/SettingsContext';
import { LiveUpdates } from './data/LiveUpdates';
import { Shell } from './shell/Shell';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';
import { JobsPage } from './pages/jobs/JobsPage';
import { OperationsPage } from './pages/operations/OperationsPage';
import { SettingsPage } from './pages/settings/SettingsPage';
import { StaleDataToasts } from './components/StaleDataToasts';
import { ComparePage } from './pages/compare/ComparePage';
import { SweepPage } from './pages/sweep/SweepPage';

const queryClient = new QueryClient({
  defaultOptions: {
    // a failed refresh keeps the last data on screen (and a toast says it may be stale)
    queries: { retry: 1, staleTime: 2_000, refetchOnWindowFocus: false, placeholderData: (prev: unknown) => prev },
  },
});

// Mantine 9's default radius is md (8px); the dashboard's dense table keeps 8.x's sm (4px).
const theme = createTheme({ primaryColor: 'indigo', fontFamily: 'system-ui, sans-serif', defaultRadius: 'sm' });

function Themed() {
  const { settings } = useSettings();
  const scheme = settings.theme === 'auto' ? undefined : settings.theme;
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto" forceColorScheme={scheme}>
      {/* Mantine 9 pauses every toast while one is hovered; keep 8.x's "only the hovered one" */}
      <Notifications position="bottom-right" pauseResetOnHover="notification" />
      <QueryClientProvider client={queryClient}>
        <ModalsProvider>
        <LiveUpdates>
          <StaleDataToasts />
          <BrowserRouter>
            <Shell>
              <Routes>
                <Route path="/" element={<ExperimentsPage />} />
                <Route path="/jobs" element={<JobsPage />} />
                <Route path="/operations" element={<OperationsPage />} />
                <Route path="/settings" element={<SettingsPage />} />
                <Route path="/compare" element={<ComparePage />} />
                <Route path="/groups/:gid/sweep" element={<SweepPage />} />
                <Route path="*" element={<ExperimentsPage />} />
              </Routes>
            </Shell>
          </BrowserRouter>
        </LiveUpdates>
        </ModalsProvider>
      </QueryClientProvider>
    </MantineProvider>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SettingsProvider>
      <Themed />
    </SettingsProvider>
  </StrictMode>,
);
