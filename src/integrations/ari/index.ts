export { CallTracker, type CallReport, type CallTrackerOptions } from './call-tracker';
export { createAriClient, type AriClient, type AriClientOptions, type OriginateRequest, type OriginateResult } from './client';
export { AriError } from './errors';
export { AriEventStream, type AriStreamListeners } from './events';
export * from './types';
export { AnsweringMachineDetector, amdStage, type AmdStage, type AnsweringMachineDetectorOptions } from './amd';
export * from './amd-protocol';
export { ariPrompts, type AriPrompts, type PlayResult } from './prompts';
export { ariBridges, type AriBridges, type AddToBridgeResult, type RemoveFromBridgeResult } from './bridges';
