import { useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import { pollInterval } from '../settings';
import { useSettings } from './SettingsContext';
import { keys } from './live';

/** The refetch interval the settings ask for (none with live updates). */
export function useRefetchInterval(): number | false {
  const { settings } = useSettings();
  return pollInterval(settings.refresh) ?? false;
}

export function useGroups() {
  const interval = useRefetchInterval();
  return useQuery({ queryKey: keys.groups, queryFn: api.groups, refetchInterval: interval });
}

/** The caller's user ({@code null} on a deck without users); it changes only with the token. */
export function useMe() {
  const { settings } = useSettings();
  return useQuery({ queryKey: ['me', settings.token], queryFn: api.me, staleTime: 300_000 });
}

export function useHealth() {
  const interval = useRefetchInterval();
  return useQuery({ queryKey: keys.health, queryFn: api.health, refetchInterval: interval || 30_000 });
}

export function useExperimentJobs(id: number) {
  const interval = useRefetchInterval();
  return useQuery({ queryKey: keys.experimentJobs(id), queryFn: () => api.experimentJobs(id), refetchInterval: interval });
}

export function useCheckpoints(id: number) {
  const interval = useRefetchInterval();
  return useQuery({ queryKey: keys.checkpoints(id), queryFn: () => api.checkpoints(id), refetchInterval: interval });
}

export function useExperimentEvents(id: number) {
  const interval = useRefetchInterval();
  return useQuery({ queryKey: keys.experimentEvents(id), queryFn: () => api.experimentEvents(id), refetchInterval: interval });
}

export function useFlagSchema() {
  return useQuery({ queryKey: ['flags'], queryFn: api.flags, staleTime: 60_000 });
}

export function useProviders() {
  return useQuery({ queryKey: ['providers'], queryFn: api.providers, staleTime: Infinity });
}

export function useLinks() {
  return useQuery({ queryKey: ['links'], queryFn: api.links, staleTime: Infinity });
}
