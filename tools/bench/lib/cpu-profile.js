// Summary of a V8 .cpuprofile (from node --cpu-prof): self time per function, top frames first, and the share
// of samples spent in meterkit, in the framework and its dependencies, and in Node itself.
const { readFileSync } = require('node:fs');

function areaOf(url) {
  if (url === '') return 'v8/native';
  if (url.includes('/packages/') || url.includes('@meterkit/')) return 'meterkit';
  if (url.startsWith('node:')) return 'node';
  if (url.includes('node_modules')) return 'framework and libraries';
  return 'benchmark app';
}

function shortUrl(url) {
  const at = url.lastIndexOf('node_modules/');
  if (at >= 0) return url.slice(at + 'node_modules/'.length);
  const pkg = url.indexOf('/packages/');
  if (pkg >= 0) return url.slice(pkg + 1);
  const tools = url.indexOf('/tools/');
  return tools >= 0 ? url.slice(tools + 1) : url;
}

function frameName(callFrame) {
  return `${callFrame.functionName || '(anonymous)'} ${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}`;
}

function mainCaller(callers) {
  if (callers === undefined) return '';
  return [...callers].sort((a, b) => b[1] - a[1])[0][0];
}

function summarizeProfile(file, top = 12) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const total = profile.samples.length;
  const selfByFrame = new Map();
  const areaByFrame = new Map();
  const byArea = new Map();
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map();
  for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n);
  const callersByFrame = new Map();
  const hits = new Map();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  for (const [id, count] of hits) {
    const { callFrame } = nodes.get(id);
    if (callFrame.functionName === '(idle)' || callFrame.functionName === '(program)' || callFrame.functionName === '(garbage collector)') {
      const name = callFrame.functionName;
      selfByFrame.set(name, (selfByFrame.get(name) ?? 0) + count);
      byArea.set(name, (byArea.get(name) ?? 0) + count);
      continue;
    }
    const frame = frameName(callFrame);
    const parent = parentOf.get(id);
    if (parent !== undefined) {
      const callers = callersByFrame.get(frame) ?? new Map();
      const caller = frameName(parent.callFrame);
      callers.set(caller, (callers.get(caller) ?? 0) + count);
      callersByFrame.set(frame, callers);
    }
    selfByFrame.set(frame, (selfByFrame.get(frame) ?? 0) + count);
    const area = areaOf(callFrame.url);
    areaByFrame.set(frame, area);
    byArea.set(area, (byArea.get(area) ?? 0) + count);
  }
  const busy = total - (selfByFrame.get('(idle)') ?? 0);
  const share = (count) => Math.round((1000 * count) / busy) / 10;
  const ranked = [...selfByFrame].filter(([f]) => f !== '(idle)').sort((a, b) => b[1] - a[1]);
  return {
    samples: total,
    busySamples: busy,
    areas: [...byArea].filter(([a]) => a !== '(idle)').sort((a, b) => b[1] - a[1]).map(([area, count]) => ({ area, percent: share(count) })),
    top: ranked.slice(0, top).map(([frame, count]) => ({ frame, percent: share(count), calledFrom: mainCaller(callersByFrame.get(frame)) })),
    meterkitTop: ranked
      .filter(([f]) => areaByFrame.get(f) === 'meterkit')
      .slice(0, 6)
      .map(([frame, count]) => ({ frame, percent: share(count) })),
  };
}

module.exports = { summarizeProfile };
