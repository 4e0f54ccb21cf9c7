import type { Client } from '@temporalio/client';
import { dialerStartCycleWorkflowId } from '../../src/domain/dialer/start-schedule';
import { dialerCampaignWorkflowId } from '../../src/workflows/dialer/messages';
import { exportWorkflowId, REPORT_RETENTION_ID } from '../../src/workflows/exports/messages';
import { accountWorkflowId } from '../../src/domain/mercadolivre';
import { importWorkflowId } from '../../src/workflows/imports/messages';
import { sendWorkflowId } from '../../src/workflows/broadcast/messages';
import {
  connectMercadoLivre,
  createDialerCampaign,
  createScheduledSend,
  ML_SELLER,
  startExport,
  startForeverWorkflow,
  startImport,
  startWebhookApplier,
  type JobStack,
} from '../helpers/jobs';
import { waitFor } from '../helpers/worker-process';

/**
 * One run of every workflow kind, in up to three steps so that the upgrade exercise can run them
 * on two commits: `queued` while no worker runs (what it is sent is in its first workflow task),
 * `begin` on the first worker (the current code, or an older commit's), `finish` on the current
 * code's worker. A scenario without `finish` runs whole on the first worker. Controls go by signal
 * before the current code (the names an older commit knows) and by Update and signal after.
 */
export interface Scenario {
  /** The history's file name: test/replay/histories/<dir>/<name>.json. */
  name: string;
  queued?(t: JobStack, names: Names): Promise<void>;
  begin(t: JobStack, names: Names): Promise<void>;
  finish?(t: JobStack): Promise<void>;
  /** The workflow whose history is kept (known once `begin` has run). */
  workflowId(): string;
}

/** Signal names of the code the first worker runs: the vocabulary, or what came before it. */
export interface Names {
  signal(kind: 'import' | 'export' | 'dialer' | 'broadcast', act: 'start' | 'pause' | 'resume' | 'stop' | 'cancel'): string;
}
export const vocabularyNames: Names = { signal: (_kind, act) => act };
/** Before the vocabulary (commit 6536bbc and earlier): `pause-signal` on sends, `cancel-signal` on imports and exports. */
export const legacyNames: Names = { signal: (kind, act) => (kind === 'dialer' ? act : `${act}-signal`) };

const by = { by: 'replay-capture' };
const handle = (t: JobStack, id: string) => t.stack.temporal.workflow.getHandle(id);
const query = <T = any>(t: JobStack, id: string) => handle(t, id).query<T>('progress');
const until = <T>(check: () => Promise<T | undefined | false>, what: string) => waitFor(check, what, 90_000, 100);
const ended = async (t: JobStack, id: string) => {
  await until(async () => (await handle(t, id).describe()).status.name !== 'RUNNING', `${id} to end`);
};

function importScenario(cancelled: boolean): Scenario {
  let id = '';
  return {
    name: cancelled ? 'import-cancelled' : 'import',
    queued: cancelled
      ? async (t, names) => {
          id = importWorkflowId(await startImport(t, 'Replay importação cancelada'));
          await handle(t, id).signal(names.signal('import', 'cancel'), by);
        }
      : undefined,
    begin: async (t) => {
      if (!cancelled) id = importWorkflowId(await startImport(t, 'Replay importação', 25));
      await ended(t, id);
    },
    workflowId: () => id,
  };
}

function exportScenario(cancelled: boolean): Scenario {
  let id = '';
  return {
    name: cancelled ? 'export-cancelled' : 'export',
    queued: cancelled
      ? async (t, names) => {
          id = exportWorkflowId(await startExport(t));
          await handle(t, id).signal(names.signal('export', 'cancel'), by);
        }
      : undefined,
    begin: async (t) => {
      if (!cancelled) id = exportWorkflowId(await startExport(t));
      await ended(t, id);
    },
    workflowId: () => id,
  };
}

/** Started and paused on the first worker (calls in flight); resumed by Update on the current one and dialled to the end. */
function dialerCampaignScenario(): Scenario {
  let id = '';
  let campaignId = '';
  return {
    name: 'dialer-campaign',
    begin: async (t, names) => {
      t.ari.configure({ ringMs: [2_000, 2_000], talkMs: [20, 40] });
      campaignId = await createDialerCampaign(t, 'Replay discador', 4);
      id = dialerCampaignWorkflowId(campaignId);
      const before = t.ari.stats().originatesAccepted;
      await handle(t, id).signal(names.signal('dialer', 'start'), by);
      await until(async () => t.ari.stats().originatesAccepted > before, 'the first calls');
      await handle(t, id).signal(names.signal('dialer', 'pause'), by);
      await until(async () => (await query(t, id)).status === 'paused', 'the campaign paused');
    },
    finish: async (t) => {
      t.ari.configure({ ringMs: [20, 40], talkMs: [20, 40] });
      await handle(t, id).executeUpdate('resume', { args: [by] });
      await ended(t, id);
      const result = await handle(t, id).result();
      if (result.status !== 'completed') throw new Error(`dialer campaign ended ${result.status}`);
    },
    workflowId: () => id,
  };
}

/** A campaign with a start time: its start Schedule runs `dialerCycleWorkflow`, which starts it. */
function scheduledCampaignScenarios(): [Scenario, Scenario] {
  let campaignId = '';
  let cycleId = '';
  const campaign: Scenario = {
    name: 'dialer-campaign-scheduled',
    begin: async (t) => {
      t.ari.configure({ ringMs: [20, 40], talkMs: [20, 40] });
      campaignId = await createDialerCampaign(t, 'Replay discador agendado', 2, { startAt: new Date(Date.now() + 3_000).toISOString() });
      cycleId = await until(async () => firstCycle(t.stack.temporal, campaignId), 'the start Schedule to fire');
      await ended(t, cycleId);
      await ended(t, dialerCampaignWorkflowId(campaignId));
    },
    workflowId: () => dialerCampaignWorkflowId(campaignId),
  };
  const cycle: Scenario = { name: 'dialer-cycle', begin: async () => undefined, workflowId: () => cycleId };
  return [campaign, cycle];
}

async function firstCycle(temporal: Client, campaignId: string): Promise<string | undefined> {
  for await (const wf of temporal.workflow.list({
    query: `WorkflowType="dialerCycleWorkflow" AND WorkflowId STARTS_WITH "${dialerStartCycleWorkflowId(campaignId)}"`,
  })) {
    return wf.workflowId;
  }
  return undefined;
}

/** Scheduled and paused on the first worker; on the current one a retired name (ignored), resume, start now, and sent to the end. */
function broadcastScenario(): Scenario {
  let id = '';
  return {
    name: 'broadcast-send',
    begin: async (t, names) => {
      id = sendWorkflowId(await createScheduledSend(t, 'Replay envio'));
      await handle(t, id).signal(names.signal('broadcast', 'pause'), by);
      await until(async () => (await query(t, id)).state === 'paused', 'the send paused');
    },
    finish: async (t) => {
      await handle(t, id).signal('pause-signal', by);
      await handle(t, id).executeUpdate('resume', { args: [by] });
      await handle(t, id).signal('start', by);
      await ended(t, id);
      const result = await handle(t, id).result();
      if (result.state !== 'completed') throw new Error(`send ended ${result.state}`);
    },
    workflowId: () => id,
  };
}

const activitiesCompleted = async (t: JobStack, id: string) =>
  (await handle(t, id).fetchHistory()).events?.filter((e) => e.activityTaskCompletedEventAttributes).length ?? 0;

/** Applies slices on the first worker; paused by Update and resumed by signal on the current one, then terminated. */
function webhookApplierScenario(): Scenario {
  let id = '';
  return {
    name: 'webhook-applier',
    begin: async (t) => {
      id = await startWebhookApplier(t);
      await until(async () => (await activitiesCompleted(t, id)) >= 2, 'two slices applied');
    },
    finish: async (t) => {
      await handle(t, id).executeUpdate('pause', { args: [by] });
      await until(async () => (await query(t, id)).applying === false, 'the slice in flight to end');
      const slices = await activitiesCompleted(t, id);
      await handle(t, id).signal('resume', by);
      await until(async () => (await activitiesCompleted(t, id)) > slices, 'a slice after resume');
      await handle(t, id).terminate('replay capture over');
    },
    workflowId: () => id,
  };
}

/**
 * Mercado Livre, whole on the current code (kinds newer than what the upgrade exercise may begin
 * on): the processor, with short slices, applies two questions' notifications and is terminated;
 * the seller's account, connected by the OAuth callback, refreshes once when asked by the
 * `fresh-token` Update and ends when the account is disconnected (`stop`).
 */
function mercadoLivreScenarios(): [Scenario, Scenario] {
  let processorId = '';
  let accountId = '';
  const db = (t: JobStack) => t.stack.database.db;
  const applied = async (t: JobStack, questionId: number) => {
    const row = await db(t).selectFrom('ml_notifications').select('state').where('resource', '=', `/questions/${questionId}`).executeTakeFirst();
    const stored = await db(t).selectFrom('ml_questions').select('id').where('ml_question_id', '=', String(questionId)).executeTakeFirst();
    return row?.state === 'applied' && stored !== undefined;
  };
  const notifications: Scenario = {
    name: 'ml-notifications',
    begin: async () => undefined,
    finish: async (t) => {
      processorId = await startForeverWorkflow(t, 'mercadoLivreNotificationsWorkflow', 'ml-notifications', 'ml-notifications', { sliceMs: 300 });
      accountId = await connectMercadoLivre(t);
      for (const text of ['Tem na cor preta?', 'Entrega em Curitiba?']) {
        const q = t.ml.ask({ sellerId: ML_SELLER, text });
        await until(() => applied(t, q.id), `the notification of question ${q.id} applied`);
      }
      const slices = await activitiesCompleted(t, processorId);
      await until(async () => (await activitiesCompleted(t, processorId)) > slices, 'the slice that applied them to end');
      await handle(t, processorId).terminate('replay capture over');
    },
    workflowId: () => processorId,
  };
  const account: Scenario = {
    name: 'ml-account',
    begin: async () => undefined,
    finish: async (t) => {
      const id = accountWorkflowId(accountId);
      const connected = await until(async () => {
        const p = await query(t, id);
        return p.status === 'connected' && p.tokenExpiresAt ? p : undefined;
      }, 'the account connected');
      const fresh = await handle(t, id).executeUpdate<{ generation: number }, [{ failedGeneration: number }]>('fresh-token', {
        args: [{ failedGeneration: connected.generation }],
      });
      if (fresh.generation <= connected.generation) throw new Error(`no fresh token: generation ${fresh.generation}`);
      const res = await t.api('DELETE', `/v1/mercadolivre/accounts/${accountId}`);
      if (res.statusCode !== 200) throw new Error(`disconnect answered ${res.statusCode}: ${res.body}`);
      await ended(t, id);
      const result = await handle(t, id).result();
      if (result.status !== 'disconnected' || result.refreshes !== 1) throw new Error(`account ended ${JSON.stringify(result)}`);
    },
    workflowId: () => accountWorkflowId(accountId),
  };
  return [notifications, account];
}

/**
 * Report retention, whole on the current code: started as the API starts it but sweeping every
 * half second; a report run is made through the API, its file expired, and a sweep deletes it.
 */
function reportRetentionScenario(): Scenario {
  let id = '';
  return {
    name: 'report-retention',
    begin: async () => undefined,
    finish: async (t) => {
      id = await startForeverWorkflow(t, 'reportRetentionWorkflow', REPORT_RETENTION_ID, 'report-retention', { everyMs: 500 });
      const window = { from: new Date(Date.now() - 3600_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
      const created = await t.api('POST', '/v1/reports/interactions/runs', { filters: window });
      if (created.statusCode !== 202) throw new Error(`report run answered ${created.statusCode}: ${created.body}`);
      const runId: string = created.json().id;
      await until(async () => (await t.api('GET', `/v1/reports/runs/${runId}`)).json().status === 'completed', 'the report run completed');
      const db = t.stack.database.db;
      await db
        .updateTable('exports')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', runId)
        .execute();
      await until(
        async () => (await db.selectFrom('exports').select('file_deleted_at').where('id', '=', runId).executeTakeFirst())?.file_deleted_at,
        'the file deleted',
      );
      const sweeps = await activitiesCompleted(t, id);
      await until(async () => (await activitiesCompleted(t, id)) > sweeps, 'a sweep after the deleting one');
      await handle(t, id).terminate('replay capture over');
    },
    workflowId: () => id,
  };
}

/** Every workflow kind the worker runs, at least once (test/integration/replay.test.ts checks the list). */
export function allScenarios(): Scenario[] {
  return [
    importScenario(false),
    importScenario(true),
    exportScenario(false),
    exportScenario(true),
    dialerCampaignScenario(),
    ...scheduledCampaignScenarios(),
    broadcastScenario(),
    webhookApplierScenario(),
    ...mercadoLivreScenarios(),
    reportRetentionScenario(),
  ];
}
