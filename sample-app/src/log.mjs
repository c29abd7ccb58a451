// The service's only writer of log lines. One line per event, info on stdout and errors on
// stderr, where the container runtime collects them; nothing else in src/ writes output.

/**
 * Creates a logger that writes `<ISO time> <level> <message>` lines. Tests hand in their
 * own streams and clock.
 */
export function createLogger({ out = process.stdout, err = process.stderr, now = () => new Date() } = {}) {
  const write = (stream, level, message) => stream.write(`${now().toISOString()} ${level} ${message}\n`);
  return {
    /** Logs one line of normal operation. */
    info: (message) => write(out, 'info', message),
    /** Logs one line about something that went wrong. */
    error: (message) => write(err, 'error', message),
  };
}
