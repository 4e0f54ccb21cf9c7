import { useState } from 'preact/hooks';
import { api, fieldErrors, problemText, type Schemas } from '../api/client';
import { Field, invalid } from '../components/field';
import { Notice } from '../components/status';
import * as Defaults from '../../../src/domain/dialer/strategy-defaults';

type Strategy = Schemas['DialStrategy'];

/** The seed's names of the outcomes; an outcome the API adds later shows under its own name until it has one here. */
const OUTCOME_NAMES: Record<string, string> = {
  answered: 'Atendida',
  busy: 'Ocupado',
  no_answer: 'Não atende',
  rejected: 'Rejeitada',
  invalid_number: 'Número inválido',
  network_failure: 'Falha de rede',
  answering_machine: 'Caixa postal',
  abandoned: 'Abandonada (sem agente)',
  unknown: 'Indefinido',
};
const DAYS = ['Dom', 'Seg', 'Ter', 'Qua', 'Qui', 'Sex', 'Sáb'];

interface Config {
  maxAttemptsPerContact: number;
  maxAttemptsPerPhone: number;
  outcomes: Record<string, Defaults.OutcomeAction>;
  phoneOrder: { columns: number[]; nextPhoneAfterFailure: boolean };
  callingWindow: { timeZone: string; days: number[]; ranges: { from: string; to: string }[]; excludeHolidays: boolean; stateTelemarketingHours: boolean };
  pacing: { channels: number; callsPerSecond: number };
  ringTimeoutSec: number;
  callerId?: string;
}

/** A new strategy starts from the API's own defaults (one source: src/domain/dialer/strategy-defaults.ts), shown so they can be changed. */
const defaults = (): Config => ({
  ...Defaults.DEFAULT_ATTEMPTS,
  outcomes: { ...Defaults.DEFAULT_OUTCOME_ACTIONS },
  phoneOrder: { ...Defaults.DEFAULT_PHONE_ORDER, columns: [...Defaults.DEFAULT_PHONE_ORDER.columns] },
  callingWindow: {
    ...Defaults.DEFAULT_CALLING_WINDOW,
    days: [...Defaults.DEFAULT_CALLING_WINDOW.days],
    ranges: Defaults.DEFAULT_CALLING_WINDOW.ranges.map((r) => ({ ...r })),
  },
  pacing: { channels: Defaults.DEFAULT_PACING.channels, callsPerSecond: Defaults.DEFAULT_PACING.callsPerSecond },
  ringTimeoutSec: Defaults.DEFAULT_RING_TIMEOUT_SEC,
});

/** Problems the API states beyond a field's shape, shown next to the field they are about. */
const fieldOfCode: Record<string, string> = { CALLER_ID_0303_REQUIRED: 'config.callerId', STRATEGY_NAME_TAKEN: 'name' };
const ptMessages: Record<string, string> = {
  CALLER_ID_0303_REQUIRED: 'Telemarketing ativo exige bina iniciada por 0303 (Anatel, Ato 10.413/2021).',
  STRATEGY_NAME_TAKEN: 'Já existe uma estratégia com este nome.',
};

function OutcomeTable({ outcomes, onChange }: { outcomes: Config['outcomes']; onChange: (o: Config['outcomes']) => void }) {
  return (
    <table class="data">
      <caption>Tentativa × Status</caption>
      <thead>
        <tr>
          <th scope="col">Status da chamada</th>
          <th scope="col">Ação</th>
          <th scope="col">Nova tentativa após (min)</th>
        </tr>
      </thead>
      <tbody>
        {Object.entries(outcomes).map(([outcome, current]) => {
          const name = OUTCOME_NAMES[outcome] ?? outcome;
          return (
            <tr key={outcome}>
              <th scope="row">{name}</th>
              <td>
                <select
                  aria-label={`Ação para ${name}`}
                  value={current.action}
                  onChange={(e) => {
                    const action = (e.currentTarget as HTMLSelectElement).value;
                    onChange({ ...outcomes, [outcome]: action === 'finish' ? { action } : { action: 'retry', afterMinutes: 30 } });
                  }}
                >
                  <option value="finish">Finalizar contato</option>
                  <option value="retry">Tentar de novo</option>
                </select>
              </td>
              <td>
                {current.action === 'retry' && (
                  <input
                    type="number"
                    min={0}
                    aria-label={`Minutos até nova tentativa para ${name}`}
                    value={current.afterMinutes}
                    onInput={(e) =>
                      onChange({ ...outcomes, [outcome]: { action: 'retry', afterMinutes: Number((e.currentTarget as HTMLInputElement).value) } })
                    }
                  />
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** Create or edit a dialing strategy; the API's validation errors appear next to their fields. */
export function StrategyForm({ strategy, onSaved }: { strategy?: Strategy; onSaved: (s: Strategy) => void }) {
  const [name, setName] = useState(strategy?.name ?? '');
  const [telemarketing, setTelemarketing] = useState(strategy?.telemarketing ?? false);
  const [config, setConfig] = useState<Config>(() => ({ ...defaults(), ...(strategy?.config as Partial<Config> | undefined) }));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [message, setMessage] = useState<string>();
  const set = <K extends keyof Config>(key: K, value: Config[K]) => setConfig({ ...config, [key]: value });
  const num = (e: Event) => Number((e.currentTarget as HTMLInputElement).value);

  const save = async (event: Event) => {
    event.preventDefault();
    setMessage(undefined);
    const body = { name, telemarketing, config: { ...config, callerId: config.callerId || undefined } };
    const result = strategy
      ? await api.PUT('/v1/dialer/strategies/{id}', { params: { path: { id: strategy.id } }, body })
      : await api.POST('/v1/dialer/strategies', { body });
    if (result.data) {
      setErrors({});
      onSaved(result.data);
      return;
    }
    const problem = result.error as Schemas['Problem'];
    const field = fieldOfCode[problem.code];
    setErrors(field ? { [field]: ptMessages[problem.code] ?? problem.detail } : fieldErrors(problem));
    if (!field && !problem.errors?.length) setMessage(problemText(problem));
  };
  const err = (field: string) => errors[field];
  return (
    <form class="panel grid-form" onSubmit={save} noValidate aria-label={strategy ? `Editar estratégia ${strategy.name}` : 'Nova estratégia'}>
      <h2 style="grid-column: 1 / -1">{strategy ? `Editar: ${strategy.name}` : 'Nova estratégia'}</h2>
      <Field id="st-name" label="Nome" error={err('name')}>
        <input id="st-name" value={name} onInput={(e) => setName((e.currentTarget as HTMLInputElement).value)} {...invalid('st-name', err('name'))} />
      </Field>
      <Field id="st-tmkt" label="Telemarketing ativo">
        <input id="st-tmkt" type="checkbox" checked={telemarketing} onChange={(e) => setTelemarketing((e.currentTarget as HTMLInputElement).checked)} />
      </Field>
      <Field id="st-caller" label="Bina (caller id)" error={err('config.callerId')}>
        <input
          id="st-caller"
          inputMode="numeric"
          value={config.callerId ?? ''}
          onInput={(e) => set('callerId', (e.currentTarget as HTMLInputElement).value)}
          {...invalid('st-caller', err('config.callerId'))}
        />
      </Field>
      <Field id="st-max-contact" label="Tentativas por contato" error={err('config.maxAttemptsPerContact')}>
        <input
          id="st-max-contact"
          type="number"
          value={config.maxAttemptsPerContact}
          onInput={(e) => set('maxAttemptsPerContact', num(e))}
          {...invalid('st-max-contact', err('config.maxAttemptsPerContact'))}
        />
      </Field>
      <Field id="st-max-phone" label="Tentativas por telefone" error={err('config.maxAttemptsPerPhone')}>
        <input
          id="st-max-phone"
          type="number"
          value={config.maxAttemptsPerPhone}
          onInput={(e) => set('maxAttemptsPerPhone', num(e))}
          {...invalid('st-max-phone', err('config.maxAttemptsPerPhone'))}
        />
      </Field>
      <Field id="st-order" label="Ordem dos telefones (colunas, ex.: 1, 2, 3)" error={err('config.phoneOrder.columns')}>
        <input
          id="st-order"
          value={config.phoneOrder.columns.map((c) => c + 1).join(', ')}
          onChange={(e) =>
            set('phoneOrder', {
              ...config.phoneOrder,
              columns: (e.currentTarget as HTMLInputElement).value
                .split(/[,;\s]+/)
                .filter(Boolean)
                .map((v) => Number(v) - 1),
            })
          }
          {...invalid('st-order', err('config.phoneOrder.columns'))}
        />
      </Field>
      <Field id="st-from" label="Horário de discagem: das" error={err('config.callingWindow.ranges.0.from') ?? err('config.callingWindow.ranges.0')}>
        <input
          id="st-from"
          type="time"
          value={config.callingWindow.ranges[0]?.from}
          onInput={(e) =>
            set('callingWindow', {
              ...config.callingWindow,
              ranges: [{ ...config.callingWindow.ranges[0], from: (e.currentTarget as HTMLInputElement).value }],
            })
          }
        />
      </Field>
      <Field id="st-to" label="às" error={err('config.callingWindow.ranges.0.to')}>
        <input
          id="st-to"
          type="time"
          value={config.callingWindow.ranges[0]?.to}
          onInput={(e) =>
            set('callingWindow', { ...config.callingWindow, ranges: [{ ...config.callingWindow.ranges[0], to: (e.currentTarget as HTMLInputElement).value }] })
          }
        />
      </Field>
      <fieldset style="grid-column: 1 / -1">
        <legend>Dias de discagem</legend>
        {DAYS.map((day, i) => (
          <label key={day} class="inline">
            <input
              type="checkbox"
              checked={config.callingWindow.days.includes(i)}
              onChange={(e) => {
                const on = (e.currentTarget as HTMLInputElement).checked;
                const days = on ? [...config.callingWindow.days, i].sort() : config.callingWindow.days.filter((d) => d !== i);
                set('callingWindow', { ...config.callingWindow, days });
              }}
            />{' '}
            {day}
          </label>
        ))}
        {err('config.callingWindow.days') && <p class="field-error">{err('config.callingWindow.days')}</p>}
      </fieldset>
      <Field id="st-holidays" label="Não discar em feriados nacionais">
        <input
          id="st-holidays"
          type="checkbox"
          checked={config.callingWindow.excludeHolidays}
          onChange={(e) => set('callingWindow', { ...config.callingWindow, excludeHolidays: (e.currentTarget as HTMLInputElement).checked })}
        />
      </Field>
      <Field id="st-channels" label="Canais simultâneos" error={err('config.pacing.channels')}>
        <input
          id="st-channels"
          type="number"
          value={config.pacing.channels}
          onInput={(e) => set('pacing', { ...config.pacing, channels: num(e) })}
          {...invalid('st-channels', err('config.pacing.channels'))}
        />
      </Field>
      <Field id="st-cps" label="Chamadas por segundo" error={err('config.pacing.callsPerSecond')}>
        <input
          id="st-cps"
          type="number"
          step="0.1"
          value={config.pacing.callsPerSecond}
          onInput={(e) => set('pacing', { ...config.pacing, callsPerSecond: num(e) })}
          {...invalid('st-cps', err('config.pacing.callsPerSecond'))}
        />
      </Field>
      <div style="grid-column: 1 / -1">
        <OutcomeTable outcomes={config.outcomes} onChange={(o) => set('outcomes', o)} />
      </div>
      {message && <Notice kind="error">{message}</Notice>}
      <button type="submit">Salvar estratégia</button>
    </form>
  );
}
