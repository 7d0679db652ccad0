/**
 * Account and group names: a domain rule shared by the accounts, the logon gate and the
 * `remote call groups` setting, so it lives below all three.
 */

/** Account and group names: printable, no separators that would confuse the CLI or the log. */
export function accountNameProblem(name: unknown, what = 'user name'): string | null {
  if (typeof name !== 'string') return `The ${what} must be a string.`;
  if (!/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,63}$/u.test(name) || name.endsWith(' ')) {
    return `The ${what} must be 1-64 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit.`;
  }
  return null;
}
