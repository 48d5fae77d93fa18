/** Public API of the WIDER FACE dataset readers (annotation txt, ground-truth .mat, subsets). */
export { parseBbxGt, imageKeyFromPath } from './parse-bbx-gt.ts';
export type { WiderEntry, WiderFace, ParseBbxGtOptions } from './parse-bbx-gt.ts';
export { parseMat, matCharRows } from './parse-mat.ts';
export type {
  MatArray,
  MatCellArray,
  MatCharArray,
  MatFile,
  MatNumericArray,
  MatNumericClass,
  MatNumericData,
  MatStructArray,
  ParseMatOptions,
} from './parse-mat.ts';
export { readWiderGroundTruth, countWiderGroundTruth, widerImageKey, WIDER_SETTINGS } from './wider-ground-truth.ts';
export type { WiderGroundTruth, WiderGtEvent, WiderGtImage, WiderGtFiles, WiderGtCounts, WiderSetting } from './wider-ground-truth.ts';
export { selectSubset } from './select-subset.ts';
export type { SelectSubsetOptions } from './select-subset.ts';
