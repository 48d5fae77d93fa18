/**
 * Dataset browser state: one dataset's images (annotations only; the JPEGs stay in IndexedDB),
 * filters by event and by Easy/Medium/Hard membership, a page of thumbnails with object URLs made
 * for that page only (revoked when the page changes), and the image opened in the detail view.
 */
import type { WiderSetting } from '../../../core/data/index.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import { FACE_FIELDS, type StoredDataset, type StoredDatasetImage } from '../../../platform/browser/idb-store.ts';
import { datasetImageId, getImageBlobs, inSetting, listDatasetImages } from '../../../platform/browser/wider-store.ts';
import type { LabeledBox } from '../../components/AnnotatedImage/index.ts';

export const PAGE_SIZE = 24;

/** The annotated faces of an image as boxes: 'face', or 'invalid' for faces WIDER marks invalid. */
export function faceBoxes(image: StoredDatasetImage): LabeledBox[] {
  const out: LabeledBox[] = [];
  const f = image.faces;
  for (let k = 0; k + FACE_FIELDS <= f.length; k += FACE_FIELDS) {
    out.push({ x: f[k]!, y: f[k + 1]!, w: f[k + 2]!, h: f[k + 3]!, kind: f[k + 7] === 1 ? 'invalid' : 'face' });
  }
  return out;
}

export class DatasetBrowserState {
  dataset = $state.raw<StoredDataset | null>(null);
  images = $state.raw<StoredDatasetImage[]>([]);
  event = $state('');
  setting = $state<WiderSetting | ''>('');
  page = $state(0);
  /** Object URLs of the current page's images, by image id. */
  urls = $state.raw<Map<string, string>>(new Map());
  selected = $state.raw<StoredDatasetImage | null>(null);
  loading = $state(false);
  error = $state.raw<UiError | null>(null);

  events = $derived([...new Set(this.images.map((im) => im.event))]);
  filtered = $derived(
    this.images.filter((im) => (!this.event || im.event === this.event) && (!this.setting || inSetting(im, this.setting))),
  );
  pages = $derived(Math.max(1, Math.ceil(this.filtered.length / PAGE_SIZE)));
  pageItems = $derived(this.filtered.slice(this.page * PAGE_SIZE, (this.page + 1) * PAGE_SIZE));
  filteredFaces = $derived(this.filtered.reduce((n, im) => n + im.faces.length / FACE_FIELDS, 0));

  #generation = 0;

  async open(dataset: StoredDataset): Promise<void> {
    if (this.dataset?.id === dataset.id) return;
    this.close();
    this.dataset = dataset;
    this.loading = true;
    const generation = this.#generation;
    try {
      const images = await listDatasetImages(dataset.id);
      if (generation !== this.#generation) return;
      this.images = images;
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
    await this.#loadPage();
  }

  close(): void {
    this.#generation++;
    this.#revoke(this.urls);
    this.urls = new Map();
    this.dataset = null;
    this.images = [];
    this.event = '';
    this.setting = '';
    this.page = 0;
    this.selected = null;
    this.error = null;
    this.loading = false;
  }

  setEvent(event: string): Promise<void> {
    this.event = event;
    return this.goto(0);
  }

  setSetting(setting: WiderSetting | ''): Promise<void> {
    this.setting = setting;
    return this.goto(0);
  }

  async goto(page: number): Promise<void> {
    this.page = Math.min(Math.max(0, page), this.pages - 1);
    this.selected = null;
    await this.#loadPage();
  }

  select(image: StoredDatasetImage | null): void {
    this.selected = image;
  }

  /** Steps the detail view through the filtered images (crossing pages). */
  async step(delta: number): Promise<void> {
    const current = this.selected;
    if (!current) return;
    const i = this.filtered.indexOf(current) + delta;
    if (i < 0 || i >= this.filtered.length) return;
    const page = Math.floor(i / PAGE_SIZE);
    if (page !== this.page) {
      this.page = page;
      await this.#loadPage();
    }
    this.selected = this.filtered[i]!;
  }

  async #loadPage(): Promise<void> {
    const dataset = this.dataset;
    if (!dataset) return;
    const generation = ++this.#generation;
    const items = this.pageItems;
    try {
      const blobs = await getImageBlobs(items.map((im) => datasetImageId(dataset.id, im.key)));
      if (generation !== this.#generation) return;
      const next = new Map<string, string>();
      items.forEach((im, i) => {
        const blob = blobs[i];
        if (blob) next.set(im.id, URL.createObjectURL(blob));
      });
      this.#revoke(this.urls);
      this.urls = next;
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  #revoke(urls: Map<string, string>): void {
    for (const url of urls.values()) URL.revokeObjectURL(url);
  }
}
