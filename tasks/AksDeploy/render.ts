import { sep } from 'node:path';
import { quoted, quotedFirstLine } from '../shared/known-secrets';
import { TaskError } from '../shared/task-error';
import type { KustomizeInputs } from './config';
import type { PinnedImage } from './image-reference';
import { checkKustomization } from './kustomization';
import { checkKustomizeImages } from './kustomize-images';
import type { KustomizationFolder } from './manifest-files';
import { parseManifestFile, type ManifestObject } from './manifests';
import type { RenderTool } from './render-tool';
import type { RunCommand } from './run-command';

/** One kustomization folder, rendered. */
export interface RenderedKustomization {
  /** The folder as the user would recognise it. */
  readonly folder: string;
  /** The tool that rendered it, for example `kubectl kustomize`. */
  readonly tool: string;
  readonly objects: readonly ManifestObject[];
  readonly durationMs: number;
  /** What the tool wrote to its standard error while it succeeded (deprecation notes). */
  readonly notes: readonly string[];
}

/** How every folder is rendered. */
export interface RenderOptions {
  readonly tool: RenderTool;
  /** The `kustomizeArgs` input, split into arguments. */
  readonly args: readonly string[];
  readonly workDir: string;
  /** The `images` input: a tag-only kustomization image it replaces needs no warning. */
  readonly images: readonly PinnedImage[];
  readonly timeoutMs: number;
}

/** What rendering needs from the outside. */
export interface RenderDeps {
  readonly run: RunCommand;
  readonly now: () => number;
}

/** The longest a render may take (a Helm chart through --enable-helm is the slow case). */
export const renderTimeoutMs = 300_000;

/**
 * Checks every folder's kustomization first (so that a remote base or a missing resource
 * stops the task before any tool runs), then renders them all at once. The first failure in
 * the order of the `manifests` lines is thrown once every render has ended. Returns the
 * renders in that order, and the warnings about their images.
 */
export async function renderKustomizations(
  folders: readonly KustomizationFolder[],
  options: RenderOptions,
  deps: RenderDeps,
): Promise<{ rendered: RenderedKustomization[]; warnings: TaskError[] }> {
  const checked = folders.map((folder) => ({
    folder,
    kustomization: checkKustomization(folder.path, options.workDir),
  }));
  const settled = await Promise.allSettled(
    checked.map(({ folder }) => renderKustomization(folder, options, deps)),
  );
  const rendered = settled.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
  const warnings = rendered.flatMap((render, index) =>
    checkKustomizeImages(
      checked[index]!.kustomization,
      render.objects.map((each) => each.object),
      options.images,
    ),
  );
  return { rendered, warnings };
}

/**
 * The Kustomize inputs that do nothing because the `manifests` input names no kustomization
 * folder: legal, but surely not what was meant, so each is a warning.
 */
export function unusedKustomizeInputs(kustomize: KustomizeInputs): TaskError[] {
  return [
    ...(kustomize.args.length > 0 ? [new TaskError('KustomizeInputUnused', ['kustomizeArgs'])] : []),
    ...(kustomize.binary !== undefined ? [new TaskError('KustomizeInputUnused', ['kustomizeBinary'])] : []),
  ];
}

/** Renders one folder with the tool and reads the objects it printed. */
export async function renderKustomization(
  source: KustomizationFolder,
  options: RenderOptions,
  deps: RenderDeps,
): Promise<RenderedKustomization> {
  const { tool, args, workDir } = options;
  const started = deps.now();
  const commandLine = [tool.name, source.folder, ...args].join(' ');
  let result;
  try {
    result = await deps.run(tool.command, tool.argsFor(source.path, args), {
      cwd: workDir,
      timeoutMs: options.timeoutMs,
    });
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new TaskError('KustomizeToolNotStarted', [tool.command, reason, source.folder], error);
  }
  if (result.timedOut)
    throw new TaskError('KustomizeRenderTimedOut', [source.folder, tool.name, options.timeoutMs / 1000]);
  // Kustomize writes absolute paths; the user knows the folder by its line.
  const relativise = (text: string) =>
    text
      .split(source.path)
      .join(source.folder)
      .split(workDir + sep)
      .join('');
  if (result.exitCode !== 0) {
    const message = relativise(toolMessage(result.stderr) ?? `exit code ${String(result.exitCode)}`);
    throw new TaskError(
      'KustomizeRenderFailed',
      [source.folder, tool.name, quotedFirstLine(message, 600), quoted(commandLine, 300)],
      new Error(`${tool.name} wrote: ${result.stderr}`),
    );
  }
  const objects = parseManifestFile(`${source.folder} (rendered)`, result.stdout);
  if (objects.length === 0) throw new TaskError('KustomizeRenderedNothing', [source.folder, tool.name]);
  return {
    folder: source.folder,
    tool: tool.name,
    objects,
    durationMs: deps.now() - started,
    notes: result.stderr
      .split(/\r?\n/)
      .map((line) => relativise(line.trim()))
      .filter((line) => line !== ''),
  };
}

/**
 * The error a render failed with, from the tool's standard error. kubectl returns the error
 * to its command runner (k8s.io/component-base/cli/run.go), which logs it through klog as
 * `E1206 … run.go:72] "command failed" err="…"`, Go-quoted; older kubectl writes `error: …`
 * and the kustomize binary `Error: …`. Otherwise the last line written.
 */
export function toolMessage(stderr: string): string | undefined {
  const logged = /"command failed" err="((?:[^"\\]|\\.)*)"/.exec(stderr);
  if (logged) return unquoteGo(logged[1]!);
  const lines = stderr.split(/\r?\n/).map((line) => line.trim());
  const errorLine = lines.find((line) => /^error: /i.test(line));
  if (errorLine) return errorLine.slice('error: '.length);
  return lines.filter((line) => line !== '').pop();
}

/** A Go-quoted string's text; JSON reads the escapes Go writes for ordinary text. */
function unquoteGo(text: string): string {
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return text;
  }
}
