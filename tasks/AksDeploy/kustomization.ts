import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type YAMLMap } from 'yaml';
import { quoted, quotedFirstLine } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';
import { shownPath } from './shown-path';

/**
 * The names Kustomize reads as a folder's kustomization, in its order
 * (konfig.RecognizedKustomizationFileNames in sigs.k8s.io/kustomize).
 */
const kustomizationFileNames = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'] as const;

/** Whether a file's name is one Kustomize reads as a kustomization. */
export function isKustomizationFile(path: string): boolean {
  return (kustomizationFileNames as readonly string[]).includes(basename(path));
}

/** The kustomization file in `folder`, or undefined when the folder holds none. */
export function kustomizationFileIn(folder: string): string | undefined {
  return kustomizationFileNames
    .map((name) => join(folder, name))
    .find((file) => existsSync(file) && statSync(file).isFile());
}

/** An entry of a kustomization's `images:` list, with the line it is written on. */
export interface KustomizeImage {
  readonly name: string;
  readonly newName?: string;
  readonly newTag?: string;
  readonly digest?: string;
  readonly line: number;
}

/** The kustomization a `manifests` line names, as read before any tool runs. */
export interface CheckedKustomization {
  /** Its kustomization file, as the user would recognise it. */
  readonly file: string;
  /** Its own `images:` entries (not those of the bases it builds on). */
  readonly images: readonly KustomizeImage[];
}

// The fields whose entries are bases or files Kustomize loads, and which of them Kustomize
// also reads as inline YAML (a string that is a whole plugin configuration).
const baseFields = ['resources', 'bases', 'components'] as const;
const pluginFields = ['generators', 'transformers', 'validators'] as const;

/**
 * What Kustomize would fetch over the network rather than read from the folder: a URL (an
 * http(s) file, or a git, ssh or OCI repository) and the repository forms its git loader
 * accepts without a scheme (git@host:org/repo, git::, gh:, github.com/…, Azure Repos'
 * …/_git/…), as parsed by parseHostSpec in sigs.k8s.io/kustomize/api/internal/git/repospec.go.
 * A file:// repository is local and is left to Kustomize.
 */
export function isRemoteResource(entry: string): boolean {
  if (/^file:\/\//i.test(entry)) return false;
  return /^(?:[a-z][a-z0-9+.-]*:\/\/|git@|git::|gh:|github\.com[/:])/i.test(entry) || entry.includes('_git/');
}

/**
 * Reads the kustomization in `folder` and, through its local resources and components,
 * every kustomization it builds on, before the tool runs: a remote base or file is refused
 * (agents behind a firewall have no network, and what a remote base holds can change under
 * a pinned pipeline), and a local one that does not exist is an error naming the file and
 * line, where Kustomize's own answer would be a paragraph about symlinks. Other problems are
 * left to Kustomize, whose message the render error quotes.
 */
export function checkKustomization(folder: string, workDir: string): CheckedKustomization {
  const file = kustomizationFileIn(folder);
  if (!file) throw new Error(`${folder} holds no kustomization`);
  const visited = new Set<string>();
  const top = readKustomization(file, workDir);
  walk(folder, file, top.root, top.lines);
  return { file: shownPath(workDir, file), images: top.root ? imagesOf(top.root, top.lines) : [] };

  function walk(dir: string, kustomization: string, root: YAMLMap | undefined, lines: LineCounter): void {
    visited.add(resolve(dir));
    if (!root) return;
    for (const field of [...baseFields, ...pluginFields]) {
      const list = root.get(field, true);
      if (!isSeq(list)) continue;
      for (const item of list.items) {
        if (!isScalar(item) || typeof item.value !== 'string') continue;
        const entry = item.value.trim();
        // An inline plugin configuration, not a path.
        if (entry.includes('\n')) continue;
        const line = item.range ? lines.linePos(item.range[0]).line : 0;
        if (isRemoteResource(entry))
          throw new TaskError('KustomizeRemoteResource', [
            shownPath(workDir, kustomization),
            line,
            quoted(entry),
          ]);
        if (!(baseFields as readonly string[]).includes(field)) continue;
        const target = resolve(dir, entry);
        if (!existsSync(target))
          throw new TaskError('KustomizeResourceNotFound', [
            shownPath(workDir, kustomization),
            line,
            quoted(entry),
            shownPath(workDir, target),
          ]);
        const nested = statSync(target).isDirectory() ? kustomizationFileIn(target) : undefined;
        if (nested && !visited.has(target)) {
          const read = readKustomization(nested, workDir);
          walk(target, nested, read.root, read.lines);
        }
      }
    }
  }
}

function readKustomization(file: string, workDir: string): { root?: YAMLMap; lines: LineCounter } {
  const lines = new LineCounter();
  // Every scalar as the text written: a tag such as 1.10 is not the number 1.1.
  const document = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines, schema: 'failsafe' });
  const problem = document.errors[0];
  if (problem)
    throw new TaskError(
      'KustomizationInvalid',
      [shownPath(workDir, file), quotedFirstLine(problem.message, 300)],
      problem,
    );
  return isMap(document.contents) ? { root: document.contents, lines } : { lines };
}

function imagesOf(root: YAMLMap, lines: LineCounter): KustomizeImage[] {
  const list = root.get('images', true);
  if (!isSeq(list)) return [];
  return list.items.flatMap((item) => {
    if (!isMap(item)) return [];
    const field = (key: string) => {
      const value: unknown = item.get(key);
      return typeof value === 'string' && value !== '' ? { [key]: value } : {};
    };
    const name = item.get('name');
    if (typeof name !== 'string' || name === '') return [];
    return [
      {
        name,
        ...field('newName'),
        ...field('newTag'),
        ...field('digest'),
        line: item.range ? lines.linePos(item.range[0]).line : 0,
      },
    ];
  });
}
