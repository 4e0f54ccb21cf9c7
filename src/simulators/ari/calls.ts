import { DIALPLAN_AMD_DONE_ARG, DIALPLAN_APP_VARIABLE, HANGUP_REASONS, type Channel, type ChannelState, type HangupReason } from './contract';
import { causeOfHangupReason, causeTxt } from './causes';
import { defaultCauseOf, type MixEntry, type SimConfig } from './config';
import { asteriskTime, parseCallerId, parseEndpoint } from './format';
import { between, hashSeed, pickWeighted, seededRandom, type Random } from './random';

/** Originate parameters as strings, the way they arrive in the query (or the JSON body). */
export interface OriginateParams {
  endpoint?: string;
  app?: string;
  appArgs?: string;
  extension?: string;
  context?: string;
  priority?: string;
  callerId?: string;
  timeout?: string;
  channelId?: string;
  variables?: Record<string, string>;
}

export type Answer<T> = { status: 200 | 204; body?: T } | { status: 400 | 404 | 409 | 422 | 500; message: string };

/** Sends one event to the WebSocket subscribed to `app`. */
export type Publish = (app: string, event: Record<string, unknown>) => void;

interface LiveCall {
  channel: Channel;
  /** The dialled number (what outcome and keypad rules match). */
  number: string;
  app: string | undefined;
  /** Other applications subscribed to the channel (`POST /ari/applications/{app}/subscription`). */
  subscribers: Set<string>;
  appArgs: string[];
  inStasis: boolean;
  timers: Set<NodeJS.Timeout>;
  plan: Plan;
}

/** What the simulated call will do, decided when it is placed. */
interface Plan {
  answers: boolean;
  cause: number;
  ringMs: number;
  talkMs: number;
  /** Answered by a machine: what `AMD()` reports, if the call is sent through it. */
  machine: boolean;
  amdMs: number;
}

/** What the playback and keypad simulation may do with a live call. */
export interface CallHandle {
  channel: Channel;
  number: string;
  inStasis(): boolean;
  /** The Stasis application the channel reports to. */
  app(): string | undefined;
  /** Sends a channel event about this call to its application (the channel added). */
  emit(type: string, fields?: Record<string, unknown>): void;
  /** Sends an event to the call's application as is (Playback events carry the playback, not the channel). */
  emitToApp(type: string, fields: Record<string, unknown>): void;
  /** Runs `action` after `ms` unless the call ends first. */
  after(ms: number, action: () => void): void;
  /** The person hangs up (normal clearing). */
  hangUp(): void;
}

/** A `POST /ari/channels/{id}/continue` the simulator carried out (the AMD context's included). */
export interface DialplanContinue {
  channelId: string;
  context: string;
  extension: string;
  priority: number;
  at: string;
}

export interface CallStats {
  originatesAccepted: number;
  /** 409s: a live channel already had the requested id. */
  duplicatesRefused: number;
  /** Injected 500s, with or without the call placed. */
  originatesFailed: number;
  /** Channel ids whose originate was accepted more than once (a second real call). */
  reoriginated: string[];
  /** Accepted originates per dialled number. */
  perNumber: Record<string, number>;
  callsActive: number;
  maxConcurrent: number;
  hangupsRequested: number;
  /** Destroyed channels per Q.850 cause. */
  byCause: Record<string, number>;
}

/**
 * The simulated Asterisk: owns the live channels and plays each call's life
 * (Down → Ringing → Up → hangup, or Ringing → failure cause) through `publish`.
 */
export class CallSimulator {
  private readonly live = new Map<string, LiveCall>();
  private readonly acceptedById = new Map<string, number>();
  private readonly perNumber = new Map<string, number>();
  private readonly byCause = new Map<number, number>();
  private counters = { accepted: 0, duplicates: 0, failed: 0, hangups: 0, maxConcurrent: 0, sequence: 0 };
  private faultRandom: Random;

  constructor(
    private readonly config: () => SimConfig,
    private readonly publish: Publish,
    /** Events only `subscribeAll` listeners receive (Asterisk subscribes the originating app after creating the channel). */
    private readonly publishToAll: (event: Record<string, unknown>) => void = () => undefined,
  ) {
    this.faultRandom = seededRandom(config().seed);
  }

  originate(params: OriginateParams): Answer<Channel> {
    const config = this.config();
    if (!params.endpoint) return { status: 400, message: 'Endpoint must be specified' };
    const endpoint = parseEndpoint(params.endpoint);
    if (!endpoint) return { status: 400, message: 'Invalid endpoint' };
    if (!params.app && !params.extension) {
      return { status: 400, message: 'Application or extension must be specified' };
    }
    const timeoutSec = params.timeout === undefined || params.timeout === '' ? 30 : Number(params.timeout);
    if (!Number.isInteger(timeoutSec)) return { status: 400, message: 'Invalid timeout' };
    if (params.channelId && this.live.has(params.channelId)) {
      this.counters.duplicates++;
      return { status: 409, message: 'Channel with given unique ID already exists' };
    }
    const { originateErrorRate, originateLostResponseRate } = config.faults;
    if (this.faultRandom() < originateErrorRate) {
      this.counters.failed++;
      return { status: 500, message: 'Internal Server Error' };
    }

    const now = new Date();
    const sequence = ++this.counters.sequence;
    const id = params.channelId || `${Math.floor(now.getTime() / 1000)}.${sequence}`;
    const channel: Channel = {
      id,
      name: `${endpoint.technology}/${endpoint.peer}-${sequence.toString(16).padStart(8, '0')}`,
      state: 'Down',
      caller: parseCallerId(params.callerId),
      connected: { name: '', number: endpoint.number },
      accountcode: '',
      dialplan: {
        context: params.context ?? 'default',
        exten: params.extension ?? 's',
        priority: Number(params.priority ?? 1) || 1,
        app_name: '',
        app_data: '',
      },
      creationtime: asteriskTime(now),
      language: 'en',
      ...(params.variables ? { channelvars: params.variables } : {}),
    };
    const call: LiveCall = {
      channel,
      number: endpoint.number,
      app: params.app || undefined,
      subscribers: new Set(),
      appArgs: params.appArgs ? params.appArgs.split(',') : [],
      inStasis: false,
      timers: new Set(),
      plan: this.plan(endpoint.number, id),
    };
    this.live.set(id, call);
    this.publishToAll({ type: 'ChannelCreated', channel });
    this.count(this.acceptedById, id);
    this.count(this.perNumber, endpoint.number);
    this.counters.accepted++;
    this.counters.maxConcurrent = Math.max(this.counters.maxConcurrent, this.live.size);
    this.play(call, call.plan, timeoutSec);

    if (this.faultRandom() < originateLostResponseRate) {
      this.counters.failed++;
      return { status: 500, message: 'Internal Server Error' };
    }
    return { status: 200, body: channel };
  }

  get(channelId: string): Answer<Channel> {
    const call = this.live.get(channelId);
    return call ? { status: 200, body: call.channel } : { status: 404, message: 'Channel not found' };
  }

  list(): Channel[] {
    return [...this.live.values()].map((call) => call.channel);
  }

  hangup(channelId: string, reason: string | undefined, reasonCode: string | undefined): Answer<never> {
    let cause = causeOfHangupReason.normal;
    if (reasonCode !== undefined && reasonCode !== '') {
      cause = Number(reasonCode);
      if (!Number.isInteger(cause) || cause < 0 || cause > 127) {
        return { status: 400, message: 'Invalid reason for hangup provided' };
      }
    } else if (reason !== undefined && reason !== '') {
      if (!(HANGUP_REASONS as readonly string[]).includes(reason)) {
        return { status: 400, message: 'Invalid reason for hangup provided' };
      }
      cause = causeOfHangupReason[reason as HangupReason];
    }
    const call = this.live.get(channelId);
    if (!call) return { status: 404, message: 'Channel not found' };
    this.counters.hangups++;
    this.end(call, cause, { soft: true });
    return { status: 204 };
  }

  /**
   * `POST /ari/channels/{id}/continue`: the channel leaves Stasis for the dialplan. The AMD context
   * plays `AMD()` (setting AMDSTATUS and AMDCAUSE) and then `Stasis(${OMNI_APP},amd-done)`; any
   * other context just keeps the call going until it ends.
   */
  continueInDialplan(channelId: string, context: string | undefined, extension: string | undefined, priority: string | undefined): Answer<never> {
    const call = this.live.get(channelId);
    if (!call) return { status: 404, message: 'Channel not found' };
    if (!call.inStasis) return { status: 409, message: 'Channel not in Stasis application' };
    call.inStasis = false;
    this.emit(call, 'StasisEnd');
    const target = context ?? call.channel.dialplan.context;
    call.channel.dialplan = { context: target, exten: extension ?? 's', priority: Number(priority ?? 1) || 1, app_name: '', app_data: '' };
    this.continues.push({
      channelId,
      context: target,
      extension: call.channel.dialplan.exten,
      priority: call.channel.dialplan.priority,
      at: new Date().toISOString(),
    });
    if (target === this.config().amdContext) {
      call.channel.dialplan = { ...call.channel.dialplan, app_name: 'AMD', app_data: '' };
      this.after(call, call.plan.amdMs, () => {
        const vars = call.channel.channelvars ?? {};
        call.channel.channelvars = call.plan.machine
          ? { ...vars, AMDSTATUS: 'MACHINE', AMDCAUSE: `LONGGREETING-${call.plan.amdMs}-1500` }
          : { ...vars, AMDSTATUS: 'HUMAN', AMDCAUSE: `HUMAN-${call.plan.amdMs}-500` };
        const app = vars[DIALPLAN_APP_VARIABLE] || call.app;
        if (!app) return;
        call.app = app;
        call.inStasis = true;
        call.channel.dialplan = {
          ...call.channel.dialplan,
          priority: call.channel.dialplan.priority + 1,
          app_name: 'Stasis',
          app_data: `${app},${DIALPLAN_AMD_DONE_ARG}`,
        };
        this.emit(call, 'StasisStart', { args: [DIALPLAN_AMD_DONE_ARG] });
      });
    }
    return { status: 204 };
  }

  /** `GET /ari/channels/{id}/variable?variable=NAME`: 200 `{ value }`; 404 when the channel or the variable is not there. */
  getVariable(channelId: string, variable: string | undefined): Answer<{ value: string }> {
    if (!variable) return { status: 400, message: 'Missing variable parameter.' };
    const call = this.live.get(channelId);
    if (!call) return { status: 404, message: 'Channel or variable not found' };
    if (!call.inStasis) return { status: 409, message: 'Channel not in Stasis application' };
    const value = call.channel.channelvars?.[variable];
    return value === undefined ? { status: 404, message: 'Provided variable was not found' } : { status: 200, body: { value } };
  }

  /**
   * `POST /ari/applications/{app}/subscription?eventSource=channel:{id}`: `app` receives the channel's
   * events too (422 when the channel does not exist, as Asterisk's "Event source does not exist").
   */
  subscribe(app: string, channelId: string): Answer<never> {
    const call = this.live.get(channelId);
    if (!call) return { status: 422, message: 'Event source does not exist' };
    if (app !== call.app) call.subscribers.add(app);
    return { status: 204 };
  }

  /** Every continue into the dialplan, in order (of one channel, if given). */
  dialplanContinues(channelId?: string): DialplanContinue[] {
    return channelId ? this.continues.filter((c) => c.channelId === channelId) : [...this.continues];
  }

  private continues: DialplanContinue[] = [];

  /** A live call for the playback simulation, or undefined when the channel does not exist. */
  handle(channelId: string): CallHandle | undefined {
    const call = this.live.get(channelId);
    if (!call) return undefined;
    return {
      channel: call.channel,
      number: call.number,
      inStasis: () => call.inStasis && this.live.get(channelId) === call,
      app: () => call.app,
      emit: (type, fields) => this.emit(call, type, fields),
      emitToApp: (type, fields) => {
        for (const app of this.appsOf(call)) this.publish(app, { type, ...fields });
      },
      after: (ms, action) => this.after(call, ms, action),
      hangUp: () => this.end(call, 16, {}),
    };
  }

  /** Called with the channel id just before a call leaves Stasis and is destroyed. */
  onEnding(listener: (channelId: string) => void): void {
    this.endingListeners.push(listener);
  }

  private readonly endingListeners: ((channelId: string) => void)[] = [];

  acceptedOriginates(channelId: string): number {
    return this.acceptedById.get(channelId) ?? 0;
  }

  stats(): CallStats {
    return {
      originatesAccepted: this.counters.accepted,
      duplicatesRefused: this.counters.duplicates,
      originatesFailed: this.counters.failed,
      reoriginated: [...this.acceptedById].filter(([, n]) => n > 1).map(([id]) => id),
      perNumber: Object.fromEntries(this.perNumber),
      callsActive: this.live.size,
      maxConcurrent: this.counters.maxConcurrent,
      hangupsRequested: this.counters.hangups,
      byCause: Object.fromEntries(this.byCause),
    };
  }

  /** Forgets every call (silently: no events) and every count; reseeds the randomness. */
  reset(): void {
    this.stop();
    this.acceptedById.clear();
    this.perNumber.clear();
    this.byCause.clear();
    this.continues = [];
    this.counters = { accepted: 0, duplicates: 0, failed: 0, hangups: 0, maxConcurrent: 0, sequence: 0 };
    this.reseed();
  }

  /** Restarts the fault randomness from the configured seed. */
  reseed(): void {
    this.faultRandom = seededRandom(this.config().seed);
  }

  /** Cancels every pending timer; live calls vanish without events. */
  stop(): void {
    for (const call of this.live.values()) call.timers.forEach(clearTimeout);
    this.live.clear();
  }

  private plan(number: string, channelId: string): Plan {
    const config = this.config();
    // Per-call stream: the same seed, id and attempt always play the same call.
    const random = seededRandom(hashSeed(config.seed, `${channelId}#${this.acceptedOriginates(channelId)}`));
    if (this.pattern(config.agents.match).test(number)) return this.agentPlan(number, random);
    const rule = config.rules.find((r) => this.pattern(r.match).test(number));
    const entry: MixEntry = pickWeighted(random, rule?.mix ?? config.defaultMix) ?? { outcome: 'answered', weight: 1 };
    const answers = entry.outcome === 'answered' || (entry.outcome === undefined && entry.cause === 16);
    const cause = entry.cause ?? defaultCauseOf[entry.outcome ?? 'answered'];
    const ringMs = between(random, config.ringMs);
    const talkMs = between(random, rule?.talkMs ?? config.talkMs);
    // Drawn after the durations so adding machines leaves every other call exactly as it was.
    const machine = answers && random() < (rule?.machineShare ?? config.machineShare);
    return { answers, cause, ringMs, talkMs, machine, amdMs: between(random, config.amdMs) };
  }

  /** An agent's phone: always answered by a person (no machine), unless that phone is set not to answer. */
  private agentPlan(resource: string, random: Random): Plan {
    const { agents } = this.config();
    const own = agents.endpoints[resource] ?? {};
    const answers = own.answers ?? true;
    return {
      answers,
      cause: answers ? 16 : 19,
      ringMs: answers ? between(random, own.answerMs ?? agents.answerMs) : 2 ** 31 - 1,
      talkMs: between(random, own.talkMs ?? agents.talkMs),
      machine: false,
      amdMs: 0,
    };
  }

  private play(call: LiveCall, plan: Plan, timeoutSec: number): void {
    this.after(call, 0, () => this.changeState(call, 'Ringing'));
    const timeoutMs = timeoutSec > 0 ? timeoutSec * 1000 : Infinity;
    if (plan.ringMs >= timeoutMs) {
      // Nobody picked up before the originate's timeout: Asterisk gives up with "no answer".
      this.after(call, timeoutMs, () => this.end(call, 19));
      return;
    }
    if (!plan.answers) {
      this.after(call, plan.ringMs, () => this.end(call, plan.cause));
      return;
    }
    this.after(call, plan.ringMs, () => {
      this.changeState(call, 'Up');
      if (call.app) {
        call.inStasis = true;
        call.channel.dialplan = { ...call.channel.dialplan, app_name: 'Stasis', app_data: [call.app, ...call.appArgs].join(',') };
        this.emit(call, 'StasisStart', { args: call.appArgs });
      }
      this.after(call, plan.talkMs, () => this.end(call, plan.cause, {}));
    });
  }

  private changeState(call: LiveCall, state: ChannelState): void {
    call.channel.state = state;
    this.emit(call, 'ChannelStateChange');
  }

  /** Hangup: optional request notice, leaving Stasis, then destruction with the cause. */
  private end(call: LiveCall, cause: number, hangupRequest?: { soft?: boolean }): void {
    if (this.live.get(call.channel.id) !== call) return;
    call.timers.forEach(clearTimeout);
    call.timers.clear();
    if (hangupRequest) this.emit(call, 'ChannelHangupRequest', { cause, ...hangupRequest });
    for (const listener of this.endingListeners) listener(call.channel.id);
    if (call.inStasis) {
      call.inStasis = false;
      this.emit(call, 'StasisEnd');
    }
    this.live.delete(call.channel.id);
    this.count(this.byCause, cause);
    this.emit(call, 'ChannelDestroyed', { cause, cause_txt: causeTxt(cause) });
  }

  private emit(call: LiveCall, type: string, fields: Record<string, unknown> = {}): void {
    for (const app of this.appsOf(call)) this.publish(app, { type, ...fields, channel: call.channel });
  }

  /** The call's own application and those subscribed to it. */
  private appsOf(call: LiveCall): string[] {
    return call.app ? [call.app, ...call.subscribers] : [...call.subscribers];
  }

  private after(call: LiveCall, ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      call.timers.delete(timer);
      action();
    }, ms);
    call.timers.add(timer);
  }

  private readonly patterns = new Map<string, RegExp>();

  private pattern(source: string): RegExp {
    let compiled = this.patterns.get(source);
    if (!compiled) this.patterns.set(source, (compiled = new RegExp(source)));
    return compiled;
  }

  private count<K>(map: Map<K, number>, key: K): void {
    map.set(key, (map.get(key) ?? 0) + 1);
  }
}
