/**
 * buildah as Docker@2's engine: no Docker daemon exists here. Every call runs in a private
 * mount namespace (`unshare --mount --propagation private`) where
 *  - /etc/hosts is a private copy holding the machine's hosts (`machine.hosts`), so
 *    registry names resolve without touching the system's file, and
 *  - /var/lib/containers is a private folder, so containers/image's blob-info cache and
 *    default storage stay untouched;
 * and with its storage (`--root`, `--runroot`, vfs) under Agent.TempDirectory. That needs
 * root, as CI and the runner's machine have. Registry trust is the machine's CA
 * (`--cert-dir` holding `ca.crt`), credentials an auth file (mode 0600) the caller deletes.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuiltinContext } from '../types';
import { StepFailure } from '../support/failure';
import { commandLine, runProcess, which, type ProcessOutcome } from '../support/process';

/** A buildah storage and the private files its calls run with, all under one folder. */
export interface BuildahSession {
  /** `--root`, `--runroot` and `--storage-driver` for every buildah call. */
  readonly storageArgs: readonly string[];
  readonly buildah: string;
  readonly skopeo?: string;
  readonly unshare: string;
  /** A folder with `ca.crt` (the machine's CA), or undefined to trust the system's only. */
  readonly certDir?: string;
  readonly hostsFile: string;
  readonly containersDir: string;
  readonly tempDir: string;
}

/**
 * The job's buildah session: storage in `<Agent.TempDirectory>/buildah`, so an image built
 * in one Docker@2 step can be pushed by a later one of the same job, and nothing outlives
 * the job (the agent empties Agent.TempDirectory before every job).
 */
export function openSession(context: BuiltinContext): BuildahSession {
  const buildah = which('buildah', context.env.PATH);
  if (!buildah) {
    throw new StepFailure(
      'buildah is not installed, and Docker@2 builds with it here (there is no Docker engine): run scripts/install-system-deps.sh.',
    );
  }
  const unshare = which('unshare', context.env.PATH);
  if (!unshare)
    throw new StepFailure("unshare (util-linux) is not on PATH: install the 'util-linux' package.");
  const folder = join(context.dirs.temp, 'buildah');
  const privateDir = join(folder, 'private');
  const containersDir = join(privateDir, 'containers');
  const tempDir = join(folder, 'tmp');
  for (const dir of [join(folder, 'root'), join(folder, 'runroot'), containersDir, tempDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const hostsFile = join(privateDir, 'hosts');
  writeFileSync(hostsFile, privateHosts(context.machine.hosts));
  let certDir: string | undefined;
  if (context.machine.caFile) {
    certDir = join(privateDir, 'certs');
    mkdirSync(certDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(certDir, 'ca.crt'), readFileSync(context.machine.caFile));
  }
  return {
    storageArgs: [
      '--root',
      join(folder, 'root'),
      '--runroot',
      join(folder, 'runroot'),
      '--storage-driver',
      'vfs',
    ],
    buildah,
    skopeo: which('skopeo', context.env.PATH),
    unshare,
    certDir,
    hostsFile,
    containersDir,
    tempDir,
  };
}

/** The system's /etc/hosts followed by the machine's names, for the private namespace. */
function privateHosts(hosts: Readonly<Record<string, string>>): string {
  const system = existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : '127.0.0.1 localhost\n';
  const extra = Object.entries(hosts).map(([name, address]) => `${address} ${name}`);
  return `${system.trimEnd()}\n# machine.hosts of the runner's resources file\n${extra.join('\n')}\n`;
}

// $1 is the private hosts file, $2 the private /var/lib/containers; the rest is the command.
const namespaceScript =
  'mount --bind "$1" /etc/hosts && { [ ! -d /var/lib/containers ] || mount --bind "$2" /var/lib/containers; } && shift 2 && exec "$@"';

/** How one tool call went, with the lines it wrote. */
export interface ToolRun {
  readonly outcome: ProcessOutcome;
  readonly lines: readonly string[];
}

/**
 * Runs `tool args` in the session's private namespace. The `[command]` line and every output
 * line go through `show` (which redacts); the lines are also returned.
 */
export async function runInNamespace(
  context: BuiltinContext,
  session: BuildahSession,
  tool: string,
  args: readonly string[],
  show: (line: string) => void,
  options: { readonly stdoutData?: (chunk: Buffer) => void } = {},
): Promise<ToolRun> {
  show(commandLine(tool, args));
  const lines: string[] = [];
  const outcome = await runProcess({
    file: session.unshare,
    args: [
      '--mount',
      '--propagation',
      'private',
      'sh',
      '-c',
      namespaceScript,
      'sh',
      session.hostsFile,
      session.containersDir,
      tool,
      ...args,
    ],
    cwd: context.workingDirectory,
    env: {
      PATH: context.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: context.env.HOME ?? session.tempDir,
      TMPDIR: session.tempDir,
      BUILDAH_ISOLATION: 'chroot',
    },
    signal: context.signal,
    onLine: (line) => {
      lines.push(line);
      show(line);
    },
    onStdoutData: options.stdoutData,
  });
  return { outcome, lines };
}
