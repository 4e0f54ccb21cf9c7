import type { WhatsAppTemplate } from './contract';
import { defaultConfig, mergeConfig, type ConfigUpdate, type SimulatorConfig } from './config';
import { inboundBodySchema, resetBodySchema, type InboundReply, type ResetOptions } from './control';
import { compileConfig, createSendHandler, type CompiledConfig, type SendOutcome } from './messages';
import { recipientDigits, waIdFor } from './numbers';
import { PairLimiter, ThroughputLimiter } from './rate-limits';
import { randomSlice } from './random-pool';
import { SendStats } from './stats';
import { TemplateStore, type TemplateInput, type TemplatePage } from './template-store';
import { WebhookDispatcher } from './webhook-dispatcher';

export interface CoreOptions {
  config?: ConfigUpdate;
  templates?: TemplateInput[];
  /** Clock of the rate limits (tests move it instead of waiting); webhooks use real time. */
  now?: () => number;
  /** Source of the fractions (injections, duplicates…); Math.random by default. */
  random?: () => number;
}

/** The simulator's state and operations, without HTTP: the server and tests both drive it. */
export class SimulatorCore {
  private readonly initialConfig: SimulatorConfig;
  private readonly initialTemplates: TemplateInput[];
  private compiled: CompiledConfig;
  private readonly stats = new SendStats();
  private readonly templates = new TemplateStore();
  private readonly throughput = new ThroughputLimiter();
  private readonly pairs = new PairLimiter();
  readonly webhooks: WebhookDispatcher;
  private readonly handleSend: (phoneNumberId: string, body: never) => SendOutcome;

  constructor(options: CoreOptions = {}) {
    this.initialConfig = mergeConfig(defaultConfig(), options.config ?? {});
    this.initialTemplates = options.templates ?? [];
    this.compiled = compileConfig(this.initialConfig);
    this.templates.set(this.initialTemplates);
    this.webhooks = new WebhookDispatcher(() => this.compiled.config);
    this.handleSend = createSendHandler({
      compiled: () => this.compiled,
      templates: this.templates,
      throughput: this.throughput,
      pairs: this.pairs,
      stats: this.stats,
      webhooks: this.webhooks,
      now: options.now ?? Date.now,
      random: options.random ?? Math.random,
    });
  }

  get config(): SimulatorConfig {
    return this.compiled.config;
  }

  send(phoneNumberId: string, body: unknown): SendOutcome {
    return this.handleSend(phoneNumberId, body as never);
  }

  /** Validates and merges (throws a ZodError); setting `injections` restarts their hit counts. */
  configure(update: ConfigUpdate | unknown): SimulatorConfig {
    const next = mergeConfig(this.compiled.config, update);
    this.compiled = compileConfig(next);
    if ((update as ConfigUpdate)?.injections !== undefined) this.stats.injectionHits = [];
    return next;
  }

  listTemplates(): WhatsAppTemplate[] {
    return this.templates.list();
  }

  setTemplates(templates: readonly unknown[], merge = false): void {
    this.templates.set(templates, merge);
  }

  setTemplateStatus(name: string, language: string, status: string): boolean {
    return this.templates.setStatus(name, language, status);
  }

  templatePage(options: Parameters<TemplateStore['page']>[0]): TemplatePage {
    return this.templates.page(options);
  }

  snapshot(detail = true) {
    return { ...this.stats.snapshot(detail), busiestSecond: this.throughput.busiestSecond(), webhooks: this.webhooks.stats() };
  }

  /** A user's message (e.g. "SAIR") as an inbound-message webhook; returns its wamid. */
  inbound(reply: InboundReply): string {
    const { from, text, phoneNumberId, name, replyTo } = inboundBodySchema.parse(reply);
    const waId = waIdFor(recipientDigits(from) ?? from, this.compiled.waIdWithoutNinthDigit);
    const id = `wamid.${randomSlice(18).toString('base64')}`;
    const display = this.compiled.config.displayPhoneNumbers[phoneNumberId];
    this.stats.inbound++;
    this.webhooks.sendChange(
      phoneNumberId,
      {
        contacts: [{ profile: { name: name ?? 'Cliente' }, wa_id: waId }],
        messages: [
          {
            ...(replyTo ? { context: { from: display, id: replyTo } } : {}),
            from: waId,
            id,
            timestamp: String(Math.floor(Date.now() / 1000)),
            type: 'text',
            text: { body: text },
          },
        ],
      },
      1,
    );
    return id;
  }

  /** Clears counts, rate windows and pending webhooks; optionally the start-up config and templates too. */
  reset(options: ResetOptions = {}): void {
    const { config, templates } = resetBodySchema.parse(options);
    this.stats.clear();
    this.throughput.clear();
    this.pairs.clear();
    this.webhooks.clear();
    if (config) this.compiled = compileConfig(this.initialConfig);
    if (templates) this.templates.set(this.initialTemplates);
  }
}
