import { createRedactor, excerpt, type Redact } from './redaction';

/**
 * The secrets this task run knows, so that any text cut for a message (an input, a
 * service's answer, an error) is redacted first: the agent masks whole secrets only, and
 * a secret cut in two is no longer recognised by it.
 *
 * The agent hands a task its secrets in the environment (secret variables as SECRET_*,
 * connection credentials as ENDPOINT_AUTH_PARAMETER_*), and task-lib moves them into its
 * vault as it loads. task-start.ts, which runs before task-lib, remembers them here.
 * Secrets a client learns later (a token it sends) are passed to the quoting functions
 * as `extra`.
 */

const known = new Set<string>();
let redactor: Redact = (text) => text;

// Authorization parameters the agent leaves unmasked because they never hold secrets
// (MaskingUtil.IsEndpointAuthorizationParametersSecret in microsoft/azure-pipelines-agent).
const harmlessParameters = new Set(
  [
    'role',
    'scope',
    'tenantid',
    'issuedAt',
    'expiresAt',
    'audience',
    'authenticationType',
    'authorizationType',
    'accessTokenType',
    'accessTokenFetchingMethod',
    'useWindowsSecurity',
    'unsecured',
    'oAuthAccessTokenIsSupplied',
    'completeCallbackPayload',
    'acceptUntrustedCertificates',
  ].map((key) => key.toUpperCase()),
);

/**
 * Remembers the secrets the agent put in the environment: secret variables and the
 * authorization parameters it masks. Must run before task-lib loads, which deletes them.
 */
export function rememberAgentSecrets(env: NodeJS.ProcessEnv): void {
  rememberSecrets(
    Object.entries(env)
      .filter(([name]) => isAgentSecret(name))
      .map(([, value]) => value),
  );
}

function rememberSecrets(values: Iterable<string | undefined>): void {
  const before = known.size;
  for (const value of values) for (const piece of piecesOf(value)) known.add(piece);
  if (known.size !== before) redactor = createRedactor([...known]);
}

function isAgentSecret(name: string): boolean {
  if (name.startsWith('SECRET_')) return true;
  const parameter = /^ENDPOINT_AUTH_PARAMETER_.+?_([A-Z0-9]+)$/i.exec(name)?.[1];
  return parameter !== undefined && agentMasksParameter(parameter);
}

/** Whether the agent masks this authorization parameter (every one not known to be harmless). */
export function agentMasksParameter(key: string): boolean {
  return !harmlessParameters.has(key.toUpperCase());
}

/** Replaces every known secret in `text`, and each of `extra`, with `***`. */
export function redactKnownSecrets(text: string, extra: readonly string[] = []): string {
  return redactWith(extra)(text);
}

/** How long a value quoted in a message may be: enough to recognise it, never a whole file. */
const quotedValueLength = 200;

/**
 * A value as a message may quote it (an input, a file's line, a service's answer) on one
 * line: redacted of every known secret and of `extra`, control characters written as
 * escapes (\n, \u0000), then cut to `maxChars`.
 */
export function quoted(text: string, maxChars = quotedValueLength, extra: readonly string[] = []): string {
  const redact = redactWith(extra);
  return excerpt(text, maxChars, (each) => escapeControls(redact(each)));
}

/** The first line of `text`, redacted of every known secret and of `extra`, then cut to `maxChars`. */
export function quotedFirstLine(
  text: string,
  maxChars = quotedValueLength,
  extra: readonly string[] = [],
): string {
  // Redacted whole before the first line is taken: a secret may span the line break.
  const firstLine = redactWith(extra)(text).split(/\r?\n/, 1)[0] ?? '';
  return excerpt(firstLine, maxChars, escapeControls);
}

const controlEscapes: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeControls(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f]/g,
    (char) => controlEscapes[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

// One redactor over both lists, so that a secret holding another is replaced whole.
function redactWith(extra: readonly string[]): Redact {
  const pieces = extra.flatMap(piecesOf);
  return pieces.length > 0 ? createRedactor([...known, ...pieces]) : redactor;
}

/** Lines of a multi-line secret shorter than this are ordinary text ("}", "---") and are not redacted alone. */
const shortestRedactedLine = 8;

// A multi-line secret (a PEM key, a kubeconfig) is also each of its lines: a text cut
// from it, or a first line, holds lines, not the whole.
function piecesOf(value: string | undefined): string[] {
  if (!value) return [];
  if (!/[\r\n]/.test(value)) return [value];
  const lines = value.split(/\r\n|\r|\n/).map((line) => line.trim());
  return [value, ...lines.filter((line) => line.length >= shortestRedactedLine)];
}
