/** Positional parameters and the WHERE clauses that use them, built up filter by filter. */
export class SqlConditions {
  readonly clauses: string[] = [];
  readonly params: unknown[] = [];

  /** `clause` gets the new parameter's placeholder (`$3`) for `value`. */
  add(clause: (param: string) => string, value: unknown): this {
    this.params.push(value);
    this.clauses.push(clause(`$${this.params.length}`));
    return this;
  }

  get where(): string {
    return this.clauses.join(' AND ');
  }
}
