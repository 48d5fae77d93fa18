// Preloaded into a CLI process by tests/cli/failures.test.ts (NODE_OPTIONS=--import): makes the verb's
// final output fail the way BFPGM_TEST_FAULT says, so a non-StudioError travels through every verb
// after its real work (WASM backend started, model run) and must reach the CLI's one error handler.
const mode = process.env.BFPGM_TEST_FAULT;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  if (mode === 'throw') throw new Error('injected fault: stdout is gone');
  if (mode === 'value') throw { injected: 'a thrown object, not an Error' };
  if (mode === 'uncaught') {
    setImmediate(() => {
      throw new TypeError('injected fault outside the promise chain');
    });
    return true;
  }
  if (mode === 'rejection') {
    void Promise.reject(new RangeError('injected unhandled rejection'));
    return true;
  }
  return write(chunk, ...rest);
};
