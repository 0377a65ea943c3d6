import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { loadSettings, saveSettings, type Settings } from '../settings';

interface SettingsState {
  settings: Settings;
  update: (s: Settings) => void;
}

const Ctx = createContext<SettingsState | null>(null);

export function SettingsProvider({ children }: { children: ReactNode }) {
  const [settings, setSettings] = useState<Settings>(() => loadSettings());
  const value = useMemo(() => ({
    settings,
    update: (s: Settings) => {
      saveSettings(s);
      setSettings(s);
    },
  }), [settings]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSettings(): SettingsState {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSettings outside SettingsProvider');
  return s;
}
