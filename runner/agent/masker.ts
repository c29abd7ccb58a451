/**
 * The agent's secret masker, reduced to what a log reader sees: every registered value,
 * and the encodings the agent registers with it (JSON string escape, URI data escape,
 * backslash escape; src/Microsoft.VisualStudio.Services.Agent/HostContext.cs), becomes
 * `***`. Like the agent, it masks line by line, so a value only hides the lines written
 * after it was registered.
 */
export class SecretMasker {
  private readonly values = new Set<string>();
  private patterns: string[] = [];

  /** Registers a value (ignoring empty ones) and its encodings. */
  add(value: string): void {
    if (!value || this.values.has(value)) return;
    this.values.add(value);
    const forms = new Set([value, ...encodings(value)].filter((form) => form.length > 0));
    // Longest first, so that a secret containing another is masked whole.
    this.patterns = [...new Set([...this.patterns, ...forms])].sort((a, b) => b.length - a.length);
  }

  /** Whether the value itself was registered. */
  has(value: string): boolean {
    return this.values.has(value);
  }

  /** Every registered value, in registration order. */
  registered(): string[] {
    return [...this.values];
  }

  /** The line with every registered value and encoding replaced by `***`. */
  mask(line: string): string {
    let masked = line;
    for (const pattern of this.patterns) masked = masked.split(pattern).join('***');
    return masked;
  }
}

function encodings(value: string): string[] {
  return [
    JSON.stringify(value).slice(1, -1),
    // .NET's Uri.EscapeDataString leaves the RFC 3986 unreserved set alone, as encodeURIComponent
    // does apart from !'()*.
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    value.replaceAll('\\', '\\\\'),
  ];
}
