/**
 * Small pieces of English the tasks' log lines and summaries share, so that counts and
 * percentages read the same everywhere: "1 referrer", "3 referrers", "33.33%".
 */

/** "1 poll", "2 polls": a count with its noun in the right number. */
export function counted(count: number, singular: string, plural = `${singular}s`): string {
  return `${count} ${count === 1 ? singular : plural}`;
}

/** "33.33%", "100%": a percentage as every line writes it, no space, at most two decimals. */
export function percent(value: number): string {
  return `${Number(value.toFixed(2))}%`;
}

/** The unit a metric's name ends with: `failedRatePercent` is a percentage, `p95DurationMs` milliseconds. */
function unitOf(name: string): 'Percent' | 'Ms' | undefined {
  return /(Percent|Ms)$/.exec(name)?.[1] as 'Percent' | 'Ms' | undefined;
}

/**
 * A metric's camelCase name as words for a sentence, without its unit: "failedRatePercent"
 * → "failed rate", "p95DurationMs" → "p95 duration", "requests" → "requests".
 */
export function metricWords(name: string): string {
  const unit = unitOf(name);
  return (unit ? name.slice(0, -unit.length) : name)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/_/g, ' ')
    .toLowerCase();
}

/** A metric's value with the unit its name gives: "7.5%", "812 ms", "120". */
export function metricValue(name: string, value: number): string {
  const unit = unitOf(name);
  if (unit === 'Percent') return percent(value);
  return unit === 'Ms' ? `${value} ms` : String(value);
}
