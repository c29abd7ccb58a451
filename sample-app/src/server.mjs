// The service's entry: reads its settings, listens on PORT, logs one line per request,
// and on SIGTERM stops being ready and closes once the requests in flight are answered.
import { createServer } from 'node:http';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.mjs';
import { readBuildInfo } from './build-info.mjs';
import { ConfigError, parseConfig } from './config.mjs';
import { createLogger } from './log.mjs';
import { createOrderBook } from './orders.mjs';

// Kubernetes waits terminationGracePeriodSeconds (30 by default) before it kills the pod.
const shutdownDeadlineMs = 20_000;

const log = createLogger();
const appRoot = dirname(dirname(fileURLToPath(import.meta.url)));

function main() {
  let config;
  try {
    config = parseConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    log.error(error.message);
    process.exitCode = 1;
    return;
  }
  const build = readBuildInfo(appRoot);
  const app = createApp({
    build,
    orders: createOrderBook(),
    log,
    environment: config.environment,
    failChecks: config.failChecks,
  });
  const server = createServer(app.handler);

  server.on('error', (error) => {
    const reason =
      error.code === 'EADDRINUSE'
        ? `port ${config.port} is in use: stop what holds it, or set PORT to another port`
        : error.message;
    log.error(`cannot listen: ${reason}`);
    process.exitCode = 1;
  });
  server.listen(config.port, () => {
    const notes = [`environment ${config.environment}`];
    if (config.appInsights)
      notes.push(`Application Insights at ${new URL(config.appInsights.ingestionEndpoint).host}`);
    if (config.failChecks) notes.push('ORDERS_FAIL_CHECKS is on: health degraded, orders answer 500');
    log.info(
      `${build.name} ${build.version} listening on port ${server.address().port} (${notes.join('; ')})`,
    );
  });

  const shutdown = (signal) => {
    log.info(`${signal}: not ready any more; closing once the requests in flight are answered`);
    app.stopAccepting();
    server.close(() => log.info('closed'));
    server.closeIdleConnections();
    setTimeout(() => {
      log.error(`requests still open after ${shutdownDeadlineMs / 1000}s; closing them`);
      server.closeAllConnections();
    }, shutdownDeadlineMs).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}

main();
