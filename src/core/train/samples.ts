/**
 * The `samples` namespace of the core's data entry: WIDER boxes, subsets of a source, and the TF-free
 * preparation of a training sample (decode through the source, augmentation, targets), which a
 * preparation worker runs off the training thread.
 */
export { widerBoxes, subsetSource } from './sample-source.ts';
export { prepareTrainSample, inThreadPreparer, sampleSeed, trackLoadedBuffers, transferableSample } from './sample-preparer.ts';
