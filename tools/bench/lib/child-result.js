// Suites run as child processes and hand their figures back as one JSON line on stdout, prefixed so that
// anything else a library prints cannot be mistaken for the result.
const PREFIX = 'BENCH_RESULT ';

function emitResult(result) {
  process.stdout.write(`${PREFIX}${JSON.stringify(result)}\n`);
}

function parseResult(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith(PREFIX));
  if (line === undefined) throw new Error('the suite printed no result');
  return JSON.parse(line.slice(PREFIX.length));
}

/** Runs a suite's main, prints its result, exits non-zero on failure. */
function runSuite(main) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  main().then(
    (result) => {
      emitResult(result);
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

module.exports = { emitResult, parseResult, runSuite };
