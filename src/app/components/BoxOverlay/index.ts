export { default as BoxOverlay } from './BoxOverlay.svelte';
