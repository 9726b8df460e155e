/**
 * Spreads the starts of a store's DynamoDB calls over turns of the event loop: at most `startsPerTurn` start in one
 * turn, the others in the turns after, first come first served. The SDK does about a millisecond of CPU starting a
 * call (its middleware, serialisation and signing, in one go): the sixteen calls of one fan-out (`concurrency`)
 * started in the same turn held the event loop for that long together.
 */
export class CallPacer {
  private startedThisTurn = 0;
  private turnScheduled = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly startsPerTurn: number) {}

  /** Resolves when the caller may start a call: at once (undefined) while this turn's budget lasts and nobody waits. */
  slot(): Promise<void> | undefined {
    this.scheduleTurn();
    if (this.startedThisTurn < this.startsPerTurn && this.waiting.length === 0) {
      this.startedThisTurn++;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private scheduleTurn(): void {
    if (this.turnScheduled) return;
    this.turnScheduled = true;
    setImmediate(() => this.newTurn());
  }

  private newTurn(): void {
    this.turnScheduled = false;
    this.startedThisTurn = 0;
    while (this.startedThisTurn < this.startsPerTurn && this.waiting.length > 0) {
      this.startedThisTurn++;
      this.waiting.shift()!();
    }
    // The calls let through now start in this turn's remainder: the next turn gets a fresh budget.
    if (this.startedThisTurn > 0) this.scheduleTurn();
  }
}
