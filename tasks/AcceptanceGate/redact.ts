/**
 * Redaction for everything the gate writes (log lines, the JUnit file, the summary):
 * header values can be credentials, and a failing response may echo them back.
 */

/** Replaces every occurrence of each secret with ***. Longer secrets go first so a prefix never leaves a tail. */
export function createRedactor(secrets: readonly string[]): (text: string) => string {
  const ordered = [...new Set(secrets.filter((secret) => secret.length > 0))].sort(
    (a, b) => b.length - a.length,
  );
  if (ordered.length === 0) return (text) => text;
  return (text) => ordered.reduce((current, secret) => current.split(secret).join('***'), text);
}

/** Header names whose values are credentials however short they are. */
const credentialHeaders =
  /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-functions-key|ocp-apim-subscription-key)$/i;

/** Shorter literal values (Accept: json) are left alone so messages stay readable; credentials never are. */
const minimumLiteralLength = 8;

/** Picks the header values to redact: every value from a pipeline variable, credential headers, and long literals. */
export function headerSecrets(
  headers: Readonly<Record<string, string>>,
  fromVariables: readonly string[],
): string[] {
  const literal = Object.entries(headers)
    .filter(([name, value]) => credentialHeaders.test(name) || value.length >= minimumLiteralLength)
    .flatMap(([, value]) => [
      value,
      ...value.split(/\s+/).filter((part) => part.length >= minimumLiteralLength),
    ]);
  return [...fromVariables, ...literal];
}
