import { describe, expect, it } from 'vitest';
import { relabelBanner } from '../../scripts/fuzz-output';

describe('the fuzzer output', () => {
  it("prints Schemathesis' pytest-style banners as the fuzzer's own lines, so no log reader takes them for a test runner's close", () => {
    expect(relabelBanner('============================ 4 warnings in 150.04s =============================')).toBe(
      '[fuzz] schemathesis: 4 warnings in 150.04s',
    );
    expect(relabelBanner('=================================== SUMMARY ====================================')).toBe('[fuzz] schemathesis: SUMMARY');
    expect(relabelBanner('==================== 1 passed, 2 failed in 3.00s ====================')).toBe('[fuzz] schemathesis: 1 passed, 2 failed in 3.00s');
  });

  it('leaves every other line as it is', () => {
    for (const line of [
      'Test cases:',
      '  12703 generated, 12703 passed',
      '',
      '=== not a banner',
      '  ⚠️ Rate limited: 1 operation mostly returned 429 responses',
    ]) {
      expect(relabelBanner(line)).toBe(line);
    }
  });
});
