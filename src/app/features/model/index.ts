export { default as BackendBadge } from './BackendBadge.svelte';
export { default as ModelCard } from './ModelCard.svelte';
export { default as ModelLoader } from './ModelLoader.svelte';
export { ModelState, DEFAULT_MODEL_URL } from './model-state.svelte.ts';
