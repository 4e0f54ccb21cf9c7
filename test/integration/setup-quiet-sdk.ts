import { DefaultLogger, Runtime } from '@temporalio/worker';

// Workers in tests log only warnings and errors; state changes would drown the test output.
Runtime.install({ logger: new DefaultLogger('WARN') });
