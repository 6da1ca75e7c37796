/**
 * Group commit: rows that must each be committed before their caller goes on (an envelope
 * before its 200) are written together when they arrive together. A row is written at once
 * when fewer than `maxInFlight` writes are running (no added wait when traffic is light);
 * otherwise it waits for the next free slot and goes in one write with every row that waited
 * with it, up to `maxRows` rows or `maxBytes` (a row bigger than that goes alone). One
 * statement per write: a Postgres transaction and its commit are paid per batch, not per row.
 * Each add() settles with its own row's outcome: when a write of several rows fails, each of
 * them is written again alone, so one row Postgres refuses fails only its own caller.
 */
export interface GroupCommitOptions<Row> {
  /** Writes and commits these rows, in one transaction. */
  write: (rows: Row[]) => Promise<void>;
  maxInFlight: number;
  maxRows: number;
  maxBytes: number;
  bytesOf: (row: Row) => number;
}

interface Waiting<Row> {
  row: Row;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class GroupCommit<Row> {
  private readonly waiting: Waiting<Row>[] = [];
  private inFlight = 0;

  constructor(private readonly options: GroupCommitOptions<Row>) {}

  /** Resolves once `row` is committed; rejects with the error of its (own) write. */
  add(row: Row): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ row, resolve, reject });
      this.next();
    });
  }

  /** Starts writes while there are waiting rows and free slots. */
  private next(): void {
    while (this.waiting.length > 0 && this.inFlight < this.options.maxInFlight) {
      const batch = this.take();
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.next();
      });
    }
  }

  /** The oldest waiting rows, within maxRows and maxBytes (always at least one). */
  private take(): Waiting<Row>[] {
    const { maxRows, maxBytes, bytesOf } = this.options;
    let count = 0;
    let bytes = 0;
    for (const { row } of this.waiting) {
      bytes += bytesOf(row);
      if (count > 0 && (count === maxRows || bytes > maxBytes)) break;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }

  private async run(batch: Waiting<Row>[]): Promise<void> {
    try {
      await this.options.write(batch.map((waiting) => waiting.row));
      for (const waiting of batch) waiting.resolve();
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      // Which row was refused is not known: each is written alone, and settles on its own.
      await Promise.all(batch.map((waiting) => this.run([waiting])));
    }
  }
}
