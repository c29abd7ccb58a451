// Finding and reading the YAML files a pipeline includes: template paths relative to the
// including file, from its repository's root (`/path`) or from another repository's root
// (`path@alias`), and the limits the service puts on what one pipeline may load.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import type { SourceLocation } from '../model';
import { readYaml, type YNode } from './yaml-tree';
import { FatalProblemError, ProblemError } from './problems';

/**
 * The limits of https://learn.microsoft.com/azure/devops/pipelines/process/templates#imposed-limits:
 * "No more than 100 separate YAML files may be included (directly or indirectly); no more
 * than 20 levels of template nesting; no more than 10 megabytes of memory consumed while
 * parsing the YAML." (A 2025 change to those docs, MicrosoftDocs/azure-devops-docs#14193,
 * raises nesting to 100 levels and memory to 20 MB; the runner keeps the stricter figures.)
 */
export const templateLimits = {
  files: 100,
  nesting: 20,
  // Memory is approximated by the bytes of YAML read (each inclusion counted) plus the
  // characters of every scalar and key that expansion produces.
  bytes: 10 * 1024 * 1024,
} as const;

/** A YAML file that was read: where it is, which repository it belongs to, and its tree. */
export interface LoadedFile {
  readonly path: string;
  /** How locations name it: `/templates/cd.yml` in the pipeline's repository, `/cd.yml@tools` in another. */
  readonly display: string;
  readonly repository: string;
  readonly root: YNode;
  /** Bytes of YAML read. */
  readonly size: number;
}

/** Repository alias → local folder; `self` is the pipeline's own repository. */
export type RepositoryFolders = Readonly<Record<string, string>>;

function displayPath(path: string, repository: string, folders: RepositoryFolders): string {
  const root = folders[repository];
  const inside = root === undefined ? path : relative(root, path);
  if (root === undefined || inside.startsWith('..') || isAbsolute(inside)) return path;
  const shown = '/' + inside.split(sep).join('/');
  return repository === 'self' ? shown : `${shown}@${repository}`;
}

/** Reads files for one compilation and enforces the limits; files are read once and shared. */
export class FileLoader {
  private readonly files = new Map<string, LoadedFile>();
  private readonly byDisplay = new Map<string, LoadedFile>();
  private templateCount = 0;
  private bytes = 0;

  constructor(
    private readonly folders: RepositoryFolders,
    /** Repository aliases that `resources.repositories` declares (set once the pipeline is read). */
    private declaredAliases: ReadonlySet<string> = new Set(),
  ) {}

  /** Sets the aliases the pipeline's `resources.repositories` declares. */
  declare(aliases: ReadonlySet<string>): void {
    this.declaredAliases = aliases;
  }

  /** The file a location names, when it was loaded here. */
  fileOf(location: SourceLocation): LoadedFile | undefined {
    return this.byDisplay.get(location.file);
  }

  /** Counts bytes of expanded YAML against the memory limit; `where` is blamed when it is crossed. */
  countBytes(amount: number, where: SourceLocation, file: string): void {
    this.bytes += amount;
    if (this.bytes > templateLimits.bytes) {
      throw new FatalProblemError({
        location: where,
        message:
          `Maximum memory exceeded: the YAML read and expanded so far passes ${templateLimits.bytes / 1024 / 1024} MB ` +
          `while expanding ${file}; Azure Pipelines stops at 10 MB. Include fewer or smaller templates.`,
      });
    }
  }

  /** Reads the pipeline file itself (`text` when it is given rather than read from disk). */
  loadPipeline(path: string, text?: string): LoadedFile {
    const repository = this.repositoryOf(path);
    return this.load(resolve(path), repository, text ?? readFileSync(path, 'utf8'));
  }

  /**
   * Resolves and reads a template named by `reference` (as written after `template:`) in
   * `from`; `depth` is the nesting level the template would have. Throws a ProblemError at
   * `where` for an unknown alias, a missing file or a crossed limit.
   */
  loadTemplate(reference: string, from: LoadedFile, where: SourceLocation, depth: number): LoadedFile {
    const { path, repository } = this.resolveReference(reference, from, where);
    if (depth > templateLimits.nesting) {
      throw new FatalProblemError({
        location: where,
        message:
          `Maximum template nesting exceeded: including ${reference} would nest templates ${depth} levels deep; ` +
          `Azure Pipelines allows ${templateLimits.nesting}. A template that includes itself never ends.`,
      });
    }
    const known = this.files.get(path);
    if (known === undefined) {
      this.templateCount++;
      if (this.templateCount > templateLimits.files) {
        throw new FatalProblemError({
          location: where,
          message:
            `Maximum number of YAML files exceeded: ${displayPath(path, repository, this.folders)} would be file ` +
            `${this.templateCount} included by this pipeline; Azure Pipelines allows ${templateLimits.files}.`,
        });
      }
    }
    if (known === undefined && (!existsSync(path) || !statSync(path).isFile())) {
      throw new ProblemError({
        location: where,
        message: `File ${displayPath(path, repository, this.folders)} not found in repository ${repository} (looked for ${path})`,
      });
    }
    const file = known ?? this.load(path, repository, readFileSync(path, 'utf8'));
    this.countBytes(file.size, where, file.display);
    return file;
  }

  private load(path: string, repository: string, text: string): LoadedFile {
    const display = displayPath(path, repository, this.folders);
    const read = readYaml(text, display);
    if (!read.ok) throw new ProblemError(...read.problems);
    const file: LoadedFile = { path, display, repository, root: read.root, size: Buffer.byteLength(text) };
    this.files.set(path, file);
    this.byDisplay.set(display, file);
    return file;
  }

  private repositoryOf(path: string): string {
    const absolute = resolve(path);
    for (const [alias, folder] of Object.entries(this.folders)) {
      const inside = relative(resolve(folder), absolute);
      if (!inside.startsWith('..') && !isAbsolute(inside)) return alias;
    }
    return 'self';
  }

  private resolveReference(
    reference: string,
    from: LoadedFile,
    where: SourceLocation,
  ): { path: string; repository: string } {
    const at = reference.lastIndexOf('@');
    const repository = at < 0 ? from.repository : reference.slice(at + 1);
    const relativePath = (at < 0 ? reference : reference.slice(0, at)).trim();
    if (repository !== 'self' && repository !== from.repository && !this.declaredAliases.has(repository)) {
      throw new ProblemError({
        location: where,
        message:
          `Template ${reference} names repository '${repository}', which resources.repositories does not declare: ` +
          `add it there, or use a path in this repository`,
      });
    }
    const root = this.folders[repository];
    if (root === undefined) {
      throw new ProblemError({
        location: where,
        message:
          `Template ${reference} names repository '${repository}', which is not mapped to a local folder: ` +
          `name its folder for '${repository}' in the runner's resources file`,
      });
    }
    const fromRoot = at >= 0 || relativePath.startsWith('/');
    const base = fromRoot ? root : dirname(from.path);
    const path = resolve(join(base, posix.normalize(relativePath.replace(/^\/+/, ''))));
    const inside = relative(resolve(root), path);
    if (inside.startsWith('..') || isAbsolute(inside)) {
      throw new ProblemError({
        location: where,
        message: `Template ${reference} resolves to ${path}, outside repository ${repository}`,
      });
    }
    return { path, repository };
  }
}
