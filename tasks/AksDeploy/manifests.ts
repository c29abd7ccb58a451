import { parseAllDocuments } from 'yaml';
import { isRecord, type KubeObject } from '../shared/kubernetes/object';
import { TaskError } from '../shared/task-error';

/** An object read from a manifest file, with where it came from for error lines. */
export interface ManifestObject {
  readonly object: KubeObject;
  /** The file as the user would recognise it (relative to the working directory). */
  readonly file: string;
  /** 1-based index of the YAML document in the file (JSON files have one). */
  readonly document: number;
}

/**
 * Reads one manifest file's text: JSON when it ends in .json, multi-document YAML
 * otherwise. `List` kinds (v1 List, and any `*List` with items) are flattened into their
 * items. Empty documents are skipped. Each problem is a TaskError naming the file and
 * the document.
 */
export function parseManifestFile(file: string, text: string): ManifestObject[] {
  const documents = file.toLowerCase().endsWith('.json') ? parseJson(file, text) : parseYaml(file, text);
  return documents.flatMap(({ value, document }) => flatten(file, document, value));
}

function parseJson(file: string, text: string): { value: unknown; document: number }[] {
  try {
    return [{ value: JSON.parse(text) as unknown, document: 1 }];
  } catch (error) {
    throw new TaskError('ManifestInvalid', [file, 1, (error as Error).message], error);
  }
}

function parseYaml(file: string, text: string): { value: unknown; document: number }[] {
  return parseAllDocuments(text).map((doc, index) => {
    const problem = doc.errors[0];
    if (problem)
      throw new TaskError('ManifestInvalid', [file, index + 1, firstLine(problem.message)], problem);
    return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, document: index + 1 };
  });
}

function flatten(file: string, document: number, value: unknown): ManifestObject[] {
  if (value === null || value === undefined) return [];
  if (!isRecord(value)) throw new TaskError('ManifestNotAnObject', [file, document]);
  if (typeof value.kind !== 'string' || value.kind === '')
    throw new TaskError('ManifestNoKind', [file, document]);
  if (typeof value.apiVersion !== 'string' || value.apiVersion === '') {
    throw new TaskError('ManifestNoApiVersion', [file, document, value.kind]);
  }
  if (value.kind.endsWith('List') && Array.isArray(value.items)) {
    return value.items.flatMap((item: unknown) => flatten(file, document, item));
  }
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  if (typeof metadata.name !== 'string' || metadata.name === '') {
    throw new TaskError('ManifestNoName', [file, document, value.kind]);
  }
  return [{ object: { ...value, metadata } as KubeObject, file, document }];
}

function firstLine(text: string): string {
  return text.split(/\r?\n/, 1)[0] ?? text;
}
