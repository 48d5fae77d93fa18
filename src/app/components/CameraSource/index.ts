export { CameraSource, type CameraSourceOptions } from './camera-source.svelte.ts';
