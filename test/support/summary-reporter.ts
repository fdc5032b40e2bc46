import type { Reporter, TestCase, TestModule } from 'vitest/node';

/**
 * Prints the closing line CI counts tests by: "N passed, N failed" (plus skips).
 * A file that fails to load counts as one failure so it cannot vanish silently.
 * Vitest marks the tests of a suite whose beforeAll threw as skipped (a cluster that
 * did not start, say); they count as failed here, or the failure would read as a
 * harmless skip. A file failed by anything else (an afterAll) counts one failure.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed' || inFailedSuite(test)) failedHere += 1;
        else skipped += 1;
      }
      if (module.state() === 'failed' && failedHere === 0) failedHere = 1;
      failed += failedHere;
    }
    failed += unhandledErrors.length;
    const skippedPart = skipped > 0 ? `, ${skipped} skipped` : '';
    process.stdout.write(`\n${passed} passed, ${failed} failed${skippedPart}\n`);
  }
}

/** The test was to run but did not, because a suite (or the file) around it failed: a hook threw. */
function inFailedSuite(test: TestCase): boolean {
  // it.skip, it.todo and tests left out by -t are not to run.
  if (test.options.mode !== 'run' && test.options.mode !== 'only') return false;
  for (let parent = test.parent; ; parent = parent.parent) {
    if (parent.state() === 'failed') return true;
    if (parent.type === 'module') return false;
  }
}
