/** Lower-case, accent-free, single-spaced text: for names compared or searched "ignoring case and accents". */
export function textKey(value: string): string {
  return value
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}
