import { failureReport } from '@shop/devkit/testing';
import { beforeEach } from 'vitest';

// A shop test that fails in CI leaves only its own output behind; the warnings and errors
// its processes logged are what tell a broken sidecar from a broken assertion.
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => {
    const report = failureReport();
    if (report) console.error(`What the shop's processes complained about:\n${report}`);
  });
});
