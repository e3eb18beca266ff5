/**
 * Test preload: UTC, no colour, and any unhandled rejection fails the run (docs/faults.md#c4).
 */
process.env.TZ = 'UTC';
process.env.NO_COLOR = '1';
process.env.FORCE_COLOR = '0';

process.on('unhandledRejection', (reason) => {
  process.stderr.write(`unhandled rejection in test: ${String(reason)}\n`);
  process.exitCode = 1;
  throw reason;
});
