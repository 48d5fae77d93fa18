/**
 * `{@attach dropFiles(onfiles)}`: makes any element a file drop target. Sets `data-dragover` while files
 * hover it (style it with `[data-dragover]`).
 */
import type { Attachment } from 'svelte/attachments';

export function dropFiles(onfiles: (files: File[]) => void, enabled: () => boolean = () => true): Attachment<HTMLElement> {
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
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setOver(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (enabled() && files.length > 0) onfiles(files);
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
