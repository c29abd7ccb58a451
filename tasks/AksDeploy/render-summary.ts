import type { RenderedKustomization } from './render';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

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
