export { default as EvaluatePage } from './EvaluatePage.svelte';
export { EvaluateState, judgeImage, DEFAULT_EVAL_THRESHOLD } from './evaluate-state.svelte.ts';
