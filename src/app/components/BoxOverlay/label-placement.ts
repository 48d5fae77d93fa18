/**
 * Where the score labels of face boxes go, in media pixels. Crowded photos put many boxes close together;
 * labels drawn naively at each box's corner overlap and become unreadable, so each label (best score first)
 * takes the first free spot among: above the box, inside its top, below it, inside its bottom — always inside
 * the image. A label with no free spot is not drawn (the overlay shows it while its box is hovered).
 */

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A box [x1, y1, x2, y2] cut to the image; null when nothing of it is inside. */
export function clipBox(box: readonly number[], width: number, height: number): [number, number, number, number] | null {
  const x1 = Math.max(0, Math.min(width, box[0]!));
  const y1 = Math.max(0, Math.min(height, box[1]!));
  const x2 = Math.max(0, Math.min(width, box[2]!));
  const y2 = Math.max(0, Math.min(height, box[3]!));
  return x2 > x1 && y2 > y1 ? [x1, y1, x2, y2] : null;
}

const overlaps = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/**
 * One label rectangle per box (null: no free spot), for boxes already clipped to the image and ordered best
 * first. `sizes[i]` is the label's width and height.
 */
export function placeLabels(
  boxes: ReadonlyArray<readonly [number, number, number, number]>,
  sizes: ReadonlyArray<{ w: number; h: number }>,
  width: number,
  height: number,
): Array<Rect | null> {
  const placed: Rect[] = [];
  return boxes.map(([x1, y1, x2, y2], i) => {
    const { w, h } = sizes[i]!;
    const clampX = (x: number) => Math.max(0, Math.min(width - w, x));
    const clampY = (y: number) => Math.max(0, Math.min(height - h, y));
    const candidates = [y1 - h, y1, y2, y2 - h].map((y) => ({ x: clampX(x1), y: clampY(y), w, h }));
    const free = candidates.find((c) => !placed.some((p) => overlaps(c, p)));
    if (free) placed.push(free);
    return free ?? null;
  });
}
