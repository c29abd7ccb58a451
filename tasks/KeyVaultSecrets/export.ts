import { basename, isAbsolute, join, resolve } from 'node:path';

/** The accepted values of the `exportFormat` input. */
export const exportFormats = ['dotenv', 'json', 'kubernetesSecret'] as const;

/** A file format the secrets can be exported in. */
export type ExportFormat = (typeof exportFormats)[number];

/** One exported variable and its value. */
export interface ExportEntry {
  readonly variable: string;
  readonly value: string;
}

/**
 * Where the export goes: a bare file name lands in Agent.TempDirectory, which the agent
 * empties after every job; a path (relative to the working directory, or absolute) is used as is.
 */
export function exportPath(file: string, tempDirectory: string, workingDirectory: string): string {
  if (isAbsolute(file)) return file;
  return basename(file) === file ? join(tempDirectory, file) : resolve(workingDirectory, file);
}

/** The file's text in `format`. Values are written byte for byte (JSON values are not reparsed). */
export function renderExport(format: ExportFormat, entries: readonly ExportEntry[], path: string): string {
  switch (format) {
    case 'dotenv':
      return entries.map((entry) => `${entry.variable}=${dotenvValue(entry.value)}\n`).join('');
    case 'json':
      return `${JSON.stringify(Object.fromEntries(entries.map((entry) => [entry.variable, entry.value])), null, 2)}\n`;
    case 'kubernetesSecret':
      return kubernetesSecret(entries, path);
  }
}

// Plain values stay bare; anything else is double-quoted with the backslash escapes that
// Docker Compose, python-dotenv and dotenv (npm) all read back: \\ \" \n \r and \$.
function dotenvValue(value: string): string {
  if (/^[A-Za-z0-9_./:@+,-]*$/.test(value)) return value;
  const escaped = value.replace(/[\\"$\n\r]/g, (char) => {
    const escapes: Record<string, string> = { '\\': '\\\\', '"': '\\"', $: '\\$', '\n': '\\n', '\r': '\\r' };
    return escapes[char] ?? char;
  });
  return `"${escaped}"`;
}

// `data` holds base64, so any byte survives; the manifest is JSON-compatible YAML, so keys
// and names need no YAML quoting rules. The Secret is named after the file.
function kubernetesSecret(entries: readonly ExportEntry[], path: string): string {
  const name =
    basename(path)
      .replace(/\.[^.]*$/, '')
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 253) || 'keyvault-secrets';
  const data = entries
    .map(
      (entry) =>
        `  ${JSON.stringify(entry.variable)}: ${Buffer.from(entry.value, 'utf8').toString('base64')}\n`,
    )
    .join('');
  return `apiVersion: v1\nkind: Secret\nmetadata:\n  name: ${name}\ntype: Opaque\ndata:${entries.length ? '\n' + data : ' {}\n'}`;
}
