export { default as PrunePage } from './PrunePage.svelte';
export { PruneState } from './prune-state.svelte.ts';
export { RatesState, type GroupingId } from './rates.svelte.ts';
