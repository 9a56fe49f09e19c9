/**
 * The `c9-batch` executable (bin/c9-batch.js → dist/cli/main.js): wires the process to
 * {@link runCommand} and exits with its code.
 */
import { runCommand } from './runCommand';

const controller = new AbortController();
let interrupts = 0;
const onSignal = (signal: 'SIGINT' | 'SIGTERM'): void => {
  interrupts++;
  // A second Ctrl-C while the first is being handled means "now".
  if (interrupts > 1) process.exit(signal === 'SIGTERM' ? 143 : 130);
  controller.abort(signal);
};
process.on('SIGINT', () => onSignal('SIGINT'));
// `c9-batch … | head`: the reader left; nothing more can be shown, and that is no crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
process.on('SIGTERM', () => onSignal('SIGTERM'));

runCommand(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env, signal: controller.signal }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // runCommand reports its own errors; this is a bug in it, shown without the key.
    process.stderr.write(`internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
