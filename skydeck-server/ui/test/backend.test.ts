import { describe, expect, it } from 'vitest';
import { foreignBackendNote } from '../src/lib/backend';

describe('jobs of another backend', () => {
  it('says which backend an imported job belongs to when this deck runs another one', () => {
    expect(foreignBackendNote('skypilot', 'local')).toContain('a skypilot job');
    expect(foreignBackendNote('skypilot', 'local')).toContain('runs the local backend and leaves it as it was');
  });
  it('says nothing for a job of the running backend or before health is known', () => {
    expect(foreignBackendNote('local', 'local')).toBeNull();
    expect(foreignBackendNote('skypilot', undefined)).toBeNull();
  });
});
