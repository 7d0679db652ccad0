/**
 * Rules between settings, checked by the loader once every value is read, so a contradiction is a
 * ConfigError at load time like any bad value, not a failure halfway through the daemon's start.
 */
import type { Settings } from './settings.js';

/** Each rule gives the ConfigError's message, or null when the settings agree. */
export const CROSS_FIELD_RULES: ReadonlyArray<(settings: Settings) => string | null> = [
  // Without a site CA, "ca" would check certificates against the public roots, with host names
  // unchecked: any web server's certificate would pass for one of the site's hosts.
  (s) =>
    s.secureTrust === 'ca' && s.secureCaFile === ''
      ? '"secure trust" = ca needs "secure ca file": the site CA certificate (PEM) host certificates must be signed by.'
      : null,
];
