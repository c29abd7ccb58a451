/**
 * One emulated Log Analytics workspace: its tables' rows, each visible to queries only from
 * the moment its ingestion completes (Azure Monitor's ingestion latency, typically minutes:
 * https://learn.microsoft.com/azure/azure-monitor/logs/data-ingestion-time).
 */
import type { Table } from './kql-evaluator';
import { tableSchemas, type ColumnSchema, type TableSchema } from './tables';

interface StoredTable {
  readonly schema: TableSchema;
  readonly index: ReadonlyMap<string, number>;
  readonly timeColumn: number;
  readonly rows: unknown[][];
  /** When each row becomes visible (ms), in the rows' order. */
  readonly visibleAt: number[];
  /** The latest visibleAt, and the range of TimeGenerated: a query that keeps every row needs no copy. */
  lastVisibleAt: number;
  earliest: number;
  latest: number;
  /**
   * The rows of a window once every row is visible, by `start/end`: the gate's concurrent
   * queries share their window, and the emulator, unlike the service, runs them on one thread.
   * The latest four windows, emptied by every ingest.
   */
  readonly windows: Map<string, unknown[][]>;
}

/** A time window, inclusive at both ends (ms since the epoch). */
export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

/** A workspace's tables. */
export class Workspace {
  private readonly tables = new Map<string, StoredTable>();

  constructor(readonly id: string) {}

  /**
   * Adds rows to a table, visible from `visibleAt`. Values are converted to the columns'
   * types (datetimes from Date, ISO text or ms); a column the table lacks is a bug in the
   * caller and throws; TimeGenerated defaults to `now`, TenantId and Type are filled in.
   */
  ingest(
    tableName: string,
    records: readonly Record<string, unknown>[],
    now: number,
    visibleAt: number,
  ): void {
    const table = this.table(tableName);
    if (!table) throw new Error(`the workspace has no table ${tableName}`);
    for (const record of records) {
      // A string is never null in Kusto: a value not set is the empty string.
      const row: unknown[] = table.schema.columns.map((column) => (column.type === 'string' ? '' : null));
      for (const [name, value] of Object.entries(record)) {
        const index = table.index.get(name);
        if (index === undefined) throw new Error(`${tableName} has no column ${name}`);
        row[index] = convert(value, table.schema.columns[index]!);
      }
      row[table.timeColumn] ??= now;
      row[table.index.get('TenantId')!] ||= this.id;
      row[table.index.get('Type')!] = tableName;
      table.rows.push(row);
      table.visibleAt.push(visibleAt);
      const at = row[table.timeColumn] as number;
      table.earliest = Math.min(table.earliest, at);
      table.latest = Math.max(table.latest, at);
    }
    table.lastVisibleAt = Math.max(table.lastVisibleAt, visibleAt);
    table.windows.clear();
  }

  /** The rows of a table a query sees at `now` within `window`; undefined for a table the workspace lacks. */
  view(tableName: string, now: number, window?: TimeWindow): Table | undefined {
    const table = this.table(tableName);
    if (!table) return undefined;
    const everyRow =
      table.lastVisibleAt <= now &&
      (!window || (table.earliest >= window.start && table.latest <= window.end));
    if (everyRow) return { columns: table.schema.columns, rows: table.rows };
    const allVisible = table.lastVisibleAt <= now;
    const windowKey = window ? `${window.start}/${window.end}` : '';
    const seen = allVisible ? table.windows.get(windowKey) : undefined;
    if (seen) return { columns: table.schema.columns, rows: seen };
    const rows: unknown[][] = [];
    const time = table.timeColumn;
    for (let index = 0; index < table.rows.length; index += 1) {
      if (table.visibleAt[index]! > now) continue;
      const row = table.rows[index]!;
      if (window) {
        const at = row[time] as number | null;
        if (at === null || at < window.start || at > window.end) continue;
      }
      rows.push(row);
    }
    if (allVisible) {
      table.windows.set(windowKey, rows);
      // Each round of the gate asks for a window ending later: keep the latest few.
      const oldest = table.windows.keys().next().value;
      if (table.windows.size > 4 && oldest !== undefined) table.windows.delete(oldest);
    }
    return { columns: table.schema.columns, rows };
  }

  private table(name: string): StoredTable | undefined {
    let table = this.tables.get(name);
    if (!table) {
      const schema = tableSchemas.get(name);
      if (!schema) return undefined;
      const index = new Map(schema.columns.map((column, position) => [column.name, position]));
      table = {
        schema,
        index,
        timeColumn: index.get('TimeGenerated')!,
        rows: [],
        visibleAt: [],
        lastVisibleAt: -Infinity,
        earliest: Infinity,
        latest: -Infinity,
        windows: new Map(),
      };
      this.tables.set(name, table);
    }
    return table;
  }
}

function convert(value: unknown, column: ColumnSchema): unknown {
  if (value === null || value === undefined) return null;
  switch (column.type) {
    case 'datetime': {
      const ms =
        value instanceof Date
          ? value.getTime()
          : typeof value === 'number'
            ? value
            : Date.parse(String(value));
      return Number.isNaN(ms) ? null : ms;
    }
    case 'int':
    case 'long':
    case 'real':
    case 'timespan':
      return Number(value);
    case 'bool':
      return typeof value === 'boolean' ? value : String(value).toLowerCase() === 'true';
    case 'dynamic':
      return value;
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
