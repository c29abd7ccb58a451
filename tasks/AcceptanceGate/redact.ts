/**
 * Which header values the gate keeps out of what it writes itself (its log, the JUnit file,
 * the summary): a response may echo a request's credential back. These values are only
 * redacted in the gate's own output, never registered with the agent: a registered value is
 * masked in every later step of the job, and a literal such as `application/json` must not be.
 * Values of secret pipeline variables are registered; checks-file.ts finds those.
 */

/** Header names whose values are credentials, however short or literal they are. */
const credentialHeader =
  /^(authorization|proxy-authorization|cookie|x-api-key|api-key|x-functions-key|ocp-apim-subscription-key)$|auth|token|secret|passw|api-?key|signature|session|credential/i;

/** The words of a credential value ("Bearer <token>") that are long enough to be secret on their own. */
const minimumPartLength = 8;

/** The values of credential headers, and their long words, to redact in the gate's own output. */
export function credentialHeaderValues(headers: Readonly<Record<string, string>>): string[] {
  return Object.entries(headers)
    .filter(([name, value]) => value !== '' && credentialHeader.test(name))
    .flatMap(([, value]) => [
      value,
      ...value.split(/\s+/).filter((part) => part.length >= minimumPartLength),
    ]);
}
