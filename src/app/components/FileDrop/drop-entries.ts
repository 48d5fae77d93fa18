/**
 * `{@attach dropEntries(ondrop)}`: a drop target that also takes folders. Dropped directories are walked
 * (DataTransferItem.webkitGetAsEntry, FileSystemDirectoryReader.readEntries until empty) and every file
 * arrives with its path relative to the drop, e.g. `widerface/WIDER_val/images/0--Parade/x.jpg`.
 * Sets `data-dragover` while files hover the element.
 */
import type { Attachment } from 'svelte/attachments';
import { dropTarget } from './drop-files.ts';

export interface DroppedFile {
  /** Path relative to the drop (folder name first), or the file name. */
  path: string;
  file: File;
}

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: DroppedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\/+/, '') || file.name, file });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out);
  }
}

/** Files and folders of a drop, folders walked recursively. */
export async function droppedFiles(dataTransfer: DataTransfer): Promise<DroppedFile[]> {
  // Entries must be taken synchronously, while the drop event is being dispatched.
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of Array.from(dataTransfer.items)) {
    if (item.kind !== 'file') continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  if (entries.length === 0 && loose.length === 0) loose.push(...Array.from(dataTransfer.files));
  const out: DroppedFile[] = loose.map((file) => ({ path: file.name, file }));
  for (const entry of entries) await walk(entry, out);
  return out;
}

export function dropEntries(ondrop: (files: DroppedFile[]) => void, enabled: () => boolean = () => true, onerror?: (e: unknown) => void): Attachment<HTMLElement> {
  return dropTarget((data) => {
    droppedFiles(data).then((files) => files.length > 0 && ondrop(files), (err: unknown) => onerror?.(err));
  }, enabled);
}
