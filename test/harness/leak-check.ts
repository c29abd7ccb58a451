import { AssertionError } from 'node:assert';

/**
 * The structural leak check every harness run ends with. A known secret must never
 * appear in the task's raw output before the task (or the agent) registered it for
 * masking, never in the masked log, and never in a file the task wrote, unless the test
 * declared that file as one that is meant to hold secrets. Findings name where a secret
 * showed up and a fingerprint of it, never the value.
 */

/** A value the run must keep secret, and where it came from (named in findings). */
export interface KnownSecret {
  readonly value: string;
  readonly origin: string;
}

/** What the check looks at. */
export interface LeakCheckInput {
  readonly secrets: readonly KnownSecret[];
  /** Raw output lines in order, each with how many registered values were in force after it. */
  readonly trace: readonly { stream: string; raw: string; registeredCount: number }[];
  /** Values registered for masking, in registration order. */
  readonly registered: readonly string[];
  readonly logLines: readonly string[];
  /** Files the task left behind (path → text), expected secret files already left out. */
  readonly files: ReadonlyMap<string, string>;
}

/** One finding: which secret, where, and its fingerprint. */
export interface Leak {
  readonly origin: string;
  readonly where: string;
  readonly fingerprint: string;
}

/** `ab…(24 chars)`: enough to tell secrets apart in a report without revealing one. */
export function fingerprint(value: string): string {
  return `${value.slice(0, 2)}…(${value.length} chars)`;
}

/**
 * The strings to look for. A one-line secret is itself. A multi-line one is also each of
 * its lines of 4 characters or more, since masking and grepping work line by line; in PEM
 * text only the private-key body counts, as certificates and armour lines are public.
 */
export function needles(secret: string): string[] {
  if (!/[\r\n]/.test(secret)) return secret ? [secret] : [];
  const lines = secret.split(/\r?\n|\r/);
  const pem = /-----BEGIN [A-Z ]+-----/.test(secret);
  const candidates = pem ? privateKeyLines(lines) : lines.map((line) => line.trim());
  return [secret, ...new Set(candidates.filter((line) => line.length >= 4))];
}

function privateKeyLines(lines: readonly string[]): string[] {
  const picked: string[] = [];
  let inKey = false;
  for (const line of lines.map((l) => l.trim())) {
    if (/^-----BEGIN .*PRIVATE KEY-----$/.test(line)) inKey = true;
    else if (/^-----END .*-----$/.test(line)) inKey = false;
    else if (inKey && !/^[A-Za-z-]+:/.test(line)) picked.push(line);
  }
  return picked;
}

/** Finds every leak; an empty list means the run kept its secrets. */
export function findLeaks(input: LeakCheckInput): Leak[] {
  const leaks: Leak[] = [];
  const seen = new Set<string>();
  const report = (secret: KnownSecret, needle: string, where: string) => {
    const key = `${secret.origin}\0${where}`;
    if (seen.has(key)) return;
    seen.add(key);
    const part = needle === secret.value ? '' : ' (one line of it)';
    leaks.push({ origin: secret.origin + part, where, fingerprint: fingerprint(needle) });
  };

  for (const secret of input.secrets) {
    for (const needle of needles(secret.value)) {
      const registeredAt = input.registered.indexOf(needle);
      input.trace.forEach((line, index) => {
        if (!line.raw.includes(needle)) return;
        const registered = registeredAt >= 0 && registeredAt < line.registeredCount;
        if (!registered) {
          const when =
            registeredAt >= 0 ? 'before it was registered as a secret' : 'and it is never registered';
          report(secret, needle, `raw ${line.stream} line ${index + 1}, ${when}`);
        }
      });
      input.logLines.forEach((line, index) => {
        if (line.includes(needle)) report(secret, needle, `masked log line ${index + 1}`);
      });
      for (const [path, text] of input.files) {
        if (text.includes(needle)) report(secret, needle, `file ${path}`);
      }
    }
  }
  return leaks;
}

/** Throws an AssertionError listing every leak, or returns quietly. */
export function assertNoLeaks(input: LeakCheckInput, context: string): void {
  const leaks = findLeaks(input);
  if (leaks.length === 0) return;
  const lines = leaks.map((leak) => `  - ${leak.origin} [${leak.fingerprint}] in ${leak.where}`);
  throw new AssertionError({
    message: `${context} leaked ${leaks.length === 1 ? 'a secret' : `secrets (${leaks.length})`}:\n${lines.join('\n')}`,
  });
}
