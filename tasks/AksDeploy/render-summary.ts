import type { RenderedKustomization } from './render';
import { cell } from './summary';

/** The summary's section on the kustomizations: which folder rendered how many objects, with what. */
export function renderedMarkdown(rendered: readonly RenderedKustomization[]): string {
  if (rendered.length === 0) return '';
  return [
    '',
    '### Rendered with Kustomize',
    '',
    '| Kustomization | Objects | Rendered with | Duration |',
    '|---|---|---|---|',
    ...rendered.map(
      (each) =>
        `| ${cell(each.folder)} | ${each.objects.length} | ${cell(each.tool)} | ${(each.durationMs / 1000).toFixed(1)} s |`,
    ),
    '',
  ].join('\n');
}
