// Compile time reports every problem it finds, not only the first: each stage collects
// problems and goes on where it can. A problem that stops one branch of the work (a
// template that cannot be read) is thrown as a ProblemError and caught where the work
// can go on without that branch.
import type { PipelineProblem, SourceLocation } from '../model';

/** One or more problems that stop the current piece of work. */
export class ProblemError extends Error {
  override name = 'ProblemError';
  readonly problems: readonly PipelineProblem[];

  constructor(...problems: PipelineProblem[]) {
    super(problems.map((problem) => problem.message).join('\n'));
    this.problems = problems;
  }
}

/** A problem that stops the whole compilation (a crossed limit): nothing after it is worth reporting. */
export class FatalProblemError extends ProblemError {
  override name = 'FatalProblemError';
}

/** The problems found so far, in the order they were found, without repeats. */
export class Problems {
  private readonly found: PipelineProblem[] = [];
  private readonly seen = new Set<string>();

  /** Records a problem at a place. */
  add(location: SourceLocation | undefined, message: string): void {
    const key = `${location?.file}:${location?.line}:${location?.column}:${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.found.push(location ? { location, message } : { message });
  }

  /** Records the problems of a ProblemError, and rethrows anything else. */
  absorb(error: unknown): void {
    if (!(error instanceof ProblemError)) throw error;
    for (const problem of error.problems) this.add(problem.location, problem.message);
  }

  /** Runs `work`, recording a ProblemError it throws; returns its result or undefined. */
  attempt<T>(work: () => T): T | undefined {
    try {
      return work();
    } catch (error) {
      if (error instanceof FatalProblemError) throw error;
      this.absorb(error);
      return undefined;
    }
  }

  get list(): readonly PipelineProblem[] {
    return this.found;
  }
}
