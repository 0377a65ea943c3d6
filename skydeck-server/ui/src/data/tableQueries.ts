import { keepPreviousData, useQueries, useQuery } from '@tanstack/react-query';
import { api } from '../api/client';
import type { ExperimentPage } from '../api/types';
import { filterParams, pageParams, type Section, type TableState } from '../lib/table';
import { keys } from './live';
import { useRefetchInterval } from './queries';

/** Members per page of a section: one request fills a screen and a half. */
export const PAGE_SIZE = 100;

/** The groups without their members, with counts (`GET /api/groups?members=false`). */
export function useGroupSummaries() {
  const interval = useRefetchInterval();
  return useQuery({ queryKey: keys.groupSummaries, queryFn: api.groupSummaries, refetchInterval: interval });
}

/** Counts per state and flag value under the current filters. */
export function useFacets(state: TableState, mine: string | null) {
  const interval = useRefetchInterval();
  const p = filterParams(state);
  if (mine) p.set('created_by', mine);
  p.set('values', '100');
  const text = p.toString();
  return useQuery({
    queryKey: keys.facets(text), queryFn: () => api.facets(new URLSearchParams(text)), refetchInterval: interval,
    placeholderData: keepPreviousData, retry: false,
  });
}

/** The page query of one section for the current state. */
export function pageQuery(state: TableState, section: Pick<Section, 'scope'>, page: number, mine: string | null) {
  const text = pageParams(state, section.scope, page, PAGE_SIZE, mine).toString();
  return {
    queryKey: keys.experimentPage(text),
    queryFn: () => api.experimentPage(new URLSearchParams(text)),
    // pages out of view are dropped soon: the tab's memory stays bounded however far one scrolls
    gcTime: 30_000,
    // never another page's rows in the meantime (the client's default keeps the previous data)
    placeholderData: undefined,
  };
}

/**
 * The pages the visible rows need (and the first page of every section whose count is needed),
 * fetched and kept fresh while in view. Returns them by `sectionKey:page`.
 */
export function usePages(state: TableState, wanted: { section: Section; page: number }[], mine: string | null) {
  const interval = useRefetchInterval();
  const results = useQueries({
    queries: wanted.map(({ section, page }) => ({ ...pageQuery(state, section, page, mine), refetchInterval: interval })),
  });
  const pages = new Map<string, ExperimentPage>();
  wanted.forEach(({ section, page }, i) => {
    const data = results[i]?.data;
    if (data) pages.set(`${section.key}:${page}`, data);
  });
  const error = results.find((r) => r.error)?.error ?? null;
  return { pages, error, loading: results.some((r) => r.isLoading) };
}
