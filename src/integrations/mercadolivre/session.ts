import { MercadoLivreApiError } from './client';

/**
 * Calls the API with a seller's current access token. On a 401 it never refreshes by itself: it
 * asks the account's single refresher (`freshToken`, the account workflow's Update) for a token
 * newer than the one that failed, and tries once more. A second 401 is final.
 */
export interface SellerToken {
  accessToken: string;
  /** Increases with each refresh; tells the refresher which token failed. */
  generation: number;
}

export interface SellerSessionDeps {
  currentToken(accountId: string): Promise<SellerToken>;
  freshToken(accountId: string, failedGeneration: number): Promise<void>;
}

export class AccountNeedsAuthorizationError extends Error {
  constructor(public readonly accountId: string) {
    super(`Mercado Livre account ${accountId} needs the seller to authorize again`);
    this.name = 'AccountNeedsAuthorizationError';
  }
}

export function createSellerSession(deps: SellerSessionDeps) {
  return async function withSellerToken<T>(accountId: string, call: (accessToken: string) => Promise<T>): Promise<T> {
    const first = await deps.currentToken(accountId);
    try {
      return await call(first.accessToken);
    } catch (error) {
      if (!(error instanceof MercadoLivreApiError) || error.status !== 401) throw error;
    }
    await deps.freshToken(accountId, first.generation);
    const second = await deps.currentToken(accountId);
    return call(second.accessToken);
  };
}

export type WithSellerToken = ReturnType<typeof createSellerSession>;
