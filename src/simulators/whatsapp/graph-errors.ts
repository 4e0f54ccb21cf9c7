import { randomSlice } from './random-pool';

interface CatalogueEntry {
  title: string;
  httpStatus: number;
  details: string;
}

function entry(title: string, httpStatus: number, details = title): CatalogueEntry {
  return { title, httpStatus, details };
}

/** Titles and HTTP statuses as the Cloud API answers them (shared/whatsapp-errors.md). */
const catalogue: Record<number, CatalogueEntry> = {
  0: entry('AuthException', 401, 'We were unable to authenticate the app user.'),
  1: entry('API Unknown', 500, 'Invalid request or possible server error.'),
  2: entry('API Service', 503, 'Temporary due to downtime or due to being overloaded.'),
  3: entry('API Method', 403, 'Capability or permissions issue.'),
  4: entry('API Too Many Calls', 400, 'The app has reached its API call rate limit.'),
  10: entry('Permission Denied', 403, 'Permission is either not granted or has been removed.'),
  100: entry('Invalid parameter', 400),
  190: entry('Access token has expired', 401, 'Your access token has expired or is invalid.'),
  200: entry('API Permission', 403, 'Permission is either not granted or has been removed.'),
  368: entry('Temporarily blocked for policies violations', 403),
  80007: entry('Rate limit issues', 400, 'The WhatsApp Business Account has reached its rate limit.'),
  130429: entry('Rate limit hit', 400, 'Cloud API message throughput has been reached.'),
  130472: entry("User's number is part of an experiment", 400),
  130497: entry('Business account is restricted from messaging users in this country', 403),
  131000: entry('Something went wrong', 500, 'Message failed to send due to an unknown error.'),
  131008: entry('Required parameter is missing', 400),
  131009: entry('Parameter value is not valid', 400),
  131016: entry('Service unavailable', 503, 'A service is temporarily unavailable.'),
  131026: entry('Message undeliverable', 400, 'Unable to deliver message.'),
  131031: entry('Business Account locked', 403),
  131042: entry('Business eligibility payment issue', 400),
  131047: entry('Re-engagement message', 400, 'More than 24 hours have passed since the recipient last replied.'),
  131048: entry('Spam rate limit hit', 400, 'Message failed to send because there are restrictions on how many messages can be sent from this phone number.'),
  131049: entry('This message was not delivered to maintain healthy ecosystem engagement.', 400),
  131050: entry('Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.', 400),
  131051: entry('Unsupported message type', 400),
  131056: entry(
    '(Business Account, Consumer Account) pair rate limit hit',
    400,
    'Too many messages sent from the sender phone number to the same recipient phone number in a short period of time.',
  ),
  131057: entry('Account in maintenance mode', 503),
  132000: entry('Number of parameters does not match the expected number of params', 400),
  132001: entry('Template name does not exist in the translation', 404),
  132005: entry('Translated text too long', 400),
  132007: entry('Template Format Character Policy Violated', 400),
  132012: entry('Parameter format does not match format in the created template', 400),
  132015: entry('Template is Paused', 400),
  132016: entry('Template is Disabled', 400),
  133010: entry('Phone number Not Registered', 400),
};

export function describeCode(code: number): CatalogueEntry {
  return catalogue[code] ?? (code > 200 && code <= 299 ? catalogue[200] : undefined) ?? entry(`Error ${code}`, code >= 500 && code < 600 ? code : 400);
}

export function fbtraceId(): string {
  return randomSlice(8).toString('base64url');
}

/** The error body of a refused Graph request. */
export function graphErrorBody(code: number, details?: string) {
  const described = describeCode(code);
  return {
    httpStatus: described.httpStatus,
    body: {
      error: {
        message: `(#${code}) ${described.title}`,
        type: 'OAuthException',
        code,
        error_data: { messaging_product: 'whatsapp', details: details ?? described.details },
        fbtrace_id: fbtraceId(),
      },
    },
  };
}

/** The `errors[]` item of a `failed` status webhook. */
export function statusError(code: number) {
  const described = describeCode(code);
  return {
    code,
    title: described.title,
    message: described.title,
    error_data: { details: described.details },
    href: 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/',
  };
}
