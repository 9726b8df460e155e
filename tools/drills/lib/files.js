// Scratch files of a drill run, removed at the end.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'meterkit-drills-'));
let n = 0;

/** A fresh SQLite file path. */
function dbFile(label) {
  return path.join(root, `${label}-${n++}.db`);
}

function removeAll() {
  fs.rmSync(root, { recursive: true, force: true });
}

module.exports = { dbFile, removeAll };
