// The service's settings, read once from the environment at start. A bad setting stops
// the service with one line that names the variable and says how to fix it; a secret's
// value is never part of that line.

/** A setting the service cannot start with; its message is the line the service prints. */
export class ConfigError extends Error {}

const defaultPort = 8080;
// Application Insights' documented ingestion endpoint when the connection string names none:
// https://learn.microsoft.com/azure/azure-monitor/app/connection-strings#connection-string-with-explicit-endpoint-overrides
const defaultIngestionEndpoint = 'https://dc.services.visualstudio.com/';
const guidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const endpointKeys = ['IngestionEndpoint', 'LiveEndpoint', 'ProfilerEndpoint', 'SnapshotEndpoint'];
const switchValues = { '': false, 0: false, false: false, 1: true, true: true };

/**
 * Reads the service's settings from `env`:
 * - `PORT`: where it listens (default 8080; 0 picks a free port),
 * - `ENVIRONMENT`: the name /api/version reports (default `unnamed`),
 * - `APPLICATIONINSIGHTS_CONNECTION_STRING`: optional; checked when set,
 * - `ORDERS_FAIL_CHECKS`: `1` makes the service answer badly, for a broken-release demo.
 * Throws ConfigError on the first bad one.
 */
export function parseConfig(env) {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  return {
    port: parsePort(env.PORT),
    environment: env.ENVIRONMENT || 'unnamed',
    appInsights: connectionString === undefined ? undefined : parseConnectionString(connectionString),
    failChecks: parseSwitch('ORDERS_FAIL_CHECKS', env.ORDERS_FAIL_CHECKS),
  };
}

function parsePort(text) {
  if (text === undefined || text === '') return defaultPort;
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new ConfigError(
      `PORT is '${text}', not a port number: set it to an integer from 0 to 65535 (0 picks a free port).`,
    );
  }
  return port;
}

function parseSwitch(name, text) {
  const value = switchValues[(text ?? '').toLowerCase()];
  if (value === undefined)
    throw new ConfigError(
      `${name} is '${text}': set it to 1 or true to turn it on, 0, false or nothing to leave it off.`,
    );
  return value;
}

/**
 * Checks an Application Insights connection string (`Key=value` pairs separated by `;`,
 * keys in any case) the way the SDK does at start, and returns what the service uses of
 * it. The value holds the instrumentation key, so no message repeats it.
 */
export function parseConnectionString(text) {
  const fields = new Map();
  const problem = (what) =>
    new ConfigError(
      `APPLICATIONINSIGHTS_CONNECTION_STRING is malformed: ${what}. Copy it from the Application Insights resource's Overview page; it reads InstrumentationKey=<GUID>;IngestionEndpoint=https://<region>.in.applicationinsights.azure.com/;...`,
    );
  if (text.trim() === '') throw problem('it is empty');
  const segments = text.split(';');
  for (const [index, segment] of segments.entries()) {
    if (segment.trim() === '') continue;
    const equals = segment.indexOf('=');
    if (equals <= 0) throw problem(`part ${index + 1} of ${segments.length} is not Key=value`);
    fields.set(segment.slice(0, equals).trim().toLowerCase(), segment.slice(equals + 1).trim());
  }
  const instrumentationKey = fields.get('instrumentationkey');
  if (!instrumentationKey) throw problem('it has no InstrumentationKey');
  if (!guidPattern.test(instrumentationKey)) throw problem('its InstrumentationKey is not a GUID');
  for (const key of endpointKeys) {
    const url = fields.get(key.toLowerCase());
    if (url !== undefined && !isHttpUrl(url)) throw problem(`its ${key} is not an http(s) URL`);
  }
  return { ingestionEndpoint: fields.get('ingestionendpoint') ?? defaultIngestionEndpoint };
}

function isHttpUrl(text) {
  try {
    return ['http:', 'https:'].includes(new URL(text).protocol);
  } catch {
    return false;
  }
}
