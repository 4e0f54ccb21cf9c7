/**
 * Buffer#utf8Write, which Buffer#write calls after checking its arguments: for the short strings
 * of a contact row, the checks cost about as much as the writing. Writes as Buffer.from would (a
 * lone surrogate becomes U+FFFD); returns the bytes written. The caller makes room: at most three
 * bytes per UTF-16 unit.
 */
export const utf8Write = (b: Buffer, value: string, at: number): number =>
  (b as Buffer & { utf8Write(value: string, offset: number): number }).utf8Write(value, at);
