import type { ComponentChildren } from 'preact';

/** A labelled input with its error right below it (aria-describedby ties the two for screen readers). */
export function Field({ id, label, error, children }: { id: string; label: string; error?: string; children: ComponentChildren }) {
  return (
    <>
      <label for={id}>{label}</label>
      <div>
        {children}
        {error && (
          <p class="field-error" id={`${id}-error`} role="alert">
            {error}
          </p>
        )}
      </div>
    </>
  );
}

/** Props that mark an input invalid and point at its error. */
export const invalid = (id: string, error?: string) => (error ? { 'aria-invalid': true, 'aria-describedby': `${id}-error` } : {});
