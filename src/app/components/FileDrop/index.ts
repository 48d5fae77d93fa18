export { default as FileDrop } from './FileDrop.svelte';
export { default as FilePick } from './FilePick.svelte';
export { dropFiles } from './drop-files.ts';
export { dropEntries, droppedFiles, type DroppedFile } from './drop-entries.ts';
