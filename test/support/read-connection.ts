// Runs readAzureRmConnection in a fresh process, because task-lib moves the ENDPOINT_AUTH_*
// variables into its vault when it loads. Prints the connection (secrets redacted) or the TaskError.
import { readAzureRmConnection } from '../../tasks/shared/azure-connection';
import { isTaskError } from '../../tasks/shared/task-error';

try {
  const connection = readAzureRmConnection(process.argv[2] ?? 'azureSubscription');
  const redacted = JSON.parse(
    JSON.stringify(connection, (key, value: unknown) =>
      ['secret', 'certificatePem', 'systemAccessToken'].includes(key) ? '<redacted>' : value,
    ),
  ) as unknown;
  process.stdout.write(`\nresult: ${JSON.stringify({ connection: redacted })}\n`);
} catch (error) {
  const outcome = isTaskError(error) ? { key: error.key, args: error.args } : { unexpected: String(error) };
  process.stdout.write(`\nresult: ${JSON.stringify(outcome)}\n`);
}
