/**
 * The agent's logging-command grammar: `##vso[area.event key=value;key=value]data`.
 *
 * Parsing follows the agent's Command.TryParse and CommandStringConvertor
 * (microsoft/azure-pipelines-agent, src/Microsoft.VisualStudio.Services.Agent/Command.cs and
 * src/Agent.Sdk/CommandStringConvertor.cs) rather than task-lib's own parser, because the
 * agent is what reads a task's output in a pipeline. Pure functions, no I/O.
 */

/** One parsed logging command. Property names keep their case; look them up with `property`. */
export interface LoggingCommand {
  /** `area.event` in lower case, e.g. `task.setvariable`. */
  readonly name: string;
  readonly area: string;
  readonly event: string;
  readonly properties: Readonly<Record<string, string>>;
  readonly data: string;
}

const prefix = '##vso[';

/**
 * Undoes task-lib's escaping. The agent replaces `%3B`, `%0D`, `%0A` and `%5D` first and
 * `%AZP25` last (DECODE_PERCENTS defaults to true), so `%AZP253B` becomes the literal `%3B`.
 * The agent uses the same table for data and property values.
 */
export function unescapeCommandText(escaped: string): string {
  return escaped
    .replaceAll('%3B', ';')
    .replaceAll('%0D', '\r')
    .replaceAll('%0A', '\n')
    .replaceAll('%5D', ']')
    .replaceAll('%AZP25', '%');
}

/** The inverse of `unescapeCommandText`, as task-lib writes property values. */
export function escapeCommandText(text: string): string {
  return text
    .replaceAll('%', '%AZP25')
    .replaceAll(';', '%3B')
    .replaceAll('\r', '%0D')
    .replaceAll('\n', '%0A')
    .replaceAll(']', '%5D');
}

/**
 * Parses one output line the way the agent does, or returns undefined when the line is not
 * a command. Like the agent, the prefix may sit anywhere in the line, the command ends at
 * the first `]`, the name must be exactly `area.event`, and a property without `=` or with
 * an empty value is dropped.
 */
export function parseCommandLine(line: string): LoggingCommand | undefined {
  const start = line.indexOf(prefix);
  if (start < 0) return undefined;
  const close = line.indexOf(']', start);
  if (close < 0) return undefined;
  const info = line.substring(start + prefix.length, close);
  const space = info.indexOf(' ');
  const commandName = space < 0 ? info : info.substring(0, space);
  const parts = commandName.split('.').filter((part) => part.length > 0);
  if (parts.length !== 2) return undefined;
  const [area, event] = parts as [string, string];

  const properties: Record<string, string> = {};
  if (space > 0) {
    for (const pair of info.substring(space + 1).split(';')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) continue;
      properties[pair.substring(0, eq)] = unescapeCommandText(pair.substring(eq + 1));
    }
  }
  return {
    name: `${area}.${event}`.toLowerCase(),
    area: area.toLowerCase(),
    event: event.toLowerCase(),
    properties,
    data: unescapeCommandText(line.substring(close + 1)),
  };
}

/** A property by name, ignoring case as the agent's property dictionary does. */
export function property(command: LoggingCommand, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(command.properties)) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Reads an agent boolean property (`true`/`false`, any case); anything else is false. */
export function booleanProperty(command: LoggingCommand, name: string): boolean {
  return /^true$/i.test(property(command, name) ?? '');
}

/**
 * The commands the agent knows, by area, with aliases resolved to the command's own name.
 * Commands whose class carries `[CommandRestriction(AllowedInRestrictedMode = true)]` in
 * the agent are the only ones that run in restricted mode: task.logdetail, task.logissue
 * (alias task.issue), task.complete, task.setprogress, task.setsecret, task.setvariable,
 * task.debug, task.settaskvariable, task.prependpath and telemetry.publish
 * (src/Agent.Worker/TaskCommandExtension.cs, Telemetry/TelemetryCommandExtension.cs).
 */
const knownCommands: Readonly<
  Record<string, Readonly<Record<string, { name: string; restricted: boolean }>>>
> = {
  task: {
    logissue: { name: 'logissue', restricted: true },
    issue: { name: 'logissue', restricted: true },
    setprogress: { name: 'setprogress', restricted: true },
    logdetail: { name: 'logdetail', restricted: true },
    complete: { name: 'complete', restricted: true },
    setsecret: { name: 'setsecret', restricted: true },
    setvariable: { name: 'setvariable', restricted: true },
    addattachment: { name: 'addattachment', restricted: false },
    debug: { name: 'debug', restricted: true },
    uploadsummary: { name: 'uploadsummary', restricted: false },
    uploadfile: { name: 'uploadfile', restricted: false },
    settaskvariable: { name: 'settaskvariable', restricted: true },
    setendpoint: { name: 'setendpoint', restricted: false },
    prependpath: { name: 'prependpath', restricted: true },
  },
  artifact: {
    associate: { name: 'associate', restricted: false },
    upload: { name: 'upload', restricted: false },
  },
  build: {
    uploadlog: { name: 'uploadlog', restricted: false },
    uploadsummary: { name: 'uploadsummary', restricted: false },
    updatebuildnumber: { name: 'updatebuildnumber', restricted: false },
    addbuildtag: { name: 'addbuildtag', restricted: false },
  },
  release: { updatereleasename: { name: 'updatereleasename', restricted: false } },
  results: { publish: { name: 'publish', restricted: false } },
  codecoverage: { publish: { name: 'publish', restricted: false } },
  telemetry: { publish: { name: 'publish', restricted: true } },
};

/** How the agent would route a command: unknown area, unknown event, or a known command. */
export type CommandLookup =
  | { readonly kind: 'unknownArea' }
  | { readonly kind: 'unknownEvent' }
  | { readonly kind: 'known'; readonly canonical: string; readonly allowedInRestrictedMode: boolean };

/** Looks a parsed command up in the agent's catalogue, resolving aliases (task.issue → task.logissue). */
export function lookupCommand(command: LoggingCommand): CommandLookup {
  const area = knownCommands[command.area];
  if (!area) return { kind: 'unknownArea' };
  const entry = area[command.event];
  if (!entry) return { kind: 'unknownEvent' };
  return {
    kind: 'known',
    canonical: `${command.area}.${entry.name}`,
    allowedInRestrictedMode: entry.restricted,
  };
}
