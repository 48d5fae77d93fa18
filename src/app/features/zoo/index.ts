export { default as ZooPage } from './ZooPage.svelte';
export { ZooState } from './zoo-state.svelte.ts';
export { zooRows, type ZooRow, type ZooAp } from './zoo-rows.ts';
