import { useState } from 'preact/hooks';
import { Confirm } from './confirm';

export interface ControlSpec<C extends string> {
  command: C;
  label: string;
  confirm: string;
  /** The states in which the control is offered. */
  when: readonly string[];
}

/** Controles manuais: the buttons the state allows, each confirmed in a dialog before it runs. */
export function ManualControls<C extends string>({
  legend,
  specs,
  state,
  run,
}: {
  legend: string;
  specs: readonly ControlSpec<C>[];
  state?: string;
  run: (c: C) => void;
}) {
  const [asking, setAsking] = useState<ControlSpec<C>>();
  return (
    <fieldset class="controls">
      <legend class="sr-only">{legend}</legend>
      {specs
        .filter((c) => state && c.when.includes(state))
        .map((c) => (
          <button type="button" key={c.command} class={c.command === 'stop' ? 'danger' : undefined} onClick={() => setAsking(c)}>
            {c.label}
          </button>
        ))}
      {asking && (
        <Confirm
          text={asking.confirm}
          confirmLabel={`Sim, ${asking.label.toLowerCase()}`}
          onConfirm={() => {
            setAsking(undefined);
            run(asking.command);
          }}
          onCancel={() => setAsking(undefined)}
        />
      )}
    </fieldset>
  );
}
