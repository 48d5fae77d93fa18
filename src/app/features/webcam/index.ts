export { default as WebcamPanel } from './WebcamPanel.svelte';
export { WebcamState } from './webcam-state.svelte.ts';
