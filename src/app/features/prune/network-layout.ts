/**
 * Where the network map draws EResFD's blocks (SPEC §1.3–1.5): the stem convs, conv4, the residual
 * stages layer1–5 (layer5 is a dead branch: its output never reaches a head, SPEC §1.4), the FPN, the
 * six FEMs and the detection heads. Pure data for NetworkMap.svelte, in SVG user units.
 *
 * Two arrangements: `wide` (backbone left → right, FPN under it, FEMs and heads below, with the data
 * flow drawn) and `tall` (three blocks a row, for narrow windows; no edges).
 */

export interface MapBlock {
  /** Canonical module path (`base.m0.layer3`), or `heads` for the never-pruned detection heads. */
  id: string;
  label: string;
  /** Second line: what the block contains. */
  detail: string;
  x: number;
  y: number;
  w: number;
  h: number;
  /** `layer5`: computed, but its output reaches no head. */
  dead: boolean;
  prunable: boolean;
}

export interface MapEdge {
  points: Array<[number, number]>;
  dead: boolean;
}

export interface NetworkLayout {
  width: number;
  height: number;
  blocks: MapBlock[];
  edges: MapEdge[];
  /** Where the dead branch ends (a ✕ is drawn there), if edges are drawn. */
  deadEnd: [number, number] | null;
}

export type LayoutKind = 'wide' | 'tall';

interface ModuleDesc {
  id: string;
  label: string;
  detail: string;
  dead?: boolean;
}

const layer = (i: number) => `base.m0.layer${i}`;

/** Short name of a prunable module: `base.m0.layer6` → `FPN`, `base.m0.layer9` → `FEM 2`, `base.conv3` → `conv3`. */
export function moduleLabel(id: string): string {
  const m = /^base\.m0\.layer(\d+)$/.exec(id);
  if (m) {
    const i = Number(m[1]);
    if (i <= 5) return `layer${i}`;
    if (i === 6) return 'FPN';
    return `FEM ${i - 7}`;
  }
  return id.replace(/^base\./, '');
}

const BACKBONE: ModuleDesc[] = [
  { id: 'base.conv1', label: 'conv1', detail: '5×5 s4, 3→8' },
  { id: 'base.conv2', label: 'conv2', detail: '3×3, 8→8' },
  { id: 'base.conv3', label: 'conv3', detail: '3×3, 8→16' },
  { id: 'base.conv4', label: 'conv4', detail: 'res block' },
  { id: layer(1), label: 'layer1', detail: '3 blocks, s8' },
  { id: layer(2), label: 'layer2', detail: '3 blocks, s16' },
  { id: layer(3), label: 'layer3', detail: '3 blocks, s32' },
  { id: layer(4), label: 'layer4', detail: '2 blocks, s64' },
  { id: layer(5), label: 'layer5', detail: 'dead branch', dead: true },
];
const FPN: ModuleDesc = { id: layer(6), label: 'FPN', detail: '5 laterals + 4 refine convs' };
const FEMS: ModuleDesc[] = [0, 1, 2, 3, 4, 5].map((i) => ({ id: layer(7 + i), label: `FEM ${i}`, detail: `5 convs, P${i}` }));
const HEADS: ModuleDesc = { id: 'heads', label: 'heads', detail: 'loc + conf ×6, never pruned' };

function block(d: ModuleDesc, x: number, y: number, w: number, h: number): MapBlock {
  return { id: d.id, label: d.label, detail: d.detail, x, y, w, h, dead: !!d.dead, prunable: d.id !== 'heads' };
}

function wide(): NetworkLayout {
  const W = 1000;
  const pad = 10;
  const bw = 100, bh = 58, gap = (W - 2 * pad - 9 * bw) / 8;
  const rowB = 14, rowF = 140, rowM = 236, rowH = 334;
  const blocks: MapBlock[] = BACKBONE.map((d, i) => block(d, pad + i * (bw + gap), rowB, bw, bh));
  const fpn = block(FPN, pad, rowF, W - 2 * pad, 46);
  const fw = 140, fgap = (W - 2 * pad - 6 * fw) / 5;
  const fems = FEMS.map((d, i) => block(d, pad + i * (fw + fgap), rowM, fw, 54));
  const heads = fems.map((f, i) => ({ ...block(HEADS, f.x + 20, rowH, f.w - 40, 30), id: `heads`, label: `head ${i}`, detail: '' }));
  blocks.push(fpn, ...fems, ...heads);
  const edges: MapEdge[] = [];
  const mid = (b: MapBlock): number => b.x + b.w / 2;
  for (let i = 0; i + 1 < BACKBONE.length; i++) {
    const a = blocks[i]!, b = blocks[i + 1]!;
    edges.push({ points: [[a.x + a.w, a.y + a.h / 2], [b.x, b.y + b.h / 2]], dead: b.id === layer(5) });
  }
  // c0..c4 (conv4, layer1..4) feed the FPN.
  for (let i = 3; i <= 7; i++) {
    const b = blocks[i]!;
    edges.push({ points: [[mid(b), b.y + b.h], [mid(b), rowF]], dead: false });
  }
  // layer5's output (c5) gets no lateral in the B-FPGM FPN: it stops short of it.
  const l5 = blocks[8]!;
  const deadEnd: [number, number] = [mid(l5), rowF - 26];
  edges.push({ points: [[mid(l5), l5.y + l5.h], deadEnd], dead: true });
  fems.forEach((f, i) => {
    edges.push({ points: [[mid(f), rowF + 46], [mid(f), rowM]], dead: false });
    const h = heads[i]!;
    edges.push({ points: [[mid(f), rowM + 54], [mid(h), rowH]], dead: false });
  });
  return { width: W, height: rowH + 30 + pad, blocks, edges, deadEnd };
}

function tall(): NetworkLayout {
  const W = 360;
  const pad = 6;
  const cols = 3, gap = 8;
  const bw = (W - 2 * pad - (cols - 1) * gap) / cols, bh = 52;
  const blocks: MapBlock[] = [];
  let y = pad;
  const row = (items: ModuleDesc[]) => {
    items.forEach((d, i) => blocks.push(block(d, pad + i * (bw + gap), y, bw, bh)));
    y += bh + gap;
  };
  row(BACKBONE.slice(0, 3));
  row(BACKBONE.slice(3, 6));
  row(BACKBONE.slice(6, 9));
  blocks.push(block(FPN, pad, y, W - 2 * pad, 44));
  y += 44 + gap;
  row(FEMS.slice(0, 3));
  row(FEMS.slice(3, 6));
  blocks.push(block(HEADS, pad, y, W - 2 * pad, 34));
  y += 34 + pad;
  return { width: W, height: y, blocks, edges: [], deadEnd: null };
}

export function networkLayout(kind: LayoutKind): NetworkLayout {
  return kind === 'wide' ? wide() : tall();
}
