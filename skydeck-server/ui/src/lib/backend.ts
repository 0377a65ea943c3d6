/**
 * What to tell about a job recorded for another backend than the one this SkyDeck runs (an
 * imported SkyPilot job on a deck running local processes): it is left exactly as it was, never
 * polled, cancelled or resumed here. Null for a job of the running backend (or while health loads).
 */
export function foreignBackendNote(jobBackend: string, runningBackend: string | undefined): string | null {
  if (!runningBackend || jobBackend === runningBackend) return null;
  return `a ${jobBackend} job: this SkyDeck runs the ${runningBackend} backend and leaves it as it was `
    + `(not polled, cancelled or resumed); a SkyDeck on ${jobBackend} follows it`;
}
