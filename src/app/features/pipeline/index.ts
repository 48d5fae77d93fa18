export { default as PipelinePage } from './PipelinePage.svelte';
export { PipelineState } from './pipeline-state.svelte.ts';
export { formFromConfig, configFromForm, validateForm, PRESETS } from './budget.ts';
export { stageViews, runStatus, totalEta, RUN_STAGES } from './run-progress.ts';
