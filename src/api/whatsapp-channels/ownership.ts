import type { Config } from '../../config';
import { DEFAULT_GRAPH_URL } from '../../db/whatsapp-channels';
import { createWhatsAppClient, WhatsAppApiError, WhatsAppTransportError } from '../../integrations/whatsapp/client';
import { ProblemError } from '../problem';

/** What an HTTP header value may hold (visible ASCII): a token with anything else can never be sent. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;

export function refuseUnsendableToken(accessToken: string): void {
  if (!HEADER_SAFE.test(accessToken)) {
    throw new ProblemError(
      422,
      'ACCESS_TOKEN_INVALID',
      'The access token holds characters an HTTP header cannot carry (spaces, line breaks, accents…); paste it again as Meta shows it.',
      {
        errors: [{ field: 'accessToken', in: 'body', message: 'only visible ASCII characters' }],
      },
    );
  }
}

/**
 * A phone number belongs to one WhatsApp business account: the number must be among
 * `GET /{waba-id}/phone_numbers` read with the given token, or the channel is refused. This keeps
 * a tenant from registering (and throttling, or reading the webhooks of) a number it does not own.
 */
export async function verifyNumberOwnership(config: Config, input: { accessToken: string; wabaId: string; phoneNumberId: string }): Promise<void> {
  refuseUnsendableToken(input.accessToken);
  const client = createWhatsAppClient({
    baseUrl: config.WHATSAPP_GRAPH_URL ?? DEFAULT_GRAPH_URL,
    version: config.WHATSAPP_GRAPH_VERSION,
    accessToken: input.accessToken,
    connections: 1,
  });
  let numbers;
  try {
    numbers = await client.listPhoneNumbers({ wabaId: input.wabaId });
  } catch (error) {
    if (error instanceof WhatsAppApiError) {
      if (error.code === 190 || error.httpStatus === 401) {
        throw new ProblemError(422, 'WHATSAPP_TOKEN_INVALID', `Meta refused the access token: (#${error.code}) ${error.body.message}`, {
          whatsappCode: error.code,
        });
      }
      if (error.code === 100 || error.code === 10 || error.code === 200 || (error.code > 200 && error.code < 300)) {
        throw new ProblemError(
          422,
          'WHATSAPP_ACCOUNT_NOT_ACCESSIBLE',
          `The WhatsApp business account ${input.wabaId} cannot be read with this token: (#${error.code}) ${error.body.message}`,
          { whatsappCode: error.code },
        );
      }
      throw new ProblemError(502, 'WHATSAPP_API_ERROR', `Meta refused the phone number list: (#${error.code}) ${error.body.message}`, {
        whatsappCode: error.code,
      });
    }
    if (error instanceof WhatsAppTransportError)
      throw new ProblemError(502, 'WHATSAPP_UNREACHABLE', `The ownership of the number could not be checked: ${error.message}`);
    throw error;
  } finally {
    await client.close();
  }
  if (!numbers.some((n) => n.id === input.phoneNumberId)) {
    throw new ProblemError(
      422,
      'WHATSAPP_NUMBER_NOT_IN_ACCOUNT',
      `The phone number id ${input.phoneNumberId} is not a number of the WhatsApp business account ${input.wabaId} (as this token reads it).`,
      {
        errors: [{ field: 'phoneNumberId', in: 'body', message: 'not a number of the business account' }],
      },
    );
  }
}
