import type { World } from './world';

/** Flushes until nothing is left unsettled, moving the clock past retry delays between rounds. */
export async function drainAll(world: World, maxRounds = 40): Promise<number> {
  for (let round = 1; round <= maxRounds; round++) {
    await world.metering.flush();
    const status = await world.metering.status();
    if (status.pending.length === 0) return round;
    world.emu.clock.advance(60_000);
  }
  throw new Error(`usage still unsettled after ${maxRounds} flushes`);
}
