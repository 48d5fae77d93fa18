/** Score labels of face boxes: inside the image, never overlapping, and boxes clipped to the image. */
import { describe, expect, it } from 'vitest';
import { clipBox, placeLabels, type Rect } from '../../../src/app/components/BoxOverlay/label-placement.ts';

const overlap = (a: Rect, b: Rect) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('clipBox', () => {
  it('cuts a box reaching past the image edges to the image', () => {
    expect(clipBox([-12, 30, 80, 130], 100, 120)).toEqual([0, 30, 80, 120]);
  });
  it('drops a box entirely outside the image', () => {
    expect(clipBox([110, 10, 150, 40], 100, 120)).toBeNull();
  });
});

describe('placeLabels', () => {
  it('puts a lone label above its box', () => {
    expect(placeLabels([[20, 40, 60, 90]], [{ w: 30, h: 12 }], 200, 200)).toEqual([{ x: 20, y: 28, w: 30, h: 12 }]);
  });

  it('keeps labels inside the image at its edges', () => {
    const [top, right] = placeLabels(
      [
        [5, 0, 40, 30],
        [180, 100, 200, 140],
      ],
      [
        { w: 30, h: 12 },
        { w: 30, h: 12 },
      ],
      200,
      150,
    );
    expect(top).toEqual({ x: 5, y: 0, w: 30, h: 12 });
    expect(right).toEqual({ x: 170, y: 88, w: 30, h: 12 });
  });

  it('never lets two labels overlap on a crowded photo, and moves rather than hides where it can', () => {
    // A row of small faces, 16 px apart, each label 30 px wide: the naive corner labels would all collide.
    const boxes = Array.from({ length: 12 }, (_, i) => [10 + 16 * i, 50, 24 + 16 * i, 66] as [number, number, number, number]);
    const sizes = boxes.map(() => ({ w: 30, h: 10 }));
    const spots = placeLabels(boxes, sizes, 240, 120);
    const shown = spots.filter((s): s is Rect => s !== null);
    for (let i = 0; i < shown.length; i++) for (let j = i + 1; j < shown.length; j++) expect(overlap(shown[i]!, shown[j]!)).toBe(false);
    for (const s of shown) {
      expect(s.x).toBeGreaterThanOrEqual(0);
      expect(s.y).toBeGreaterThanOrEqual(0);
      expect(s.x + s.w).toBeLessThanOrEqual(240);
      expect(s.y + s.h).toBeLessThanOrEqual(120);
    }
    // Four spots per box (above, inside top, below, inside bottom) fit more than one label per 30 px.
    expect(shown.length).toBeGreaterThan(Math.floor(240 / 30));
    // The best-scored (first) box keeps the usual spot above it.
    expect(spots[0]).toEqual({ x: 10, y: 40, w: 30, h: 10 });
  });
});
