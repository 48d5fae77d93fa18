export { default as ComparePage } from './ComparePage.svelte';
export { CompareState, Pane, PANES } from './compare-state.svelte.ts';
