/** A box in image pixels, `[x, y, w, h]` (WIDER's convention), with the style it is drawn in. */
export interface LabeledBox {
  x: number;
  y: number;
  w: number;
  h: number;
  /** Key into the `styles` map of AnnotatedImage / BoxLegend, also exposed as `data-kind`. */
  kind: string;
}

export interface BoxStyle {
  /** Legend text. */
  label: string;
  /** A CSS colour. */
  color: string;
  dashed?: boolean;
}
