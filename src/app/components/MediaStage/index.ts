export { default as MediaStage } from './MediaStage.svelte';
