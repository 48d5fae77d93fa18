/** Browser import of WIDER FACE (official zips, loose files, dropped folders) into IndexedDB. */
export { importWider, type ImportOptions, type ImportOutcome, type ImportPlan, type ImportProgress, type ImportedDataset, type SubsetChoice } from './import-wider.ts';
export { prepareWider, describePrepared, WIDER_SPLITS, type PreparedWider, type SplitInspection, type WiderInspection } from './prepare-wider.ts';
export { catalogSources, recognizeWiderPath, GT_FILE_NAMES, type ImportSource, type SourceSummary, type WiderCatalog } from './wider-sources.ts';
export { readZipIndex, type ZipEntryInfo, type ZipIndex } from './zip-index.ts';
export { extractEntries, readEntry } from './zip-extract.ts';
export { checkJpeg, type JpegSize } from './check-jpeg.ts';
