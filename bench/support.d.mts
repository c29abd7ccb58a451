/** The repository root. */
export const root: string;
/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number;
/** Builds every task into dist/tasks; throws with the build's own errors if it fails. */
export function buildTasks(): void;
