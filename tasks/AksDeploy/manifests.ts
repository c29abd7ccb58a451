import { FAILSAFE_SCHEMA, loadAll, Type } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import { isRecord, type KubeObject } from '../shared/kubernetes/object';
import { excerpt, firstLineExcerpt } from '../shared/redaction';
import { TaskError } from '../shared/task-error';

/** An object read from a manifest file, with where it came from for error lines. */
export interface ManifestObject {
  readonly object: KubeObject;
  /** The file as the user would recognise it (relative to the working directory). */
  readonly file: string;
  /** 1-based index of the YAML document in the file (JSON files have one). */
  readonly document: number;
}

/** One manifest file as read from disk. */
export interface ManifestFile {
  /** The file as the user would recognise it (relative to the working directory). */
  readonly file: string;
  readonly bytes: Uint8Array;
}

/**
 * Reads every file's objects, in order, after the objects already read (`rendered`, from
 * kustomizations). A set with no object at all is an error naming the files read:
 * deploying nothing is never what was meant, and with prune it would delete everything
 * the pipeline deployed before (kubectl apply refuses it too: "no objects passed to apply").
 */
export function parseManifestFiles(
  files: readonly ManifestFile[],
  rendered: readonly ManifestObject[] = [],
): ManifestObject[] {
  const objects = [
    ...rendered,
    ...files.flatMap(({ file, bytes }) => parseManifestFile(file, manifestText(file, bytes))),
  ];
  if (objects.length === 0) throw new TaskError('ManifestsEmpty', [fileList(files.map((f) => f.file))]);
  return objects;
}

/** The most file names an error line lists. */
const listedFiles = 5;

function fileList(files: readonly string[]): string {
  const shown = files.slice(0, listedFiles).map((file) => excerpt(file, 200));
  return files.length > listedFiles
    ? `${shown.join(', ')} and ${files.length - listedFiles} more`
    : shown.join(', ');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A manifest file's bytes as text: UTF-8, a byte order mark dropped. A NUL byte or bytes
 * that are not UTF-8 mean the file is not a manifest (an archive, an image, UTF-16 text),
 * which is an error naming the file rather than a YAML error about a random character.
 */
export function manifestText(file: string, bytes: Uint8Array): string {
  let text: string | undefined;
  if (!bytes.includes(0)) {
    try {
      text = utf8.decode(bytes);
    } catch {
      // Not UTF-8: reported below.
    }
  }
  if (text === undefined) throw new TaskError('ManifestNotText', [file]);
  return text;
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
    throw new TaskError('ManifestInvalid', [file, 1, firstLineExcerpt((error as Error).message, 200)], error);
  }
}

/**
 * Multi-document YAML. The common case (no anchors, no errors) is read with js-yaml, which
 * starts several times faster in a fresh process; anything else is read as before with
 * `yaml`, which names the failing document, limits aliases and reads custom tags, so
 * error lines and results stay the same.
 */
function parseYaml(file: string, text: string): { value: unknown; document: number }[] {
  if (!anchor.test(text)) {
    try {
      return loadAll(text, undefined, { schema: core }).map((value, index) => ({
        value,
        document: index + 1,
      }));
    } catch {
      // Read again below for the error line (or for what only `yaml` accepts).
    }
  }
  return parseAllDocuments(text).map((doc, index) => {
    const problem = doc.errors[0];
    if (problem)
      throw new TaskError(
        'ManifestInvalid',
        [file, index + 1, firstLineExcerpt(problem.message, 200)],
        problem,
      );
    try {
      return { value: doc.toJS({ maxAliasCount }) as unknown, document: index + 1 };
    } catch (error) {
      // yaml's guard against a "billion laughs": aliases that expand to far more nodes than were written.
      if (error instanceof ReferenceError && /alias count/i.test(error.message))
        throw new TaskError('ManifestTooManyAliases', [file, index + 1, maxAliasCount], error);
      throw new TaskError('ManifestInvalid', [file, index + 1, firstLineExcerpt(String(error), 200)], error);
    }
  });
}

/** yaml's limit on alias expansions per document (its default, written out). */
const maxAliasCount = 100;

/** An anchor (`&name`) anywhere a node can start; such files go to `yaml` for its alias limit. */
const anchor = /(?:^|[\s,[{:])&[^\s,[\]{}]/;

/**
 * YAML 1.2 core scalars exactly as `yaml` resolves them: null, bool, int (decimal, 0o, 0x)
 * and float. (js-yaml's own CORE_SCHEMA also reads 0b101 and -0x1 as numbers and -.5 as a
 * string.) Timestamps, binary and merge keys are not in it: they stay strings and plain keys.
 */
const scalar = (tag: string, pattern: RegExp, construct: (data: string) => unknown): Type =>
  new Type(`tag:yaml.org,2002:${tag}`, {
    kind: 'scalar',
    resolve: (data: string) => pattern.test(data),
    construct,
  });
const core = FAILSAFE_SCHEMA.extend({
  implicit: [
    scalar('null', /^(?:~|[Nn]ull|NULL)?$/, () => null),
    scalar('bool', /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (data) => data[0] === 't' || data[0] === 'T'),
    scalar('int', /^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/, (data) =>
      data[1] === 'o'
        ? parseInt(data.slice(2), 8)
        : data[1] === 'x'
          ? parseInt(data.slice(2), 16)
          : parseInt(data, 10),
    ),
    scalar(
      'float',
      /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$/,
      (data) =>
        /nan$/i.test(data)
          ? NaN
          : /inf$/i.test(data)
            ? data[0] === '-'
              ? -Infinity
              : Infinity
            : parseFloat(data),
    ),
  ],
});

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
