/** Public API of the WIDER FACE evaluation (official protocol, prediction txt, bbox voting). */
export {
  evaluateWider,
  matchImage,
  imageOutcomeAt,
  vocAp,
  WIDER_IOU_THRESHOLD,
  WIDER_THRESHOLD_COUNT,
} from './evaluate-wider.ts';
export type {
  EvaluateWiderOptions,
  ImageMatch,
  ImageOutcome,
  PrCurve,
  PredictionOutcome,
  WiderEvaluation,
  WiderPrediction,
  WiderPredictions,
} from './evaluate-wider.ts';
export { formatPredictionTxt, parsePredictionTxt, formatFixed } from './prediction-txt.ts';
export type { PredictionTxt } from './prediction-txt.ts';
export { bboxVote, BBOX_VOTE_IOU, BBOX_VOTE_KEEP } from './bbox-vote.ts';
export { pairwiseSum } from './pairwise-sum.ts';
