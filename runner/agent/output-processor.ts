import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import {
  booleanProperty,
  escapeCommandText,
  lookupCommand,
  parseCommandLine,
  property,
  type LoggingCommand,
} from './commands';
import { SecretMasker } from './masker';

/**
 * What the agent does with each line a task writes (NodeHandler.OnDataReceived →
 * WorkerCommandManager.TryProcessCommand in microsoft/azure-pipelines-agent): a logging
 * command is parsed, checked against the step's restrictions and applied; any other line
 * is masked and written to the log. Pure state, no processes: output-processor.test.ts
 * feeds it lines directly.
 */

/** A task result as the agent's TaskResult enum names it. */
export type TaskStatus =
  'Succeeded' | 'SucceededWithIssues' | 'Failed' | 'Cancelled' | 'Skipped' | 'Abandoned';

/** Restrictions on one step, as task.json `restrictions` or a pipeline's `target` declares them. */
export interface StepRestrictions {
  /** `commands: { mode: restricted }`: only the commands the agent allows in restricted mode run. */
  readonly restrictedCommands?: boolean;
  /** `settableVariables: { allowed: [...] }`: glob patterns (case-insensitive) for task.setvariable. */
  readonly settableVariables?: readonly string[];
}

/** A `task.issue` as the agent records it (message masked). */
export interface Issue {
  readonly type: 'error' | 'warning';
  readonly message: string;
  readonly properties: Readonly<Record<string, string>>;
}

/** A variable the task set with `task.setvariable`. */
export interface SetVariable {
  readonly name: string;
  readonly value: string;
  readonly secret: boolean;
  readonly isOutput: boolean;
  readonly isReadOnly: boolean;
}

/** A file the task attached (`task.addattachment`, `task.uploadsummary`, `task.uploadfile`). */
export interface Attachment {
  readonly type: string;
  readonly name: string;
  readonly path: string;
  /** The file's text, read when the task has exited; undefined if it was gone by then. */
  content?: string;
}

/** A command the agent refused, with the warning it logged. */
export interface BlockedCommand {
  readonly command: LoggingCommand;
  readonly warning: string;
}

/** Everything the processor learned from the task's output. */
export interface ProcessedOutput {
  /** Lines as the agent's log shows them: plain output and rendered issues, secrets masked. */
  readonly logLines: string[];
  readonly commands: LoggingCommand[];
  readonly blocked: BlockedCommand[];
  /** Commands the agent failed to process; each fails the step. Messages masked. */
  readonly commandFailures: string[];
  readonly errors: Issue[];
  readonly warnings: Issue[];
  readonly debug: string[];
  result?: { status: TaskStatus; message: string };
  readonly variables: Map<string, SetVariable>;
  readonly progress: { value: number; description: string }[];
  readonly attachments: Attachment[];
  readonly summaries: Attachment[];
  readonly uploadedFiles: Attachment[];
  readonly publishedTestResults: { properties: Record<string, string>; data: string }[];
  readonly prependPath: string[];
  /**
   * One entry per line read, in order: the stream, the raw text, and how many secrets were
   * registered once the line was processed (a prefix of `masker.registered()`).
   */
  readonly trace: { stream: 'stdout' | 'stderr'; raw: string; registeredCount: number }[];
}

/** Options for a processor: the step's restrictions and the job's variables. */
export interface ProcessorOptions {
  readonly restrictions: readonly StepRestrictions[];
  /** Job variables by name, for read-only checks and System.Debug. */
  readonly variables: Readonly<Record<string, string>>;
  /** Values the agent masks before the task starts (secret variables, endpoint parameters). */
  readonly initialSecrets: readonly string[];
  /** Variable names the agent already holds as read-only (System.*, Build.*, Agent.* ...). */
  readonly readOnlyVariables?: readonly string[];
  /** Names of the job's secret variables: setting one keeps it secret. */
  readonly secretVariableNames?: readonly string[];
  /** Called with each line as it is added to the log (masked), for a live log. */
  readonly onLogLine?: (line: string) => void;
}

// Agent message texts, from src/Misc/layoutbin/en-US/strings.json.
const agentMessages = {
  commandNotAllowed: (area: string, event: string) =>
    `##vso[${area}.${event}] is not allowed in this step due to policy restrictions. Please reference documentation (http://go.microsoft.com/fwlink/?LinkId=817296)`,
  setVariableNotAllowed: (name: string) =>
    `Setting variable '${name}' has been disabled by the task or build definition.`,
  commandNotFound: (area: string) =>
    `Cannot find command extension for ##vso[${area}.command]. Please reference documentation (http://go.microsoft.com/fwlink/?LinkId=817296)`,
  commandNotFound2: (area: string, event: string) =>
    `##vso[${area}.${event}] is not a recognized command for ${area} command extension. Please reference documentation (http://go.microsoft.com/fwlink/?LinkId=817296).`,
  commandKeywordDetected: (line: string) =>
    `'${line}' contains logging command keyword '##vso', but it's not a legal command. Please see the list of accepted commands: https://go.microsoft.com/fwlink/?LinkId=817296`,
  commandProcessFailed: (line: string) =>
    `Unable to process command '${line}' successfully. Please reference documentation (http://go.microsoft.com/fwlink/?LinkId=817296)`,
  readOnlyVariableWarning: (name: string) =>
    `Overwriting readonly variable '${name}'. This behavior will be disabled in the future. See https://github.com/microsoft/azure-pipelines-yaml/blob/master/design/readonly-variables.md for details.`,
  multilineSecret: 'Secrets cannot contain multiple lines',
  invalidCommandResult: "Command doesn't have valid result value.",
  missingVariableName: 'Variable name is missing.',
  missingAttachmentFile:
    'Cannot upload task attachment file, attachment file location is not specified or attachment file does not exist on disk.',
  badIssue: "Can't create TaskIssue from logging event.",
} as const;

const taskStatuses: readonly TaskStatus[] = [
  'Succeeded',
  'SucceededWithIssues',
  'Failed',
  'Cancelled',
  'Skipped',
  'Abandoned',
];

// The agent's TaskResultUtil.MergeTaskResults keeps the worse of two results.
const severity: Readonly<Record<TaskStatus, number>> = {
  Succeeded: 0,
  SucceededWithIssues: 1,
  Skipped: 2,
  Failed: 3,
  Cancelled: 4,
  Abandoned: 5,
};

/** Feeds a task's output lines through the agent's command handling and masking. */
export class OutputProcessor {
  readonly masker = new SecretMasker();
  readonly output: ProcessedOutput = {
    logLines: [],
    commands: [],
    blocked: [],
    commandFailures: [],
    errors: [],
    warnings: [],
    debug: [],
    variables: new Map(),
    progress: [],
    attachments: [],
    summaries: [],
    uploadedFiles: [],
    publishedTestResults: [],
    prependPath: [],
    trace: [],
  };
  private readonly readOnly: Set<string>;
  private readonly secretNames: Set<string>;
  private readonly showDebug: boolean;
  private allowMultilineSecret: boolean;

  constructor(private readonly options: ProcessorOptions) {
    for (const secret of options.initialSecrets) this.masker.add(secret);
    this.readOnly = new Set((options.readOnlyVariables ?? []).map((name) => name.toLowerCase()));
    this.secretNames = new Set((options.secretVariableNames ?? []).map((name) => name.toLowerCase()));
    const variable = (name: string) =>
      Object.entries(options.variables).find(([key]) => key.toLowerCase() === name)?.[1] ?? '';
    this.showDebug = /^true$/i.test(variable('system.debug'));
    this.allowMultilineSecret = /^true$/i.test(variable('system.unsafeallowmultilinesecret'));
  }

  /** Processes one complete line from the task's stdout or stderr. */
  line(raw: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const command = parseCommandLine(raw);
    if (command) {
      this.output.commands.push(command);
      this.apply(command, raw);
    } else {
      if (raw.includes('##vso')) this.warn(agentMessages.commandKeywordDetected(raw));
      this.log(raw);
    }
    this.output.trace.push({ stream, raw, registeredCount: this.masker.registered().length });
  }

  /** The step's result as the agent settles it once the process has exited. */
  finalStatus(exitCode: number | null): TaskStatus {
    let status: TaskStatus = this.output.result?.status ?? 'Succeeded';
    if (this.output.commandFailures.length > 0 || exitCode !== 0) status = worse(status, 'Failed');
    return status;
  }

  private apply(command: LoggingCommand, raw: string): void {
    const found = lookupCommand(command);
    if (found.kind === 'unknownArea') {
      this.warn(agentMessages.commandNotFound(command.area));
      return;
    }
    if (found.kind === 'unknownEvent') {
      this.fail(raw, agentMessages.commandNotFound2(command.area, command.event));
      return;
    }
    const restricted = this.options.restrictions.some((r) => r.restrictedCommands);
    if (restricted && !found.allowedInRestrictedMode) {
      const warning = agentMessages.commandNotAllowed(command.area, command.event);
      this.output.blocked.push({ command, warning });
      this.warn(warning);
      return;
    }
    const problem = this.execute(found.canonical, command);
    if (problem !== undefined) this.fail(raw, problem);
  }

  /** Runs a command; returns the agent's error text when it throws. */
  private execute(canonical: string, command: LoggingCommand): string | undefined {
    const out = this.output;
    switch (canonical) {
      case 'task.logissue': {
        const type = property(command, 'type');
        if (type === undefined) {
          this.warn(agentMessages.badIssue);
          return undefined;
        }
        if (!/^(error|warning)$/i.test(type)) return `issue type ${type} is not an expected issue type.`;
        this.issue(type.toLowerCase() as 'error' | 'warning', command.data, command.properties);
        return undefined;
      }
      case 'task.setprogress': {
        const parsed = Number.parseInt(property(command, 'value') ?? '', 10);
        const value = Number.isNaN(parsed) ? 0 : Math.min(Math.max(parsed, 0), 100);
        out.progress.push({ value, description: this.masker.mask(command.data) });
        return undefined;
      }
      case 'task.complete': {
        const text = property(command, 'result') ?? '';
        const status = taskStatuses.find((s) => s === text);
        if (!status) return agentMessages.invalidCommandResult;
        const merged = out.result ? worse(out.result.status, status) : status;
        out.result = { status: merged, message: this.masker.mask(command.data) };
        return undefined;
      }
      case 'task.setsecret':
        this.masker.add(command.data);
        return undefined;
      case 'task.setvariable':
        return this.setVariable(command);
      case 'task.settaskvariable':
        if (booleanProperty(command, 'issecret')) this.masker.add(command.data);
        return undefined;
      case 'task.debug':
        out.debug.push(this.masker.mask(command.data));
        if (this.showDebug) this.log(`##[debug]${command.data}`);
        return undefined;
      case 'task.prependpath':
        if (!command.data) return 'Value cannot be null or empty. (Parameter path)';
        out.prependPath.splice(
          0,
          out.prependPath.length,
          ...out.prependPath.filter((p) => p !== command.data),
        );
        out.prependPath.push(command.data);
        return undefined;
      case 'task.addattachment': {
        const type = property(command, 'type');
        const name = property(command, 'name');
        if (!type) return 'Missing attachment type.';
        if (!name) return 'Missing attachment name.';
        return this.attach({ type, name, path: command.data });
      }
      case 'task.uploadsummary':
      case 'build.uploadsummary':
        return this.attach(
          { type: 'Distributedtask.Core.Summary', name: basename(command.data), path: command.data },
          out.summaries,
        );
      case 'task.uploadfile':
        return this.attach(
          { type: 'DistributedTask.Core.FileAttachment', name: basename(command.data), path: command.data },
          out.uploadedFiles,
        );
      case 'results.publish':
        out.publishedTestResults.push({ properties: { ...command.properties }, data: command.data });
        return undefined;
      default:
        // Recorded in `commands`; nothing a test reads changes.
        return undefined;
    }
  }

  private setVariable(command: LoggingCommand): string | undefined {
    const name = property(command, 'variable');
    if (!name) return agentMessages.missingVariableName;
    const isSecret = booleanProperty(command, 'issecret');
    const isOutput = booleanProperty(command, 'isoutput');
    const isReadOnly = booleanProperty(command, 'isreadonly');
    const key = name.toLowerCase();
    if (this.readOnly.has(key)) this.warn(agentMessages.readOnlyVariableWarning(name));
    if (isSecret) {
      if (command.data.includes('\n') && !this.allowMultilineSecret) return agentMessages.multilineSecret;
      // The agent registers the re-escaped command data here, before the settable check, and
      // the plain value only once the variable is really set (Variables.Set).
      this.masker.add(escapeCommandText(command.data));
    }
    const allowed = this.options.restrictions.every((r) => settable(r, name));
    if (!allowed) {
      this.warn(agentMessages.setVariableNotAllowed(name));
      return undefined;
    }
    // Once a secret, always a secret; once read-only, always read-only.
    const secret = isSecret || this.secretNames.has(key);
    if (secret) {
      this.secretNames.add(key);
      this.masker.add(command.data);
    }
    const readOnly = isReadOnly || isOutput || this.readOnly.has(key);
    if (readOnly) this.readOnly.add(key);
    this.output.variables.set(name, { name, value: command.data, secret, isOutput, isReadOnly: readOnly });
    // The agent reads this knob from the job's variables at every command (AgentKnobs'
    // RuntimeKnobSource), so a task that sets the variable switches it from then on.
    if (key.replace(/\./g, '_') === 'system_unsafeallowmultilinesecret') {
      this.allowMultilineSecret = /^true$/i.test(command.data);
    }
    return undefined;
  }

  private attach(attachment: Attachment, also?: Attachment[]): string | undefined {
    if (!attachment.path || !existsSync(attachment.path)) return agentMessages.missingAttachmentFile;
    this.output.attachments.push(attachment);
    also?.push(attachment);
    return undefined;
  }

  private issue(type: 'error' | 'warning', message: string, properties: Readonly<Record<string, string>>) {
    const masked = this.masker.mask(message);
    (type === 'error' ? this.output.errors : this.output.warnings).push({
      type,
      message: masked,
      properties: { ...properties },
    });
    this.append(`##[${type}]${masked}`);
  }

  private warn(message: string): void {
    this.issue('warning', message, {});
  }

  private fail(raw: string, reason: string): void {
    this.output.commandFailures.push(this.masker.mask(reason));
    this.issue('error', agentMessages.commandProcessFailed(raw), {});
    this.issue('error', reason, {});
  }

  private log(line: string): void {
    this.append(this.masker.mask(line));
  }

  private append(line: string): void {
    this.output.logLines.push(line);
    this.options.onLogLine?.(line);
  }
}

function worse(a: TaskStatus, b: TaskStatus): TaskStatus {
  return severity[b] > severity[a] ? b : a;
}

/** Whether a restriction lets `name` be set; the agent matches its globs with minimatch, ignoring case. */
function settable(restriction: StepRestrictions, name: string): boolean {
  const allowed = restriction.settableVariables;
  if (!allowed) return true;
  return allowed.some((pattern) => globToRegExp(pattern).test(name));
}

// Variable names hold no path separators, so `*` and `?` are all of minimatch that matters here.
function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 'i');
}
