/**
 * The fixed values of the enum settings. They live in config, the layer below the security rules
 * and transports that act on them, so those take the types from here and the loader checks them
 * against the same lists.
 */

/** How a client decides to trust a host's key: pinned on first use, pinned list only, or a site CA. */
export const SECURE_TRUST = ['tofu', 'known', 'ca'] as const;
export type SecureTrust = (typeof SECURE_TRUST)[number];

/** Samba's server roles; the role picks the original's default groups for remote calls. */
export const SERVER_ROLES = ['standalone server', 'member server', 'domain controller'] as const;
export type ServerRole = (typeof SERVER_ROLES)[number];

/** What the legacy, unauthenticated wire (SMB messages, mailslot broadcasts) may deliver. */
export const LEGACY_INPUT = ['all', 'subnets', 'none'] as const;
export type LegacyInput = (typeof LEGACY_INPUT)[number];

/** The sources `name resolve order` asks in turn (Samba's, without DNS; and the organisation hub). */
export const NAME_SOURCES = ['lmhosts', 'wins', 'bcast', 'hub'] as const;
export type NameSource = (typeof NAME_SOURCES)[number];
