export { default as DetectPanel } from './DetectPanel.svelte';
export { DetectState, DEFAULT_SCORE_THRESHOLD } from './detect-state.svelte.ts';
