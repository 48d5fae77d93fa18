export { default as ErrorNote } from './ErrorNote.svelte';
