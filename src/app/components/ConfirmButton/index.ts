export { default as ConfirmButton } from './ConfirmButton.svelte';
