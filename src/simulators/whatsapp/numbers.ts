/** `+55 (48) 99828-8774` → `5548998288774`; undefined when it cannot be a phone number. */
export function recipientDigits(to: unknown): string | undefined {
  if (typeof to !== 'string') return undefined;
  const digits = to.replace(/[\s()+\-.]/g, '');
  return /^\d{8,15}$/.test(digits) ? digits : undefined;
}

const brazilianMobile = /^55(\d{2})9(\d{8})$/;

/**
 * The wa_id WhatsApp reports for a recipient. Brazilian accounts registered before the ninth digit
 * keep the 12-digit id; which ones cannot be predicted, so the simulator is told by pattern.
 */
export function waIdFor(digits: string, withoutNinthDigit: readonly RegExp[]): string {
  const mobile = brazilianMobile.exec(digits);
  if (!mobile || !withoutNinthDigit.some((pattern) => pattern.test(digits))) return digits;
  return `55${mobile[1]}${mobile[2]}`;
}
