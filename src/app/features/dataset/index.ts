export { default as DatasetPage } from './DatasetPage.svelte';
export { DatasetState, parseSubsetSize } from './dataset-state.svelte.ts';
export { DatasetBrowserState, faceBoxes } from './browser-state.svelte.ts';
