/**
 * DynamoDB calls the store may start in one turn of the event loop; the others wait for the next turns. The SDK does
 * about a millisecond of CPU starting a call (its middleware, serialisation and signing, in one go): the sixteen
 * calls of one fan-out (`concurrency`) started in the same turn held the event loop for that long together.
 */
export const STARTS_PER_TURN = 2;

let startedThisTurn = 0;
let turnScheduled = false;
const waiting: Array<() => void> = [];

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(newTurn);
}

function newTurn(): void {
  turnScheduled = false;
  startedThisTurn = 0;
  while (startedThisTurn < STARTS_PER_TURN && waiting.length > 0) {
    startedThisTurn++;
    waiting.shift()!();
  }
  // The calls let through now start in this turn's remainder: the next turn gets a fresh budget.
  if (startedThisTurn > 0) scheduleTurn();
}

/**
 * Resolves when the caller may start a DynamoDB call: at once (undefined) while this turn's budget lasts and nobody
 * waits, else in a later turn, first come first served. Shared by every store of the process, as the event loop is.
 */
export function callSlot(): Promise<void> | undefined {
  if (startedThisTurn < STARTS_PER_TURN && waiting.length === 0) {
    startedThisTurn++;
    scheduleTurn();
    return undefined;
  }
  scheduleTurn();
  return new Promise<void>((resolve) => waiting.push(resolve));
}
