/** The Jobs page's filters, kept in the URL (and remembered). */
export interface JobFilters {
  q: string;
  active: boolean;
  orphaned: boolean;
  experiment: string;
  /** Only the jobs launched on the caller's behalf. */
  mine: boolean;
  page: number;
}

export const DEFAULT_JOB_FILTERS: JobFilters = { q: '', active: false, orphaned: false, experiment: '', mine: false, page: 0 };
export const JOB_PAGE_SIZE = 50;

const truthy = (v: string | null) => v === '1' || v === 'true' || v === 'yes';

export function parseJobFilters(params: URLSearchParams): JobFilters {
  const page = Number(params.get('page') ?? '0');
  return {
    q: params.get('q') ?? '',
    active: truthy(params.get('active')),
    orphaned: truthy(params.get('orphaned')),
    experiment: params.get('experiment') ?? '',
    mine: truthy(params.get('mine')),
    page: Number.isInteger(page) && page > 0 ? page : 0,
  };
}

/** The URL's query for these filters (defaults left out, so a clean URL means no filter). */
export function jobFiltersToParams(f: JobFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.q) p.set('q', f.q);
  if (f.active) p.set('active', '1');
  if (f.orphaned) p.set('orphaned', '1');
  if (f.experiment) p.set('experiment', f.experiment);
  if (f.mine) p.set('mine', '1');
  if (f.page > 0) p.set('page', String(f.page));
  return p;
}

/** The API's query for these filters. */
export function jobFiltersToApi(f: JobFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.q) p.set('q', f.q);
  if (f.active) p.set('active', 'true');
  if (f.orphaned) p.set('orphaned', 'true');
  if (f.experiment) p.set('experiment', f.experiment);
  if (f.mine) p.set('mine', 'true');
  p.set('limit', String(JOB_PAGE_SIZE));
  p.set('offset', String(f.page * JOB_PAGE_SIZE));
  return p;
}
