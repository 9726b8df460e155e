import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** The states of process.nextTick's feedback for its tick object's keys, after a collection with no tick queued. */
async function tickKeyStates(mode: 'engine' | 'none'): Promise<string[]> {
  const child = join(__dirname, 'support', 'tick-shapes-child.js');
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--expose-gc', child, mode], { maxBuffer: 16 * 1024 * 1024 });
  return [...stdout.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1]!);
}

describe("process.nextTick's shapes", () => {
  it('turn megamorphic for good in a process that collected garbage while no tick was queued (what the engine prevents)', async () => {
    const states = await tickKeyStates('none');
    // If this fails, the Node version in use no longer drops the shapes, and keepTickShapes has nothing left to do.
    expect(states).toHaveLength(4);
    expect(states).toContain('MEGAMORPHIC');
  });

  it('stay monomorphic in a process that created a Metering before that collection', async () => {
    expect(await tickKeyStates('engine')).toEqual(['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC']);
  });
});
