export { default as TrainPage } from './TrainPage.svelte';
export { TrainingState, DEFAULT_TRAINING_FORM, trainingFormError } from './training-state.svelte.ts';
