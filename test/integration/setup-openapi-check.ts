import { afterAll, afterEach } from 'vitest';
import { describeDisagreements, takeDisagreements } from '../helpers/openapi-responses';

// Every app the integration tests build checks its responses against /docs/json (test/helpers/app.ts);
// a disagreement fails the test that saw it (beforeAll's are reported with the first test).
function failOnDisagreements(): void {
  const found = takeDisagreements();
  if (found.length) throw new Error(describeDisagreements(found));
}

afterEach(failOnDisagreements);
afterAll(failOnDisagreements);
