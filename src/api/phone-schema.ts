import { z } from 'zod';

/**
 * A phone as people type it. The document states the characters the server keeps (digits) and the
 * ones it removes; the number itself (DDI, DDD, length, ninth digit) is checked by
 * validateBrazilPhone, whose refusal names the problem (422 PHONE_INVALID, or listed per phone).
 */
export const phoneText = z
  .string()
  .max(40)
  .meta({
    pattern: '^[0-9\\s+().-]+$',
    description:
      'Brazilian phone: DDI 55 + DDD + number, landline 12 digits, mobile 13 (with the ninth digit 9); spaces, +, -, ., ( ) are removed. ' +
      'Anything else is refused with the reason.',
  });
