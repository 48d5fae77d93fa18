/**
 * Names of the models the studio makes: short and readable in lists (what, target, when), e.g.
 * `B-FPGM 30% · 4 Dec 14:05`, with the details in the model card; and file names for downloads that
 * two models never share (the name's slug plus the start of the model's content hash).
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `4 Dec 14:05` in the local time of `at`. */
export function shortStamp(at: Date): string {
  const hh = String(at.getHours()).padStart(2, '0');
  const mm = String(at.getMinutes()).padStart(2, '0');
  return `${at.getDate()} ${MONTHS[at.getMonth()]} ${hh}:${mm}`;
}

const pct = (fraction: number): string => `${Math.round(fraction * 1000) / 10}%`;

/** A pipeline run's model: `B-FPGM 30% · 4 Dec 14:05` (`… 30% MACs · …` for a compute target). */
export function prunedModelName(target: number, targetKind: 'parameters' | 'macs', at: Date): string {
  return `B-FPGM ${pct(target)}${targetKind === 'macs' ? ' MACs' : ''} · ${shortStamp(at)}`;
}

/** The rate editor's one-shot FPGM model: `FPGM 32.1% · 4 Dec 14:05` (its parameter sparsity). */
export function oneShotModelName(sparsity: number, at: Date): string {
  return `FPGM ${pct(sparsity)} · ${shortStamp(at)}`;
}

/** A training run's model: `Trained 3 ep · 4 Dec 14:05`. */
export function trainedModelName(epochs: number, at: Date): string {
  return `Trained ${epochs} ep · ${shortStamp(at)}`;
}

/** The longest name a user may give a model (lists truncate long ones; the card shows them whole). */
export const MAX_MODEL_NAME = 80;

/** A user-typed model name, trimmed and with runs of white space collapsed; throws on empty or too long names. */
export function cleanModelName(raw: string): string {
  const name = raw.replace(/\s+/g, ' ').trim();
  if (!name) throw new Error('A model needs a name.');
  if (name.length > MAX_MODEL_NAME) throw new Error(`Names are at most ${MAX_MODEL_NAME} characters (this one has ${name.length}).`);
  return name;
}

/**
 * The download file name of a stored model. A model loaded from a file keeps that file's name; a
 * model made here gets its name's slug plus the first 8 hex digits of its content hash (`id`), so
 * two runs, even with the same name, never produce the same file name.
 */
export function modelFileName(name: string, id: string, madeHere: boolean): string {
  if (!madeHere && /\.(pth|pt)$/i.test(name)) return name;
  const slug = name
    .replace(/\.(pth|pt)$/i, '')
    .replace(/%/g, 'pct')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60) || 'model';
  return `${slug}-${id.slice(0, 8)}.pth`;
}
