/**
 * Text the gate parses (the checks file, the test command's JUnit files) is checked to be
 * text first, so that a binary or UTF-16 file gets one line saying so, not a parser's
 * complaint about its first odd character.
 */

/** A file's text, or why it is not text. */
export type DecodedText =
  { readonly ok: true; readonly text: string } | { readonly ok: false; readonly problem: string };

/** Decodes a file's bytes as UTF-8 text (a byte-order mark is dropped), or says why they are not text. */
export function decodeText(bytes: Uint8Array): DecodedText {
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))
    return { ok: false, problem: 'it is saved as UTF-16; save it as UTF-8' };
  const nul = bytes.indexOf(0);
  if (nul >= 0) return { ok: false, problem: `it holds binary data (a NUL byte at byte ${nul})` };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, problem: 'it is not UTF-8 text; save it as UTF-8' };
  }
  const problem = controlCharacterProblem(text);
  return problem ? { ok: false, problem } : { ok: true, text };
}

// YAML and XML allow tab, line feed and carriage return; any other control character means binary data.
const controlCharacter = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Why `text` is not text a person wrote (a control character, and where), or undefined. */
export function controlCharacterProblem(text: string): string | undefined {
  const found = controlCharacter.exec(text);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `it holds binary data (the control character U+${code} at character ${found.index + 1})`;
}
