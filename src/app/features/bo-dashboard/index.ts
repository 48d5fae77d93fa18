export { default as BoDashboard } from './BoDashboard.svelte';
export { bestTrial, bestSoFar, isSkippedTrial, bandOf, targetValue, TARGET_TOLERANCE } from './trials.ts';
