export { default as AnnotatedImage } from './AnnotatedImage.svelte';
export { default as BoxLegend } from './BoxLegend.svelte';
export type { BoxStyle, LabeledBox } from './types.ts';
