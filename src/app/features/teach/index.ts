export { default as TeachPage } from './TeachPage.svelte';
export { TeachState, STEPS } from './teach-state.svelte.ts';
