/**
 * Resource limits of every parser that reads a file a person hands the studio (checkpoints, images,
 * .mat files). The same readers run in the browser's workers and in Node, so a crafted 48 KB file
 * must not be able to exhaust a tab's heap or stack: each limit is far above what a real input needs
 * (noted per value) and is checked before the work it bounds, so a hostile input fails in
 * milliseconds with a clear code.
 */
export const INPUT_LIMITS = Object.freeze({
  /** Bytes of a checkpoint's data.pkl (EResFD's: 148 KB). */
  pickleBytes: 64 * 2 ** 20,
  /** Opcodes executed per pickle (EResFD's: 33,140). */
  pickleOps: 500_000,
  /**
   * Objects a pickle may build: strings, bytes, tuples, lists, dicts, sets, rebuilt tensors (EResFD's:
   * ~11,000). Small ints, booleans and None cost nothing, so a 300,000-item list of them still loads.
   */
  pickleObjects: 50_000,
  /** Nesting of MARKs (EResFD's: 3). */
  pickleDepth: 1_000,
  /** Memo slots, and the largest memo index (EResFD's: 8,773). */
  pickleMemo: 1_000_000,
  /** Uncompressed bytes of one zip entry (EResFD's largest storage: 37 KB; the whole file 0.6 MB). */
  zipEntryBytes: 256 * 2 ** 20,
  /** Uncompressed bytes of all entries a checkpoint read inflates together. */
  zipTotalBytes: 512 * 2 ** 20,
  /** Inflate ratio (uncompressed : compressed) allowed once an entry exceeds `inflateRatioFloor`. */
  inflateRatio: 100,
  inflateRatioFloor: 2 ** 20,
  /** Pixels of a decoded image (width · height), for JPEG and PNG alike (jpeg-js' own default cap). */
  imagePixels: 100_000_000,
});

export type InputLimits = typeof INPUT_LIMITS;
