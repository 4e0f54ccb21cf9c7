import { z } from 'zod';

/**
 * An IVR flow (fluxo de URA ativa) as data: nodes that play prompts, collect keys, tag the attempt,
 * opt the phone out, transfer or hang up. The zod schema checks the shape; `validateFlow` checks the
 * graph and the media (what a supervisor gets back as 422, one problem per node). Pure.
 */

const nodeId = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -, at most 64')
  .describe('Node id, unique in the flow; the reports show it as the node name');

/** A key a caller can press (ARI `ChannelDtmfReceived.digit`). */
export const DTMF_DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', 'A', 'B', 'C', 'D'] as const;

const mediaList = z
  .array(z.string().max(300))
  .min(1)
  .max(20)
  .describe('Media played in order: `sound:<name>`, `digits:<digits|{{field}}>`, `number:<integer|{{field}}>`, `recording:<name>`');

/** A node may be entered at most `maxVisits` times; one visit more goes to `onMaxVisits` (bounds a loop). */
const visitLimit = {
  maxVisits: z.number().int().min(1).max(20).optional(),
  onMaxVisits: nodeId.optional(),
};

const playNode = z.object({
  id: nodeId,
  type: z.literal('play'),
  media: mediaList,
  interruptible: z.boolean().default(false).describe('A key pressed stops the prompt and goes to `next`'),
  next: nodeId,
  ...visitLimit,
});

const menuNode = z.object({
  id: nodeId,
  type: z.literal('menu'),
  prompt: mediaList,
  maxDigits: z.number().int().min(1).max(20).default(1).describe('Keys collected; with more than one, `#` ends the entry early'),
  timeoutSec: z.number().min(1).max(60).default(5).describe('Seconds to wait for a key after the prompt (and between keys)'),
  retries: z.number().int().min(0).max(5).default(2).describe('Times the prompt is played again after a timeout or an invalid entry'),
  invalidPrompt: mediaList.optional().describe('Played before the prompt is repeated after an invalid entry'),
  branches: z
    .record(z.string().regex(/^[0-9*#A-D]{1,20}$/, 'keys 0-9, *, #, A-D'), nodeId)
    .refine((b) => Object.keys(b).length > 0, 'at least one branch')
    .describe('Entry (keys pressed) → node'),
  onTimeout: nodeId.describe('Where the call goes when no key is pressed after the last retry'),
  onInvalid: nodeId.describe('Where the call goes when the last entry matches no branch'),
  ...visitLimit,
});

const setNode = z.object({
  id: nodeId,
  type: z.literal('set'),
  disposition: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/, 'lower-case letters, digits and _')
    .describe('Disposition recorded on the attempt, e.g. `boleto_enviado`'),
  next: nodeId,
  ...visitLimit,
});

const optOutNode = z.object({
  id: nodeId,
  type: z.literal('opt_out'),
  next: nodeId,
  ...visitLimit,
});

export const transferTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('campaign_agent') }).describe("An available agent of the campaign's"),
  z
    .object({
      kind: z.literal('dialplan'),
      context: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/),
      extension: z.string().regex(/^[A-Za-z0-9_*#+-]{1,80}$/),
      priority: z.number().int().min(1).max(1000).default(1),
    })
    .describe('A dialplan context/extension (a queue outside the dialer)'),
]);
export type TransferTarget = z.infer<typeof transferTargetSchema>;

const transferNode = z.object({
  id: nodeId,
  type: z.literal('transfer_agent'),
  target: transferTargetSchema,
  noAgent: nodeId.optional().describe('Where the call goes when no agent takes it; without it the call is hung up'),
  ...visitLimit,
});

const hangupNode = z.object({ id: nodeId, type: z.literal('hangup'), ...visitLimit });

export const ivrNodeSchema = z.discriminatedUnion('type', [playNode, menuNode, setNode, optOutNode, transferNode, hangupNode]);
export type IvrNode = z.infer<typeof ivrNodeSchema>;
export type IvrNodeInput = z.input<typeof ivrNodeSchema>;
export type MenuNode = z.infer<typeof menuNode>;

export const ivrFlowDefinitionSchema = z.object({
  start: nodeId.describe('The node a call enters first'),
  nodes: z.array(ivrNodeSchema).min(1).max(200),
});
export type IvrFlowDefinition = z.infer<typeof ivrFlowDefinitionSchema>;
export type IvrFlowDefinitionInput = z.input<typeof ivrFlowDefinitionSchema>;

export type IvrProblemCode =
  | 'START_NODE_MISSING'
  | 'DUPLICATE_NODE'
  | 'UNKNOWN_TARGET'
  | 'UNREACHABLE'
  | 'NEVER_ENDS'
  | 'UNBOUNDED_LOOP'
  | 'MEDIA_INVALID'
  | 'VISIT_LIMIT_INCOMPLETE';

/** Why a flow cannot be saved; `node` is null for a problem of the flow as a whole. */
export interface IvrFlowProblem {
  node: string | null;
  code: IvrProblemCode;
  message: string;
}

const VARIABLE = /^\{\{([A-Za-z_][A-Za-z0-9_]{0,63})\}\}$/;
const MEDIA_RULES: Record<string, RegExp> = {
  sound: /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/,
  recording: /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/,
  digits: /^[0-9*#]{1,40}$/,
  number: /^-?\d{1,15}$/,
};

/** Why a media URI is not well formed, or undefined when it is. Variables are allowed in `digits:` and `number:`. */
export function mediaProblem(uri: string): string | undefined {
  const colon = uri.indexOf(':');
  const scheme = colon > 0 ? uri.slice(0, colon) : '';
  const rest = uri.slice(colon + 1);
  const rule = MEDIA_RULES[scheme];
  if (!rule) return `"${uri}": media must start with sound:, digits:, number: or recording:`;
  if ((scheme === 'digits' || scheme === 'number') && VARIABLE.test(rest)) return undefined;
  if (!rule.test(rest)) {
    const what = { sound: 'a sound name', recording: 'a recording name', digits: 'digits (0-9, *, #)', number: 'an integer' }[scheme];
    return `"${uri}": ${scheme}: needs ${what} or, for digits:/number:, a {{field}}`;
  }
  return undefined;
}

/** The nodes a node can go to, with the reason of each edge (for messages). */
export function successors(node: IvrNode): { to: string; via: string }[] {
  const out: { to: string; via: string }[] = [];
  switch (node.type) {
    case 'play':
    case 'set':
    case 'opt_out':
      out.push({ to: node.next, via: 'next' });
      break;
    case 'menu':
      for (const [keys, to] of Object.entries(node.branches)) out.push({ to, via: `key ${keys}` });
      out.push({ to: node.onTimeout, via: 'onTimeout' }, { to: node.onInvalid, via: 'onInvalid' });
      break;
    case 'transfer_agent':
      if (node.noAgent) out.push({ to: node.noAgent, via: 'noAgent' });
      break;
    case 'hangup':
      break;
  }
  if (node.onMaxVisits) out.push({ to: node.onMaxVisits, via: 'onMaxVisits' });
  return out;
}

/** Nodes that end a call's time in the flow. */
const isTerminal = (node: IvrNode) => node.type === 'hangup' || node.type === 'transfer_agent';

/** Every problem of a flow, in node order; empty when it may be saved. */
export function validateFlow(flow: IvrFlowDefinition): IvrFlowProblem[] {
  const problems: IvrFlowProblem[] = [];
  const byId = new Map<string, IvrNode>();
  for (const node of flow.nodes) {
    if (byId.has(node.id)) problems.push({ node: node.id, code: 'DUPLICATE_NODE', message: `Node id "${node.id}" is used more than once` });
    else byId.set(node.id, node);
  }
  if (!byId.has(flow.start)) {
    problems.push({ node: null, code: 'START_NODE_MISSING', message: `The start node "${flow.start}" is not a node of the flow` });
  }
  for (const node of byId.values()) {
    for (const { to, via } of successors(node)) {
      if (!byId.has(to)) problems.push({ node: node.id, code: 'UNKNOWN_TARGET', message: `${via} goes to "${to}", which is not a node of the flow` });
    }
    if ((node.maxVisits === undefined) !== (node.onMaxVisits === undefined)) {
      problems.push({ node: node.id, code: 'VISIT_LIMIT_INCOMPLETE', message: 'maxVisits and onMaxVisits go together' });
    }
    for (const uri of mediaOf(node)) {
      const why = mediaProblem(uri);
      if (why) problems.push({ node: node.id, code: 'MEDIA_INVALID', message: why });
    }
  }
  const edges = (id: string) => successors(byId.get(id) as IvrNode).filter((e) => byId.has(e.to));

  const reachable = new Set<string>();
  const stack = byId.has(flow.start) ? [flow.start] : [];
  while (stack.length > 0) {
    const id = stack.pop() as string;
    if (reachable.has(id)) continue;
    reachable.add(id);
    for (const e of edges(id)) stack.push(e.to);
  }
  if (byId.has(flow.start)) {
    for (const id of byId.keys()) {
      if (!reachable.has(id)) problems.push({ node: id, code: 'UNREACHABLE', message: `No path from the start node "${flow.start}" reaches this node` });
    }
  }

  // A node "ends" when some path from it reaches a hangup or a transfer: fixed point backwards.
  const ends = new Set<string>([...byId.values()].filter(isTerminal).map((n) => n.id));
  for (let changed = true; changed; ) {
    changed = false;
    for (const id of byId.keys()) {
      if (!ends.has(id) && edges(id).some((e) => ends.has(e.to))) {
        ends.add(id);
        changed = true;
      }
    }
  }
  for (const id of byId.keys()) {
    if (!ends.has(id)) problems.push({ node: id, code: 'NEVER_ENDS', message: 'No path from this node reaches a hangup or a transfer' });
  }

  for (const cycle of unboundedCycles(byId, edges)) {
    for (const id of cycle) {
      problems.push({ node: id, code: 'UNBOUNDED_LOOP', message: `In a loop (${cycle.join(' → ')}) with no node limited by maxVisits` });
    }
  }
  const order = new Map(flow.nodes.map((n, i) => [n.id, i]));
  return problems.sort((a, b) => (a.node === null ? -1 : b.node === null ? 1 : (order.get(a.node) ?? 0) - (order.get(b.node) ?? 0)));
}

/** Every media URI a node plays. */
export function mediaOf(node: IvrNode): string[] {
  if (node.type === 'play') return node.media;
  if (node.type === 'menu') return [...node.prompt, ...(node.invalidPrompt ?? [])];
  return [];
}

/**
 * Strongly connected components (Tarjan) that form a loop with no visit-limited node: such a loop
 * could keep a caller forever. A loop through a limited node ends, since the limit's exit edge is
 * itself checked for ending (NEVER_ENDS) and the interpreter counts visits.
 */
function unboundedCycles(byId: Map<string, IvrNode>, edges: (id: string) => { to: string }[]): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const out: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const { to } of edges(v)) {
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v) as number, low.get(to) as number));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v) as number, index.get(to) as number));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const looped = component.length > 1 || edges(v).some((e) => e.to === v);
      if (looped && !component.some((id) => isVisitLimited(byId.get(id)))) out.push(component.reverse());
    }
  };
  for (const id of byId.keys()) if (!index.has(id)) visit(id);
  return out;
}

/** Contact custom fields a flow speaks (`{{field}}` in its media). */
export function flowVariables(flow: IvrFlowDefinition): string[] {
  const names = new Set<string>();
  for (const node of flow.nodes) {
    for (const uri of mediaOf(node)) {
      const m = VARIABLE.exec(uri.slice(uri.indexOf(':') + 1));
      if (m) names.add(m[1] as string);
    }
  }
  return [...names].sort();
}

/**
 * A media URI with its `{{field}}` replaced by the contact's value, or undefined when the value is
 * missing or cannot be spoken (the prompt then skips that media rather than say nonsense).
 * `number:` of an amount takes its whole part ("1.234,56" → 1234; Brazilian or plain decimals).
 */
export function renderMedia(uri: string, fields: Readonly<Record<string, string | undefined>>): string | undefined {
  const colon = uri.indexOf(':');
  const scheme = uri.slice(0, colon);
  const m = VARIABLE.exec(uri.slice(colon + 1));
  if (!m) return uri;
  const raw = (fields[m[1] as string] ?? '').trim();
  if (scheme === 'digits') {
    const digits = raw.replace(/[\s.\-/()]/g, '');
    return /^[0-9*#]{1,40}$/.test(digits) ? `digits:${digits}` : undefined;
  }
  const whole = wholeNumber(raw);
  return whole === undefined ? undefined : `number:${whole}`;
}

function wholeNumber(raw: string): string | undefined {
  const s = raw.replace(/^R\$\s*/, '').replace(/\s/g, '');
  let m = /^(-?)(\d{1,3}(?:\.\d{3})+|\d+)(?:,\d+)?$/.exec(s); // 1.234,56 or 1234,56
  if (m) return `${m[1]}${(m[2] as string).replace(/\./g, '')}`.replace(/^(-?)0+(?=\d)/, '$1');
  m = /^(-?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$/.exec(s); // 1,234.56 or 1234.56
  if (m) return `${m[1]}${(m[2] as string).replace(/,/g, '')}`.replace(/^(-?)0+(?=\d)/, '$1');
  return undefined;
}

/** A node whose visits are counted and bounded (both halves of the limit given). */
export const isVisitLimited = (node: IvrNode | undefined) => node?.maxVisits !== undefined && node.onMaxVisits !== undefined;
