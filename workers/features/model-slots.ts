/**
 * Worker side of the side-by-side detection preview (issue 6 item 2): up to a few extra models held
 * by key (`a`, `b`), independent of the main loaded model, and detection of one frame with several of
 * them. Each frame crosses the worker boundary once however many models look at it.
 */
import {
  createEResFD,
  describeModel,
  detectFaces,
  loadEResFDCheckpoint,
  StudioError,
  type DetectFacesOptions,
  type DetectResult,
  type EResFDModel,
  type ModelInfo,
} from '../../src/core/index.ts';

/** Keys a slot may have (two panes; a small fixed set so a bug cannot pile up models). */
export const SLOT_KEYS = ['a', 'b'] as const;
export type SlotKey = (typeof SLOT_KEYS)[number];

/** A frame as the UI sends it: RGBA (or RGB) bytes, row-major. */
export interface SlotFrame {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface SlotInfo extends ModelInfo {
  archiveName: string;
  slot: SlotKey;
}

export interface SlotDetection extends DetectResult {
  slot: SlotKey;
}

function checkSlot(slot: string): SlotKey {
  if (!(SLOT_KEYS as readonly string[]).includes(slot)) throw new StudioError('CONFIG_INVALID', `Unknown model slot "${slot}" (use ${SLOT_KEYS.join(' or ')}).`);
  return slot as SlotKey;
}

export function createModelSlots() {
  const slots = new Map<SlotKey, EResFDModel>();
  return {
    /** Parses a checkpoint into slot `slot`, replacing (and disposing) what was there. */
    loadSlot(slot: SlotKey, bytes: ArrayBuffer): SlotInfo {
      const key = checkSlot(slot);
      const { stateDict, archiveName } = loadEResFDCheckpoint(new Uint8Array(bytes));
      const info = describeModel(stateDict);
      const next = createEResFD(stateDict);
      slots.get(key)?.dispose();
      slots.set(key, next);
      return { ...info, archiveName, slot: key };
    },

    /** Runs every listed slot on the same frame, one after the other; results in the order asked. */
    async detectSlots(frame: SlotFrame, keys: SlotKey[], options: Pick<DetectFacesOptions, 'scoreThreshold'> = {}): Promise<SlotDetection[]> {
      const { width, height, data } = frame;
      const channels = data.length === width * height * 3 ? 3 : 4;
      const out: SlotDetection[] = [];
      for (const k of keys) {
        const model = slots.get(checkSlot(k));
        if (!model) throw new StudioError('NOT_FOUND', `No model in slot ${k}: pick a model for that pane first.`);
        out.push({ ...(await detectFaces(model, { width, height, channels, data }, options)), slot: k });
      }
      return out;
    },

    releaseSlot(slot: SlotKey): void {
      const key = checkSlot(slot);
      slots.get(key)?.dispose();
      slots.delete(key);
    },
  };
}

export type ModelSlots = ReturnType<typeof createModelSlots>;
