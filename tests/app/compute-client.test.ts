import { describe, expect, it } from 'vitest';
import { backendOrderFromQuery } from '../../src/app/compute-client.ts';

describe('backendOrderFromQuery', () => {
  it('reads one backend or a comma list, in order', () => {
    expect(backendOrderFromQuery('?backend=wasm')).toEqual(['wasm']);
    expect(backendOrderFromQuery('?backend=WebGL, cpu')).toEqual(['webgl', 'cpu']);
  });

  it('ignores unknown names and falls back to the default order', () => {
    expect(backendOrderFromQuery('?backend=cuda,wasm')).toEqual(['wasm']);
    expect(backendOrderFromQuery('?backend=cuda')).toBeUndefined();
    expect(backendOrderFromQuery('')).toBeUndefined();
    expect(backendOrderFromQuery('?fixture=tiny')).toBeUndefined();
  });
});
