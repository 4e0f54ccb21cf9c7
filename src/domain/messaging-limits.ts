/**
 * Meta's messaging limits: how many unique WhatsApp users a business may start conversations with
 * (template messages outside a customer service window) in a moving 24 h. Pure: safe for workflows.
 */

export const MESSAGING_LIMIT_TIERS = ['TIER_250', 'TIER_2K', 'TIER_10K', 'TIER_100K', 'TIER_UNLIMITED'] as const;
export type MessagingLimitTier = (typeof MESSAGING_LIMIT_TIERS)[number];

/** New business portfolios start at 250. */
export const DEFAULT_MESSAGING_LIMIT_TIER: MessagingLimitTier = 'TIER_250';

const users: Record<MessagingLimitTier, number | null> = {
  TIER_250: 250,
  TIER_2K: 2_000,
  TIER_10K: 10_000,
  TIER_100K: 100_000,
  TIER_UNLIMITED: null,
};

/** Unique users per rolling 24 h, or null when unlimited. */
export const messagingLimitOf = (tier: MessagingLimitTier): number | null => users[tier];

/** The reason a send shows while it waits for messaging-limit capacity. */
export const MESSAGING_LIMIT_REASON = 'waiting_messaging_limit';

/** Skip reason of a contact Meta capped (131049) recently: no send of the channel may message it yet. */
export const USER_CAP_SKIP_REASON = 'skipped_user_cap';
