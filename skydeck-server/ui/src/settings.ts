/** Browser-side settings, persisted in localStorage. */
export type RefreshMode = 'live' | 'off' | '5' | '15' | '60' | '300';
export type ThemeMode = 'light' | 'dark' | 'auto';

export interface Settings {
  refresh: RefreshMode;
  backend: string; // '' means the page's own origin
  theme: ThemeMode;
  token: string;
}

export const DEFAULT_SETTINGS: Settings = { refresh: 'live', backend: '', theme: 'auto', token: '' };
const KEY = 'skydeck.settings';

export function loadSettings(storage: Pick<Storage, 'getItem'> = localStorage): Settings {
  try {
    const raw = storage.getItem(KEY);
    if (!raw) return DEFAULT_SETTINGS;
    const parsed = JSON.parse(raw) as Partial<Settings>;
    return { ...DEFAULT_SETTINGS, ...parsed };
  } catch {
    return DEFAULT_SETTINGS;
  }
}

export function saveSettings(s: Settings, storage: Pick<Storage, 'setItem'> = localStorage): void {
  storage.setItem(KEY, JSON.stringify(s));
}

/** The polling interval in ms, or null for none (live updates or off). */
export function pollInterval(mode: RefreshMode): number | null {
  return mode === 'live' || mode === 'off' ? null : Number(mode) * 1000;
}
