/**
 * `{@attach dropFiles(onfiles)}`: makes any element a file drop target. Sets `data-dragover` while files
 * hover it (style it with `[data-dragover]`).
 */
import type { Attachment } from 'svelte/attachments';

/**
 * The drag-and-drop mechanics every drop target shares: `data-dragover` while files hover (with a depth
 * count, since dragenter/dragleave fire for children too), the copy cursor, and `ondata` on a drop
 * while `enabled()`.
 */
export function dropTarget(ondata: (data: DataTransfer) => void, enabled: () => boolean = () => true): Attachment<HTMLElement> {
  return (node) => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
    const setOver = (over: boolean) => {
      if (over) node.dataset.dragover = '';
      else delete node.dataset.dragover;
    };
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      setOver(enabled());
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = enabled() ? 'copy' : 'none';
    };
    const leave = () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) setOver(false);
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e) || !e.dataTransfer) return;
      e.preventDefault();
      depth = 0;
      setOver(false);
      if (enabled()) ondata(e.dataTransfer);
    };
    node.addEventListener('dragenter', enter);
    node.addEventListener('dragover', over);
    node.addEventListener('dragleave', leave);
    node.addEventListener('drop', drop);
    return () => {
      node.removeEventListener('dragenter', enter);
      node.removeEventListener('dragover', over);
      node.removeEventListener('dragleave', leave);
      node.removeEventListener('drop', drop);
    };
  };
}

export function dropFiles(onfiles: (files: File[]) => void, enabled: () => boolean = () => true): Attachment<HTMLElement> {
  return dropTarget((data) => {
    const files = Array.from(data.files);
    if (files.length > 0) onfiles(files);
  }, enabled);
}
