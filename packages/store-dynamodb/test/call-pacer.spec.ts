import fc from 'fast-check';
import { CallPacer } from '../src/call-pacer';

const STARTS_PER_TURN = 2;

/** Counts turns of the event loop: a chained setImmediate, started before the calls it measures. */
function turnCounter(): { readonly turn: () => number; readonly stop: () => void } {
  let turn = 0;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    turn++;
    setImmediate(tick);
  };
  setImmediate(tick);
  return { turn: () => turn, stop: () => (stopped = true) };
}

/** Asks for `count` call slots now; each grant records its caller's number and the turn it came in. */
function ask(pacer: CallPacer, count: number, first: number, turns: { turn: () => number }, grants: Array<{ caller: number; turn: number }>): Promise<void>[] {
  return Array.from({ length: count }, (_, i) => {
    const caller = first + i;
    const slot = pacer.slot();
    if (slot === undefined) {
      grants.push({ caller, turn: turns.turn() });
      return Promise.resolve();
    }
    return slot.then(() => {
      grants.push({ caller, turn: turns.turn() });
    });
  });
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DynamoDB call pacer', () => {
  it(`lets ${STARTS_PER_TURN} calls start in a turn and the others in the turns after, first come first served`, async () => {
    const turns = turnCounter();
    const grants: Array<{ caller: number; turn: number }> = [];
    await Promise.all(ask(new CallPacer(STARTS_PER_TURN), 9, 0, turns, grants));
    turns.stop();
    expect(grants.map((g) => g.caller)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(grants.filter((g) => g.turn === grants[0]!.turn)).toHaveLength(STARTS_PER_TURN);
    const perTurn = new Map<number, number>();
    for (const { turn } of grants) perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
    expect(Math.max(...perTurn.values())).toBe(STARTS_PER_TURN);
  });

  it('grants every slot, in the order asked, and between two ticks of a turn counter at most two turns\' budgets, however the asks are spread over turns', async () => {
    const seed = Number(process.env.METERKIT_FUZZ_SEED ?? Date.now() % 2_147_483_647);
    console.log(`call pacer property: seed ${seed}`);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: 12 }), { minLength: 1, maxLength: 8 }), async (asksPerTurn) => {
        const pacer = new CallPacer(STARTS_PER_TURN);
        const turns = turnCounter();
        const grants: Array<{ caller: number; turn: number }> = [];
        const pending: Promise<void>[] = [];
        let asked = 0;
        for (const count of asksPerTurn) {
          pending.push(...ask(pacer, count, asked, turns, grants));
          asked += count;
          await nextTurn();
        }
        await Promise.all(pending);
        turns.stop();
        expect(grants.map((g) => g.caller)).toEqual(Array.from({ length: asked }, (_, i) => i));
        const perTurn = new Map<number, number>();
        for (const { turn } of grants) perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
        // A turn of the counter spans at most one turn of the pacer's and part of the next: two budgets.
        for (const count of perTurn.values()) expect(count).toBeLessThanOrEqual(2 * STARTS_PER_TURN);
      }),
      { seed, numRuns: Number(process.env.METERKIT_FUZZ_RUNS ?? 100) },
    );
  });
});
