import { createRequire } from 'node:module';
import type * as proto from '@temporalio/proto';

type History = proto.temporal.api.history.v1.IHistory;

/**
 * A history in Temporal's JSON form (`temporal workflow show --output json`) as the SDK's History.
 * The SDK's own `historyFromJSON` (what `Worker.runReplayHistory` calls on JSON) fails with "type
 * must be a Type" in this install: npm leaves a protobufjs 7 (for @grpc/proto-loader) at the top
 * and gives @temporalio/common, /proto and /worker each their own protobufjs 8, so common's JSON
 * reader does not recognise proto's types. This reads with the protobufjs that @temporalio/proto
 * itself resolves (the same copy when npm ever dedupes them).
 */
const require = createRequire(import.meta.url);
const fromProtoPackage = createRequire(require.resolve('@temporalio/proto'));
const { fromJson } = fromProtoPackage('protobufjs/ext/protojson') as { fromJson(type: unknown, json: unknown, options: object): unknown };
const { patchProtobufRoot } = require('@temporalio/proto/lib/patch-protobuf-root') as {
  patchProtobufRoot(root: unknown): { lookupType(name: string): unknown };
};
const historyType = patchProtobufRoot(require('@temporalio/proto')).lookupType('temporal.api.history.v1.History');

export function historyFromCliJson(json: unknown): History {
  const history = fromJson(historyType, json, { ignoreUnknownFields: true });
  if (!history) throw new TypeError('not a Temporal history');
  return history as History;
}
