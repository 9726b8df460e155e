import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** What a child process saw after a collection with no tick queued (support/tick-shapes-child.js). */
async function childRun(mode: 'engine' | 'adapter-in-context' | 'none'): Promise<{ states: string[]; contextStore: string | undefined }> {
  const child = join(__dirname, 'support', 'tick-shapes-child.js');
  const { stdout } = await promisify(execFile)(process.execPath, ['--allow-natives-syntax', '--expose-gc', child, mode], { maxBuffer: 16 * 1024 * 1024 });
  // process.nextTick's feedback for its tick object's keys, and whether an app context the engine saw was let go.
  const states = [...stdout.matchAll(/DefineKeyedOwnPropertyInLiteral (\w+)/g)].map((match) => match[1]!);
  return { states, contextStore: /CONTEXT_STORE (\w+)/.exec(stdout)?.[1] };
}

describe("process.nextTick's shapes", () => {
  it('turn megamorphic for good in a process that collected garbage while no tick was queued (what the engine prevents)', async () => {
    const { states } = await childRun('none');
    // If this fails, the Node version in use no longer drops the shapes, and keepTickShapes has nothing left to do.
    expect(states).toHaveLength(4);
    expect(states).toContain('MEGAMORPHIC');
  });

  it('stay monomorphic in a process that created a Metering before that collection', async () => {
    expect((await childRun('engine')).states).toEqual(['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC']);
  });

  it('stay monomorphic when an adapter was created inside an AsyncLocalStorage context, which the kept tick does not hold', async () => {
    expect(await childRun('adapter-in-context')).toEqual({ states: ['MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC', 'MONOMORPHIC'], contextStore: 'collected' });
  });
});
