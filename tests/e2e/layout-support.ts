/**
 * Generic layout checks for the studio's pages (issue 13): every visible interactive control lies inside
 * the viewport and inside its panel horizontally, is not covered by anything else at its centre, and no two
 * controls overlap. Controls inside a scroll container (a scrollable table, the phone tab bar) are judged by
 * that container instead: scrolling them out of view is what the container is for.
 */
import { expect, type Page } from '@playwright/test';
import { fileFromDisk, sharedPath } from './support.ts';

/** Every route of the studio's navigation. */
export const ROUTES = ['detect', 'datasets', 'evaluate', 'prune', 'compare', 'pipeline', 'train', 'zoo', 'learn'] as const;
export type Route = (typeof ROUTES)[number];

/** The name "Use these rates" gives a pruned model: long, no spaces (issue 13, defect 1). */
export const LONG_MODEL_NAME = 'EResFD-original-fpgm-code-20_30_40_50_30_30.pth';

/**
 * Loads a pruned checkpoint (the released 30 % one; models are stored by content, so not the original again)
 * under the long name, so the header, card and stored list must cope with it.
 */
export async function loadLongNamedModel(page: Page): Promise<void> {
  const file = fileFromDisk(sharedPath('models', 'EResFD-30-pruned.pth'));
  await expect(page.getByTestId('model-file-input')).toBeEnabled();
  await page.getByTestId('model-file-input').setInputFiles({ ...file, name: LONG_MODEL_NAME });
  await expect(page.getByTestId('model-name')).toHaveText(LONG_MODEL_NAME);
}

/** Opens a route by its URL hash and waits for the navigation to mark it current. */
export async function goTo(page: Page, route: Route): Promise<void> {
  await page.evaluate((r) => (location.hash = r), route);
  await expect(page.getByTestId(`nav-${route}`)).toHaveAttribute('aria-current', 'page');
}

export interface LayoutProblem {
  kind: 'outside-viewport' | 'outside-panel' | 'overlap' | 'covered' | 'page-scrolls-sideways';
  control: string;
  other?: string;
  detail: string;
}

/** Layout problems of the page as it is now (empty = pass). Runs entirely in the page. */
export async function layoutProblems(page: Page): Promise<LayoutProblem[]> {
  return page.evaluate(() => {
    const SELECTOR = [
      'button',
      'a[href]',
      'input:not([type="hidden"])',
      'select',
      'textarea',
      'summary',
      'label.btn',
      '[role="tab"]',
      '[role="button"]',
      '[role="slider"]',
      '[role="menuitem"]',
    ].join(',');
    const problems: LayoutProblem[] = [];
    const vw = document.documentElement.clientWidth;
    const describe = (el: Element): string => {
      const id = el.getAttribute('data-testid');
      const text = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 40);
      return `${el.tagName.toLowerCase()}${id ? `[data-testid=${id}]` : ''}${text ? ` "${text}"` : ''}`;
    };
    /** The nearest ancestor that clips or scrolls horizontally (not the page itself). */
    const clipper = (el: Element): Element | null => {
      for (let p = el.parentElement; p && p !== document.body && p !== document.documentElement; p = p.parentElement) {
        const s = getComputedStyle(p);
        if (s.overflowX !== 'visible' || s.overflowY !== 'visible') return p;
      }
      return null;
    };
    const inFixedLayer = (el: Element): boolean => {
      for (let p: Element | null = el; p; p = p.parentElement) if (getComputedStyle(p).position === 'fixed') return true;
      return false;
    };
    const visible = (el: Element): boolean => {
      if (!el.checkVisibility({ visibilityProperty: true })) return false;
      const r = el.getBoundingClientRect();
      // Visually hidden inputs (1 px, clipped) sit under their button-styled label; the label is checked.
      return r.width > 2 && r.height > 2;
    };

    window.scrollTo(0, 0);
    if (document.documentElement.scrollWidth > vw + 1) {
      problems.push({ kind: 'page-scrolls-sideways', control: 'html', detail: `scrollWidth ${document.documentElement.scrollWidth} > ${vw}` });
    }
    const controls = Array.from(document.querySelectorAll(SELECTOR)).filter(visible);

    // Containment: the viewport and the panel, horizontally (vertically the page scrolls).
    for (const el of controls) {
      const clip = clipper(el);
      const r = (clip ?? el).getBoundingClientRect();
      const who = clip ? `${describe(el)} (its scroll box)` : describe(el);
      if (r.left < -0.5 || r.right > vw + 0.5) {
        problems.push({ kind: 'outside-viewport', control: who, detail: `x ${r.left.toFixed(0)}–${r.right.toFixed(0)}, viewport 0–${vw}` });
      }
      const panel = el.closest('.panel');
      if (panel && (!clip || panel.contains(clip))) {
        const pr = panel.getBoundingClientRect();
        if (r.left < pr.left - 0.5 || r.right > pr.right + 0.5 || r.top < pr.top - 0.5 || r.bottom > pr.bottom + 0.5) {
          problems.push({
            kind: 'outside-panel',
            control: who,
            detail: `x ${r.left.toFixed(0)}–${r.right.toFixed(0)} y ${r.top.toFixed(0)}–${r.bottom.toFixed(0)}, panel x ${pr.left.toFixed(0)}–${pr.right.toFixed(0)} y ${pr.top.toFixed(0)}–${pr.bottom.toFixed(0)}`,
          });
        }
      }
    }

    // Overlaps between controls (nested controls, e.g. a summary holding a badge, do not count).
    const rects = controls.map((el) => el.getBoundingClientRect());
    for (let i = 0; i < controls.length; i++) {
      for (let j = i + 1; j < controls.length; j++) {
        const a = controls[i]!;
        const b = controls[j]!;
        if (a.contains(b) || b.contains(a)) continue;
        if (clipper(a) !== clipper(b)) {
          // A control scrolled out of its box is not drawn there; compare only what is visible.
          const ca = clipper(a)?.getBoundingClientRect();
          const cb = clipper(b)?.getBoundingClientRect();
          const ra = rects[i]!;
          const rb = rects[j]!;
          const outside = (r: DOMRect, c?: DOMRect) => !!c && (r.right <= c.left || r.left >= c.right || r.bottom <= c.top || r.top >= c.bottom);
          if (outside(ra, ca) || outside(rb, cb)) continue;
        }
        const ra = rects[i]!;
        const rb = rects[j]!;
        const w = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
        const h = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
        if (w > 1 && h > 1) {
          problems.push({ kind: 'overlap', control: describe(a), other: describe(b), detail: `${w.toFixed(0)}×${h.toFixed(0)} px shared` });
        }
      }
    }

    // Nothing else is drawn over a control's centre (scrolled into the middle of the window first; the
    // scroll boxes moved on the way are put back afterwards).
    const scrolled = new Map<Element, [number, number]>();
    for (const el of controls) {
      const clip = clipper(el);
      if (clip && !scrolled.has(clip)) scrolled.set(clip, [clip.scrollLeft, clip.scrollTop]);
    }
    for (const el of controls) {
      if (inFixedLayer(el)) continue;
      el.scrollIntoView({ block: 'center', inline: 'nearest' });
      const r = el.getClientRects()[0] ?? el.getBoundingClientRect();
      const x = r.left + r.width / 2;
      const y = r.top + r.height / 2;
      if (x < 0 || y < 0 || x > vw || y > window.innerHeight) continue;
      const hit = document.elementFromPoint(x, y);
      if (!hit || el.contains(hit) || hit.contains(el)) continue;
      // A label's own input, or a control inside a button-styled label, is the same control.
      if (hit instanceof HTMLLabelElement && hit.control === el) continue;
      if (el instanceof HTMLLabelElement && el.control === hit) continue;
      if (inFixedLayer(hit)) continue;
      problems.push({ kind: 'covered', control: describe(el), other: describe(hit), detail: `at ${x.toFixed(0)},${y.toFixed(0)}` });
    }
    for (const [box, [left, top]] of scrolled) box.scrollTo(left, top);
    window.scrollTo(0, 0);
    return problems;
  });
}

/**
 * Stores a paused pipeline run with `trials` made-up trials (plain numbers, no data behind them) directly in
 * IndexedDB, through the studio's own modules served by vite, so the Pipeline page has a BO dashboard and a
 * trial table to lay out without spending minutes on a real search.
 */
export async function seedPausedRun(page: Page, trials = 14): Promise<void> {
  // Module URLs on the dev server (passed as strings: they are resolved by vite in the page, not by tsc).
  const modules = { config: '/src/core/pipeline/config.ts', db: '/src/platform/browser/idb-store.ts' };
  await page.evaluate(async ({ count, modules }) => {
    const { DEFAULT_PIPELINE_CONFIG } = (await import(modules.config)) as typeof import('../../src/core/pipeline/config.ts');
    const { openStudioDb } = (await import(modules.db)) as typeof import('../../src/platform/browser/idb-store.ts');
    const config = DEFAULT_PIPELINE_CONFIG;
    const groups = config.grouping.groups.length;
    const now = Date.now();
    const iso = new Date(now).toISOString();
    const trialRows = Array.from({ length: count }, (_, index) => {
      const rates = Array.from({ length: groups }, (_, g) => Number((0.05 + ((index * 7 + g * 13) % 40) / 100).toFixed(4)));
      const sparsity = 0.2 + ((index * 11) % 20) / 100;
      const penalty = Math.abs(sparsity - config.target) <= 0.04 ? 0 : 100;
      const valLoss = 6 + ((index * 5) % 9) / 10;
      return {
        index,
        source: index === 0 ? 'probe' : index <= config.bo.initPoints ? 'random' : 'suggest',
        rates,
        sparsity,
        macsRemoved: sparsity * 1.1,
        penalty,
        trained: penalty === 0,
        valLoss: penalty === 0 ? valLoss : null,
        valLossL: penalty === 0 ? valLoss / 3 : null,
        valLossC: penalty === 0 ? (2 * valLoss) / 3 : null,
        trainLoss: penalty === 0 ? valLoss + 0.4 : null,
        objective: penalty === 0 ? -valLoss : -100,
        seconds: 30,
        duplicate: false,
      };
    });
    const state = {
      format: 'bfpgm-run',
      version: 1,
      id: 'layout-run',
      createdAt: iso,
      updatedAt: iso,
      config,
      stage: 'bo',
      status: 'paused',
      bo: { optimizer: null, trials: trialRows, bestRates: null },
      epochs: [],
      sfpEpochsDone: 0,
      finetuneEpochsDone: 0,
      plan: null,
      evaluation: { before: null, after: null },
      result: null,
    };
    const db = await openStudioDb();
    await db.put('runs', {
      id: 'layout-run',
      kind: 'pipeline',
      meta: { modelId: 'none', modelName: 'EResFD-original.pth', datasetId: 'none', datasetName: 'WIDER train · 200 images' },
      createdAt: now,
      updatedAt: now,
      state,
    } as never);
  }, { count: trials, modules });
}
