export { default as PrunePage } from './PrunePage.svelte';
export { PruneState } from './prune-state.svelte.ts';
export { RatesState, maxRate, MAX_RATE, BUILTIN_GROUP_COUNTS, type GroupingId } from './rates.svelte.ts';
