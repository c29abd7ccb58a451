/**
 * ManualValidation@1, a server task: it shows the instructions and who may answer, asks
 * `context.approvals`, and waits until someone answers or the step's timeout (pipeline
 * minutes, scaled by `context.timeScale`) passes; then `onTimeout` decides. The service
 * implements it, so there is no source to follow: the behaviour is the documented one
 * (https://learn.microsoft.com/azure/devops/pipelines/tasks/reference/manual-validation-v1).
 */
import type { ApprovalAnswer, BuiltinContext, BuiltinResult } from './types';
import { settle, StepFailure } from './support/failure';
import { booleanInput, choiceInput, lineList, textInput } from './support/inputs';

/** An agentless job's timeout when neither the step nor the job sets one. */
const defaultTimeoutInMinutes = 60;
/** How often, in real time, a line says the step is still waiting. */
const defaultProgressIntervalMs = 30_000;

/** Runs a ManualValidation@1 step. */
export function runManualValidation(context: BuiltinContext): Promise<BuiltinResult> {
  return waitForValidation(context, { progressIntervalMs: defaultProgressIntervalMs });
}

/** ManualValidation@1 with the waiting line's interval given (tests shorten it). */
export function waitForValidation(
  context: BuiltinContext,
  options: { readonly progressIntervalMs: number },
): Promise<BuiltinResult> {
  return settle(context, async () => {
    const notifyUsers = textInput(context, 'notifyUsers');
    if (!notifyUsers) {
      throw new StepFailure(
        'Input required: notifyUsers. Name the users or groups to notify, e.g. $(Build.RequestedForEmail).',
      );
    }
    const approvers = textInput(context, 'approvers');
    const instructions = textInput(context, 'instructions');
    const onTimeout = choiceInput(context, 'onTimeout', ['reject', 'resume'], 'reject');
    const ownRunsAllowed = booleanInput(context, 'allowApproversToApproveTheirOwnRuns', true);
    const minutes = context.timeoutInMinutes ?? defaultTimeoutInMinutes;
    const waitMs = minutes * 60_000 * context.timeScale;
    const deadline = new Date(Date.now() + waitMs);

    if (instructions) context.output(`Instructions: ${instructions}`);
    context.output(`Notified: ${lineList(notifyUsers.replace(/,/g, '\n')).join(', ')}`);
    context.output(
      `May approve: ${approvers ? lineList(approvers.replace(/,/g, '\n')).join(', ') : 'anyone who can see the run'}`,
    );
    if (!ownRunsAllowed) context.output('Whoever started the run may not approve it.');
    context.output(
      `Waiting for approval: ${describeMinutes(minutes)} (pipeline time); on timeout: ${onTimeout}.`,
    );

    const outcome = await waitForAnswer(context, {
      request: { instructions, approvers, notifyUsers, deadline },
      waitMs,
      progressIntervalMs: options.progressIntervalMs,
      acceptable: (answer) => ownRunsAllowed || !startedTheRun(context, answer.by),
    });
    if (outcome.kind === 'canceled') return { status: 'Canceled', message: 'The step was canceled.' };
    if (outcome.kind === 'timeout') {
      if (onTimeout === 'resume') {
        context.output(
          `No answer within ${describeMinutes(minutes)}: the validation timed out and resumed (onTimeout: resume).`,
        );
        return { status: 'Succeeded' };
      }
      return {
        status: 'Failed',
        message: `No answer within ${describeMinutes(minutes)}: the validation timed out and was rejected (onTimeout: reject). Answer sooner, raise timeoutInMinutes, or set onTimeout: resume.`,
      };
    }
    const { answer } = outcome;
    const comment = answer.comment ? `: ${answer.comment}` : '';
    if (answer.decision === 'approved') {
      context.output(`Approved by ${answer.by}${comment}`);
      return { status: 'Succeeded' };
    }
    return { status: 'Failed', message: `Rejected by ${answer.by}${comment}` };
  });
}

type WaitOutcome =
  | { readonly kind: 'answer'; readonly answer: ApprovalAnswer }
  | { readonly kind: 'timeout' }
  | { readonly kind: 'canceled' };

/** Asks until an acceptable answer, the deadline, or cancellation; prints the time left meanwhile. */
async function waitForAnswer(
  context: BuiltinContext,
  options: {
    readonly request: Parameters<BuiltinContext['approvals']['ask']>[0];
    readonly waitMs: number;
    readonly progressIntervalMs: number;
    readonly acceptable: (answer: ApprovalAnswer) => boolean;
  },
): Promise<WaitOutcome> {
  const asking = new AbortController();
  const deadlineMs = options.request.deadline.getTime();
  let timedOut = false;
  const onTimeout = () => {
    timedOut = true;
    asking.abort(new DOMException('The validation timed out.', 'TimeoutError'));
  };
  const timer = setTimeout(onTimeout, options.waitMs);
  // The run aborts a timed-out step with a TimeoutError: that is this step's own timeout.
  const onAbort = () => {
    if (isTimeout(context.signal.reason)) onTimeout();
    else asking.abort(context.signal.reason);
  };
  if (context.signal.aborted) onAbort();
  context.signal.addEventListener('abort', onAbort, { once: true });
  const progress = setInterval(() => {
    const leftMs = Math.max(0, deadlineMs - Date.now());
    context.output(
      `Still waiting for approval: ${describeMinutes(leftMs / 60_000 / context.timeScale)} left (pipeline time).`,
    );
  }, options.progressIntervalMs);
  try {
    while (!asking.signal.aborted) {
      let answer: ApprovalAnswer;
      try {
        answer = await context.approvals.ask(options.request, asking.signal);
      } catch (error) {
        if (asking.signal.aborted) break;
        throw error;
      }
      if (asking.signal.aborted) break;
      if (options.acceptable(answer)) return { kind: 'answer', answer };
      context.output(
        `${answer.by} started this run and may not answer it (allowApproversToApproveTheirOwnRuns: false); still waiting.`,
      );
    }
    return timedOut ? { kind: 'timeout' } : { kind: 'canceled' };
  } finally {
    clearTimeout(timer);
    clearInterval(progress);
    context.signal.removeEventListener('abort', onAbort);
  }
}

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError';
}

/** Whether `who` is the person the run was started for (Build.RequestedFor or its e-mail). */
function startedTheRun(context: BuiltinContext, who: string): boolean {
  const requesters = [context.variable('Build.RequestedFor'), context.variable('Build.RequestedForEmail')];
  return requesters.some(
    (requester) => requester !== undefined && requester.toLowerCase() === who.toLowerCase(),
  );
}

/** `90 minutes`, `1 minute`, `0.5 minutes`. */
function describeMinutes(minutes: number): string {
  const rounded = Math.round(minutes * 100) / 100;
  return `${rounded} minute${rounded === 1 ? '' : 's'}`;
}
