/**
 * How often a view refreshes itself while live updates are on, when those updates do not reach it
 * (they patch the experiment list; Compare and Sweep read single experiments, jobs and a group).
 */
export const VIEW_REFRESH_MS = 3000;
