/**
 * Renders the markdown the tasks write in their summaries as HTML, simply: headings,
 * tables, lists, fenced code, paragraphs, and inline code, bold and links. Everything is
 * escaped first, so a summary can never inject markup into the report. Raw HTML (an
 * inline SVG, a styled span) is shown as text, as Azure DevOps's summary sanitiser leaves
 * it: the report never shows what a run's Extensions tab cannot.
 */
export function markdownToHtml(markdown: string): string {
  const lines = markdown.replace(/\r\n?/g, '\n').split('\n');
  const html: string[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (/^```/.test(line)) {
      const code: string[] = [];
      for (index++; index < lines.length && !/^```/.test(lines[index]!); index++) code.push(lines[index]!);
      index++;
      html.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    } else if (/^#{1,6}\s/.test(line)) {
      const level = /^#+/.exec(line)![0].length;
      html.push(`<h${level}>${inline(line.slice(level).trim())}</h${level}>`);
      index++;
      continue;
    } else if (isTableRow(line) && isDelimiterRow(lines[index + 1] ?? '')) {
      const header = cells(line);
      const rows: string[][] = [];
      for (index += 2; index < lines.length && isTableRow(lines[index]!); index++)
        rows.push(cells(lines[index]!));
      html.push(
        '<table><thead><tr>' +
          header.map((cell) => `<th>${inline(cell)}</th>`).join('') +
          '</tr></thead><tbody>' +
          rows.map((row) => `<tr>${row.map((cell) => `<td>${inline(cell)}</td>`).join('')}</tr>`).join('') +
          '</tbody></table>',
      );
      continue;
    } else if (/^\s*[-*]\s+/.test(line)) {
      const items: string[] = [];
      for (; index < lines.length && /^\s*[-*]\s+/.test(lines[index]!); index++) {
        items.push(`<li>${inline(lines[index]!.replace(/^\s*[-*]\s+/, ''))}</li>`);
      }
      html.push(`<ul>${items.join('')}</ul>`);
      continue;
    } else if (line.trim() !== '') {
      const paragraph: string[] = [];
      for (; index < lines.length && startsParagraphLine(lines, index); index++)
        paragraph.push(lines[index]!);
      html.push(`<p>${paragraph.map(inline).join('<br>')}</p>`);
      continue;
    } else {
      index++;
    }
  }
  return html.join('\n');
}

/** Escapes the five characters HTML gives meaning to. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function startsParagraphLine(lines: readonly string[], index: number): boolean {
  const line = lines[index]!;
  if (line.trim() === '' || /^```|^#{1,6}\s|^\s*[-*]\s+/.test(line)) return false;
  return !(isTableRow(line) && isDelimiterRow(lines[index + 1] ?? ''));
}

function isTableRow(line: string): boolean {
  return /^\s*\|.*\|\s*$/.test(line);
}

function isDelimiterRow(line: string): boolean {
  return /^\s*\|(\s*:?-+:?\s*\|)+\s*$/.test(line);
}

function cells(row: string): string[] {
  // A `\|` inside a cell is a literal bar, not a column break.
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}

function inline(text: string): string {
  const parts = text.split(/(`[^`]*`)/);
  return parts
    .map((part) =>
      part.startsWith('`') && part.endsWith('`') && part.length >= 2
        ? `<code>${escapeHtml(part.slice(1, -1))}</code>`
        : escapeHtml(part)
            .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
            .replace(/\[([^\]]+)\]\((https?:\/\/[^)\s]+|#[^)\s]*)\)/g, '<a href="$2">$1</a>'),
    )
    .join('');
}
