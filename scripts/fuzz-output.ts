/**
 * Schemathesis closes on pytest's banner (`==== 4 warnings in 150.04s ====`), which a CI log reader
 * takes for pytest's closing line, one that ran no test; the fuzzer is not the test runner, so its
 * banners are printed as the fuzzer's own lines: `[fuzz] schemathesis: 4 warnings in 150.04s`.
 */
export function relabelBanner(line: string): string {
  const banner = /^=+ (.*\S) =+$/.exec(line.trim());
  return banner ? `[fuzz] schemathesis: ${banner[1]}` : line;
}
