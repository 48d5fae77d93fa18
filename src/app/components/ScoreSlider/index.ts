export { default as ScoreSlider } from './ScoreSlider.svelte';
