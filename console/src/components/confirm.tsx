import { useEffect, useRef } from 'preact/hooks';

/** A modal confirmation (native <dialog>: focus is trapped and Esc cancels). */
export function Confirm({ text, confirmLabel, onConfirm, onCancel }: { text: string; confirmLabel: string; onConfirm: () => void; onCancel: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    ref.current?.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-text" onCancel={onCancel}>
      <p id="confirm-text">{text}</p>
      <div class="controls">
        <button type="button" onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" class="secondary" onClick={onCancel}>
          Cancelar
        </button>
      </div>
    </dialog>
  );
}
