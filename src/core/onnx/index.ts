/** ONNX export of EResFD (dense or compacted), written by our own small protobuf encoder. */
export { exportEResFDOnnx, checkpointToOnnx, denseWeights, nhwcToNchw, ONNX_INPUT, ONNX_OUTPUTS } from './export-eresfd.ts';
