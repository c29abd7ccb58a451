/**
 * Who answers a manual validation: the person at the terminal, an answer given in advance
 * (`--approve`, `--reject`), or nobody (the validation then ends at its timeout, as its
 * `onTimeout` says).
 */
import { createInterface } from 'node:readline';
import type { ApprovalAnswer, ApprovalSource } from '../builtin/types';

/** Answers every validation the same way, at once. */
export function presetApprovals(decision: ApprovalAnswer['decision'], comment?: string): ApprovalSource {
  return {
    ask: async () => ({
      decision,
      by: decision === 'approved' ? '--approve' : '--reject',
      ...(comment ? { comment } : {}),
    }),
  };
}

/** Never answers: each validation waits for its timeout. */
export const nobodyAnswers: ApprovalSource = {
  ask: (_request, signal) =>
    new Promise((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error('The validation was stopped.')), {
        once: true,
      });
    }),
};

/** Asks the person at the terminal: `a` approves, `r` rejects, anything after a space is the comment. */
export function terminalApprovals(
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  user: string,
): ApprovalSource {
  return {
    ask: (request, signal) =>
      new Promise((resolve, reject) => {
        const prompt = createInterface({ input, output, terminal: false });
        const stop = () => {
          prompt.close();
          reject(new Error('The validation was stopped.'));
        };
        signal.addEventListener('abort', stop, { once: true });
        output.write(
          `\nManual validation: ${request.instructions}\n` +
            `Answer by ${request.deadline.toLocaleTimeString()}: a = approve, r = reject (add a comment after a space): `,
        );
        prompt.on('line', (line) => {
          const [choice = '', ...words] = line.trim().split(/\s+/);
          const decision = /^a(pprove)?$/i.test(choice)
            ? 'approved'
            : /^r(eject)?$/i.test(choice)
              ? 'rejected'
              : undefined;
          if (!decision) {
            output.write('Type a to approve or r to reject: ');
            return;
          }
          signal.removeEventListener('abort', stop);
          prompt.close();
          resolve({ decision, by: user, ...(words.length > 0 ? { comment: words.join(' ') } : {}) });
        });
      }),
  };
}
